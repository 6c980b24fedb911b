"""cXML documents shaped like those SAP Ariba, Coupa and Oracle send (written from the cXML
1.2 specification): Ariba Network headers with NetworkID and DUNS credentials, the user in
Extrinsic fields, edit and inspect with ItemOut lines, and two hostile documents."""
from xml.sax.saxutils import escape

DOCTYPE = '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">'


def header(buyer_network_id, buyer_duns, sender_identity, secret,
           user_agent="Ariba Network Procurement 1.0"):
    return f"""<Header>
    <From>
      <Credential domain="NetworkID"><Identity>{escape(buyer_network_id)}</Identity></Credential>
      <Credential domain="DUNS"><Identity>{escape(buyer_duns)}</Identity></Credential>
    </From>
    <To>
      <Credential domain="NetworkID"><Identity>AN01000000777</Identity></Credential>
    </To>
    <Sender>
      <Credential domain="NetworkID">
        <Identity>{escape(sender_identity)}</Identity>
        <SharedSecret>{escape(secret)}</SharedSecret>
      </Credential>
      <UserAgent>{escape(user_agent)}</UserAgent>
    </Sender>
  </Header>"""


def item_out(part, quantity, price=None, currency="CAD", aux=None, line=1, description="",
             unspsc="43211503"):
    aux_el = f"<SupplierPartAuxiliaryID>{escape(aux)}</SupplierPartAuxiliaryID>" if aux else ""
    detail = ""
    if price is not None:
        detail = f"""<ItemDetail>
          <UnitPrice><Money currency="{currency}">{price}</Money></UnitPrice>
          <Description xml:lang="en">{escape(description or part)}</Description>
          <UnitOfMeasure>EA</UnitOfMeasure>
          <Classification domain="UNSPSC">{unspsc}</Classification>
        </ItemDetail>"""
    return f"""<ItemOut quantity="{quantity}" lineNumber="{line}">
        <ItemID><SupplierPartID>{escape(part)}</SupplierPartID>{aux_el}</ItemID>
        {detail}
      </ItemOut>"""


def setup_request(creds, *, operation="create", cookie="1CX3L4843PPZO", post_url,
                  email="buyer@example.test", items=(), payload="1233444-2001@ariba.acme.com"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{DOCTYPE}
<cXML payloadID="{payload}" timestamp="2026-11-30T08:15:00-05:00" xml:lang="en-US">
  {header(*creds)}
  <Request deploymentMode="production">
    <PunchOutSetupRequest operation="{operation}">
      <BuyerCookie>{escape(cookie)}</BuyerCookie>
      <Extrinsic name="UserEmail">{escape(email)}</Extrinsic>
      <Extrinsic name="UniqueName">jdoe</Extrinsic>
      <Extrinsic name="CostCenter">610</Extrinsic>
      <BrowserFormPost><URL>{escape(post_url)}</URL></BrowserFormPost>
      <Contact role="endUser">
        <Name xml:lang="en">Jane Doe</Name>
        <Email>{escape(email)}</Email>
      </Contact>
      <SupplierSetup><URL>https://procura.example/punchout</URL></SupplierSetup>
      <ShipTo>
        <Address addressID="TOR-HQ">
          <Name xml:lang="en">Acme Toronto</Name>
          <PostalAddress name="default">
            <DeliverTo>Jane Doe</DeliverTo>
            <Street>100 King St W</Street>
            <City>Toronto</City>
            <State>ON</State>
            <PostalCode>M5X 1A9</PostalCode>
            <Country isoCountryCode="CA">Canada</Country>
          </PostalAddress>
        </Address>
      </ShipTo>
      {''.join(items)}
    </PunchOutSetupRequest>
  </Request>
</cXML>
"""


def order_request(creds, *, order_id, items, total, currency="CAD", email="buyer@example.test",
                  order_type="new", payload="order-1@ariba.acme.com", mode="production"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{DOCTYPE}
<cXML payloadID="{payload}" timestamp="2026-11-30T09:00:00-05:00" xml:lang="en-US">
  {header(*creds)}
  <Request deploymentMode="{mode}">
    <OrderRequest>
      <OrderRequestHeader orderID="{escape(order_id)}" orderDate="2026-11-30T09:00:00-05:00" type="{order_type}">
        <Total><Money currency="{currency}">{total}</Money></Total>
        <ShipTo>
          <Address addressID="TOR-HQ">
            <Name xml:lang="en">Acme Toronto</Name>
            <PostalAddress name="default">
              <DeliverTo>Jane Doe</DeliverTo>
              <Street>100 King St W</Street>
              <Street>Floor 12</Street>
              <City>Toronto</City>
              <State>ON</State>
              <PostalCode>M5X 1A9</PostalCode>
              <Country isoCountryCode="CA">Canada</Country>
            </PostalAddress>
          </Address>
        </ShipTo>
        <BillTo>
          <Address addressID="AP">
            <Name xml:lang="en">Acme Accounts Payable</Name>
            <PostalAddress><Street>1 Finance Way</Street><City>Toronto</City>
              <PostalCode>M5X 1A1</PostalCode><Country isoCountryCode="CA">Canada</Country>
            </PostalAddress>
          </Address>
        </BillTo>
        <Comments xml:lang="en">Deliver to reception.</Comments>
        <Extrinsic name="UserEmail">{escape(email)}</Extrinsic>
      </OrderRequestHeader>
      {''.join(items)}
    </OrderRequest>
  </Request>
</cXML>
"""


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE cXML [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<cXML payloadID="x" timestamp="2026-11-30T08:15:00-05:00"><Header><From/><To/><Sender>
<Credential domain="NetworkID"><Identity>&lol9;</Identity><SharedSecret>x</SharedSecret></Credential>
</Sender></Header><Request><PunchOutSetupRequest operation="create"><BuyerCookie>1</BuyerCookie>
</PunchOutSetupRequest></Request></cXML>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE cXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<cXML payloadID="x" timestamp="2026-11-30T08:15:00-05:00"><Header><From/><To/><Sender>
<Credential domain="NetworkID"><Identity>&secret;</Identity><SharedSecret>x</SharedSecret></Credential>
</Sender></Header><Request><PunchOutSetupRequest operation="create"><BuyerCookie>1</BuyerCookie>
</PunchOutSetupRequest></Request></cXML>
"""
