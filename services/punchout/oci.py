"""SAP's Open Catalog Interface (OCI 4.0 and 5.0): the login fields a procurement system
sends when it opens the catalog, and the `NEW_ITEM-*[n]` fields the catalog posts back to
its `HOOK_URL`.

Login fields are read case-insensitively (`USERNAME`, `username`, …), from the query string
or the form body. Outbound fields follow the OCI field lengths (DESCRIPTION 40 characters,
the full text going to `NEW_ITEM-LONGTEXT_n:132[]`; VENDORMAT, MANUFACTMAT and
EXT_PRODUCT_ID 40; MATGROUP 10, where Procura puts the UNSPSC code; UNIT 3, an ISO code),
and end with the `~OkCode=ADDI`, `~TARGET` and `~CALLER=CTLG` fields the OCI expects.
"""
from dataclasses import dataclass
from decimal import Decimal

LOGIN_FIELDS = ("USERNAME", "PASSWORD", "HOOK_URL", "OCI_VERSION", "OPI_VERSION",
                "RETURNTARGET", "EMAIL", "FUNCTION", "PRODUCTID", "SEARCHSTRING")
# OCI field lengths (characters)
LENGTHS = {"DESCRIPTION": 40, "MATNR": 40, "MATGROUP": 10, "QUANTITY": 15, "UNIT": 3,
           "PRICE": 15, "PRICEUNIT": 9, "CURRENCY": 5, "LEADTIME": 5, "VENDORMAT": 40,
           "MANUFACTCODE": 10, "MANUFACTMAT": 40, "EXT_QUOTE_ID": 35, "EXT_QUOTE_ITEM": 10,
           "EXT_PRODUCT_ID": 40, "EXT_SCHEMA_TYPE": 10, "EXT_CATEGORY_ID": 60}


class OciError(Exception):
    """An OCI call Procura cannot take (missing HOOK_URL, an unsupported function)."""


@dataclass
class Login:
    username: str
    password: str
    hook_url: str
    version: str
    return_target: str
    email: str
    function: str


def read_login(fields: dict) -> Login:
    """The OCI login from the call's parameters (any case); HOOK_URL is required."""
    upper = {}
    for key, value in fields.items():
        key = str(key).strip().upper()
        if key in LOGIN_FIELDS and key not in upper:
            upper[key] = (value if isinstance(value, str) else str(value)).strip()
    hook = upper.get("HOOK_URL", "")
    if not hook:
        raise OciError("HOOK_URL is missing")
    function = upper.get("FUNCTION", "").upper()
    if function and function not in ("", "BROWSE"):
        # OCI 5 DETAIL, VALIDATE, SOURCING, BACKGROUND_SEARCH: not offered
        raise OciError(f"the OCI function {function} is not supported")
    return Login(username=upper.get("USERNAME", ""), password=upper.get("PASSWORD", ""),
                 hook_url=hook, version=upper.get("OCI_VERSION", "4.0"),
                 return_target=upper.get("RETURNTARGET", "") or "_top",
                 email=upper.get("EMAIL", ""), function=function)


def _cut(name, value):
    text = "" if value is None else str(value)
    limit = LENGTHS.get(name)
    return text[:limit] if limit else text


def _number(value) -> str:
    q = Decimal(str(value))
    return f"{q:.3f}" if q != q.to_integral_value() else str(q.quantize(Decimal(1)))


def item_fields(lines: list, currency: str, return_target: str = "_top") -> list:
    """[(name, value)] for the form posted to HOOK_URL, items numbered from 1. Each line is
    {part_number, aux_id, quote_id, quantity, unit_price, name, description, unit_of_measure,
    unspsc, manufacturer, mfg_part_number, lead_time_days?}."""
    out = []
    for n, line in enumerate(lines, 1):
        def put(name, value):
            if value is None or value == "":
                return
            out.append((f"NEW_ITEM-{name}[{n}]", _cut(name, value)))
        put("DESCRIPTION", line.get("name") or line.get("description") or line["part_number"])
        put("QUANTITY", _number(line["quantity"]))
        put("UNIT", line.get("unit_of_measure") or "EA")
        put("PRICE", f"{Decimal(str(line['unit_price'])):.2f}")
        put("PRICEUNIT", "1")
        put("CURRENCY", currency)
        put("LEADTIME", line.get("lead_time_days"))
        put("VENDORMAT", line["part_number"])
        put("MANUFACTMAT", line.get("mfg_part_number"))
        put("MANUFACTCODE", (line.get("manufacturer") or "")[:10])
        put("MATGROUP", line.get("unspsc"))
        put("EXT_SCHEMA_TYPE", "UNSPSC" if line.get("unspsc") else None)
        put("EXT_CATEGORY_ID", line.get("unspsc"))
        put("EXT_PRODUCT_ID", line["part_number"])
        put("EXT_QUOTE_ID", line.get("quote_id"))
        put("EXT_QUOTE_ITEM", line.get("line_number", n))
        text = line.get("description") or ""
        if len(text) > LENGTHS["DESCRIPTION"] or text != (line.get("name") or ""):
            if text:
                out.append((f"NEW_ITEM-LONGTEXT_{n}:132[]", text))
    out += [("~OkCode", "ADDI"), ("~TARGET", return_target or "_top"), ("~CALLER", "CTLG")]
    return out
