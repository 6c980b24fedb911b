"""Demo and benchmark data: a deterministic IT product catalog, and the demo company's contract.

`generate_products(n, seed=1)` yields n products as dicts with the CSV import columns (plus
epp_price for some): notebooks, desktops, monitors, networking, storage, software licenses,
printers, accessories, servers, power and audio from the manufacturers an IT reseller
carries, named the way their catalogs name them, in English and French, priced in CAD (about
one in ten in USD). The same n and seed always give the same products. The first ones are:

    LEN-20XW0042US   Lenovo ThinkPad X1 Carbon Gen 9 (CAD)
    DEL-N021L545014CA  Dell Latitude 5450 (CAD)
    HP-8A3F9UTABL    HP EliteBook 840 G11 (CAD)
    CSC-C9200L-24P-4G-E  Cisco Catalyst 9200L (CAD)
    LOG-920-011558   Logitech MX Keys S (CAD)

A reseller part number is the manufacturer's code, a dash, and the manufacturer part number
without characters other than letters, digits and dashes.
"""
import csv
import random
import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import select

from services.catalog.domain import contracts, products
from services.catalog.models import Contract
from services.common.clock import utc_today
from services.common.context import CallerContext

DEMO_CONTRACT = "Northwind Traders - IT Supply Agreement"
CODES = {"Lenovo": "LEN", "HP": "HP", "Dell": "DEL", "Cisco": "CSC", "Microsoft": "MSF",
         "Apple": "APL", "Logitech": "LOG", "Samsung": "SAM", "APC": "APC", "Kingston": "KNG",
         "Seagate": "SEA", "Western Digital": "WDC", "Jabra": "JAB", "Poly": "PLY",
         "Adobe": "ADB", "VMware": "VMW", "Fortinet": "FTN", "Ubiquiti": "UBQ",
         "Brother": "BRO", "Epson": "EPS"}

# the first products, as their manufacturers name them: the CSV import's columns but the
# reseller part number, which comes from the manufacturer part number
SHOWCASE = Path(__file__).with_name("demo_showcase.csv")

# (manufacturer, category, line, base price CAD, kind)
LINES = [
    ("Lenovo", "Notebooks", "ThinkPad T14 Gen 5", 1549, "notebook"),
    ("Lenovo", "Notebooks", "ThinkPad X1 Carbon Gen 12", 2499, "notebook"),
    ("Lenovo", "Notebooks", "ThinkPad E16 Gen 2", 1099, "notebook"),
    ("Lenovo", "Notebooks", "ThinkPad L14 Gen 5", 1249, "notebook"),
    ("Lenovo", "Desktops", "ThinkCentre M70q Gen 5 Tiny", 899, "desktop"),
    ("Lenovo", "Desktops", "ThinkCentre M90t Gen 5 Tower", 1399, "desktop"),
    ("Lenovo", "Monitors", "ThinkVision T24i-30", 279, "monitor"),
    ("Lenovo", "Monitors", "ThinkVision P27h-30", 549, "monitor"),
    ("Lenovo", "Accessories", "ThinkPad Universal USB-C Dock", 289, "dock"),
    ("Lenovo", "Servers", "ThinkSystem SR630 V3", 7899, "server"),
    ("Lenovo", "Servers", "ThinkSystem ST250 V3", 3299, "server"),
    ("HP", "Notebooks", "EliteBook 840 G11", 1899, "notebook"),
    ("HP", "Notebooks", "ProBook 450 G10", 1199, "notebook"),
    ("HP", "Notebooks", "ZBook Firefly 14 G11", 2699, "notebook"),
    ("HP", "Desktops", "Elite Mini 800 G9", 1149, "desktop"),
    ("HP", "Desktops", "ProDesk 400 G9 SFF", 899, "desktop"),
    ("HP", "Monitors", "E24 G5", 269, "monitor"),
    ("HP", "Monitors", "E27 G5", 349, "monitor"),
    ("HP", "Printers", "LaserJet Pro 4001dn", 529, "printer"),
    ("HP", "Printers", "Color LaserJet Pro MFP 4301fdw", 899, "printer"),
    ("HP", "Accessories", "USB-C Dock G5", 279, "dock"),
    ("Dell", "Notebooks", "Latitude 5450", 1649, "notebook"),
    ("Dell", "Notebooks", "Latitude 7450", 2149, "notebook"),
    ("Dell", "Notebooks", "Precision 3590", 2399, "notebook"),
    ("Dell", "Desktops", "OptiPlex 7020 Micro", 1049, "desktop"),
    ("Dell", "Desktops", "OptiPlex Tower Plus 7020", 1349, "desktop"),
    ("Dell", "Monitors", "P2425H", 299, "monitor"),
    ("Dell", "Monitors", "UltraSharp U2724D", 579, "monitor"),
    ("Dell", "Monitors", "P3424WE", 899, "monitor"),
    ("Dell", "Servers", "PowerEdge R660xs", 8499, "server"),
    ("Dell", "Servers", "PowerEdge T360", 3899, "server"),
    ("Dell", "Accessories", "Dock WD19S 130W", 319, "dock"),
    ("Cisco", "Networking", "Catalyst 9200L", 3895, "switch"),
    ("Cisco", "Networking", "Catalyst 1000", 1299, "switch"),
    ("Cisco", "Networking", "Meraki MR46 access point", 1495, "wifi"),
    ("Cisco", "Networking", "Meraki MX68 security appliance", 1249, "appliance"),
    ("Microsoft", "Software Licenses", "Microsoft 365 Business Premium", 329, "license"),
    ("Microsoft", "Software Licenses", "Windows 11 Pro upgrade", 259, "license"),
    ("Microsoft", "Software Licenses", "SQL Server 2022 Standard 2-core", 5199, "license"),
    ("Microsoft", "Notebooks", "Surface Laptop 7", 1799, "notebook"),
    ("Microsoft", "Accessories", "Surface Dock 2", 389, "dock"),
    ("Apple", "Notebooks", "MacBook Pro 14 M4", 2399, "notebook"),
    ("Apple", "Notebooks", "MacBook Air 15 M3", 1849, "notebook"),
    ("Apple", "Desktops", "Mac mini M4", 899, "desktop"),
    ("Apple", "Accessories", "Magic Keyboard with Touch ID", 199, "accessory"),
    ("Logitech", "Accessories", "MX Master 3S mouse", 129, "accessory"),
    ("Logitech", "Accessories", "Brio 4K webcam", 259, "accessory"),
    ("Logitech", "Accessories", "MK540 Advanced keyboard and mouse", 69, "accessory"),
    ("Logitech", "Audio", "Zone Vibe 100 headset", 149, "audio"),
    ("Logitech", "Audio", "H390 USB headset", 49, "audio"),
    ("Samsung", "Monitors", "ViewFinity S6 32", 449, "monitor"),
    ("Samsung", "Monitors", "Odyssey G5 27", 379, "monitor"),
    ("Samsung", "Storage", "990 PRO NVMe SSD", 189, "ssd"),
    ("Samsung", "Storage", "T7 Shield portable SSD", 159, "ssd"),
    ("APC", "Power", "Back-UPS Pro", 329, "ups"),
    ("APC", "Power", "Smart-UPS SRT", 2399, "ups"),
    ("APC", "Power", "Rack PDU Basic 1U", 299, "pdu"),
    ("Kingston", "Storage", "A400 SATA SSD", 49, "ssd"),
    ("Kingston", "Storage", "NV2 NVMe SSD", 89, "ssd"),
    ("Kingston", "Accessories", "ValueRAM DDR5 memory module", 79, "memory"),
    ("Seagate", "Storage", "IronWolf NAS hard drive", 229, "hdd"),
    ("Seagate", "Storage", "Exos X18 enterprise hard drive", 449, "hdd"),
    ("Western Digital", "Storage", "WD Red Plus NAS hard drive", 179, "hdd"),
    ("Western Digital", "Storage", "WD Blue SN580 NVMe SSD", 99, "ssd"),
    ("Jabra", "Audio", "Evolve2 85", 579, "audio"),
    ("Jabra", "Audio", "Speak2 75 speakerphone", 449, "audio"),
    ("Poly", "Audio", "Voyager Focus 2", 399, "audio"),
    ("Poly", "Audio", "Sync 20 speakerphone", 199, "audio"),
    ("Adobe", "Software Licenses", "Acrobat Pro for teams", 299, "license"),
    ("Adobe", "Software Licenses", "Creative Cloud for teams All Apps", 1199, "license"),
    ("VMware", "Software Licenses", "vSphere Foundation per core", 249, "license"),
    ("Fortinet", "Networking", "FortiGate 60F", 899, "appliance"),
    ("Fortinet", "Networking", "FortiAP 231G", 699, "wifi"),
    ("Fortinet", "Software Licenses", "FortiCare Unified Threat Protection", 649, "license"),
    ("Ubiquiti", "Networking", "UniFi Switch Pro 24 PoE", 1099, "switch"),
    ("Ubiquiti", "Networking", "UniFi U6 Pro access point", 229, "wifi"),
    ("Brother", "Printers", "HL-L5210DW mono laser printer", 399, "printer"),
    ("Brother", "Printers", "MFC-L8900CDW colour laser all-in-one", 899, "printer"),
    ("Epson", "Printers", "WorkForce Pro WF-C4810 all-in-one", 299, "printer"),
    ("Epson", "Printers", "EcoTank Pro ET-5850", 1099, "printer"),
]

CPUS = [("Intel Core Ultra 5 125U", 0), ("Intel Core Ultra 7 155U", 250), ("Intel Core i5-1345U", -80),
        ("Intel Core i7-1365U", 180), ("AMD Ryzen 5 PRO 7540U", -60), ("AMD Ryzen 7 PRO 7840U", 160)]
RAM = [(8, -120), (16, 0), (32, 260), (64, 640)]
SSD = [(256, -90), (512, 0), (1024, 180), (2048, 480)]
SIZES = {"notebook": ['13.3"', '14"', '16"'], "monitor": ['24"', '27"', '32"', '34"']}
OS = ["Win 11 Pro", "Win 11 Home", "no OS"]
TERMS = [("1 year", 1), ("3 years", 2.7), ("5 years", 4.2)]
CAPACITY_TB = [1, 2, 4, 8, 12, 16, 20]
SSD_GB = [250, 500, 1000, 2000, 4000]
COLOURS = [("black", "noir"), ("graphite", "graphite"), ("pale grey", "gris pâle"), ("white", "blanc")]
AVAILABILITY = ["in_stock"] * 15 + ["limited"] * 2 + ["backorder"] * 2 + ["discontinued"]

# manufacturer: (its part numbers' style, what `pick` is drawn from); `tag` stands for the
# product line, `s4` and `s5` for the serial in 4 or 5 base-36 digits
PART_NUMBER_STYLES = {
    "Lenovo": ("21{tag}{s4}{pick}", ["US", "CA", "CD"]),
    "HP": ("{tag[1]}{s5}UT#{pick}", ["ABA", "ABL"]),
    "Dell": ("{tag}{s5}-{pick}", ["CA", "US"]),
    "Cisco": ("C{tag}-{s5}-{pick}", ["E", "A", "L"]),
    "Microsoft": ("{tag}{s4[0]}-{s4[1]}{s4[2]}{s4[3]}{pick}", "0123456789"),
    "Apple": ("M{tag}{s4}LL/A", None),
    "Logitech": ("9{tag}-{s5}", None),
    "Samsung": ("MZ-{tag}{s5}/AM", None),
    "APC": ("SR{tag}{s5}", None),
    "Kingston": ("K{tag}{s5}/G", None),
    "Seagate": ("ST{tag}{s5}", None),
    "Western Digital": ("WD{tag}{s5}X", None),
    "Jabra": ("2{tag}-{s5}-99", None),
    "Poly": ("7{tag}{s4}AA", None),
    "Adobe": ("65{tag}{s5}BA01", None),
    "VMware": ("VCF-{tag}{s5}", None),
    "Fortinet": ("FC-{tag}-{s5}", None),
    "Ubiquiti": ("U{tag}-{s5}", None),
    "Brother": ("BR{tag}{s5}", None),
    "Epson": ("C11C{tag}{s5}", None),
}

_KEEP = re.compile(r"[^A-Z0-9-]")
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def reseller_part_number(manufacturer, mfg_part_number) -> str:
    return f"{CODES[manufacturer]}-{_KEEP.sub('', mfg_part_number.upper())}"


def _b36(value, width):
    digits = []
    for _ in range(width):
        value, rest = divmod(value, 36)
        digits.append(_B36[rest])
    return "".join(reversed(digits))


def _mfg(manufacturer, line_no, serial, rng):
    """A manufacturer part number in that manufacturer's style, unique per (line, serial)."""
    style, picks = PART_NUMBER_STYLES[manufacturer]
    return style.format(tag=_b36(line_no, 2), s4=_b36(serial, 4), s5=_b36(serial, 5),
                        pick=rng.choice(picks) if picks else "")


def _variant(kind, line, base, rng, fr):
    """(name suffix, description, price delta factor)."""
    if kind == "notebook":
        cpu, dc = rng.choice(CPUS)
        ram, dr = rng.choice(RAM)
        ssd, ds = rng.choice(SSD)
        size, os = rng.choice(SIZES["notebook"]), rng.choice(OS)
        ssd_text = f"{ssd // 1024}TB" if ssd >= 1024 else f"{ssd}GB"
        if fr:
            return (f"{size.replace(chr(34), ' po')} {cpu} {ram} Go {ssd_text.replace('GB', ' Go').replace('TB', ' To')} SSD {os} (clavier français)",
                    f"Portable d'affaires {size.replace(chr(34), ' po')}, {cpu}, {ram} Go de mémoire, SSD {ssd_text}, Wi-Fi 6E, garantie 3 ans.",
                    dc + dr + ds)
        return (f"{size} {cpu} {ram}GB {ssd_text} SSD {os}",
                f"Business notebook, {size} display, {cpu}, {ram} GB memory, {ssd_text} SSD, Wi-Fi 6E, 3-year warranty.",
                dc + dr + ds)
    if kind in ("desktop", "server"):
        cpu, dc = rng.choice(CPUS[:4] if kind == "desktop" else
                             [("Intel Xeon Silver 4410Y", 0), ("Intel Xeon Gold 5415+", 1900),
                              ("Intel Xeon E-2414", -900)])
        ram, dr = rng.choice(RAM[1:])
        ssd, ds = rng.choice(SSD[1:])
        mult = 1 if kind == "desktop" else 4
        if fr:
            return (f"{cpu} {ram} Go {ssd} Go SSD", f"{'Ordinateur de bureau' if kind == 'desktop' else 'Serveur'} {line}, {cpu}, {ram} Go, SSD {ssd} Go.",
                    (dc + dr + ds) * mult)
        return (f"{cpu} {ram}GB {ssd}GB SSD", f"{'Business desktop' if kind == 'desktop' else 'Server'} {line}, {cpu}, {ram} GB memory, {ssd} GB SSD.",
                (dc + dr + ds) * mult)
    if kind == "monitor":
        res = rng.choice(["FHD 1920x1080", "QHD 2560x1440", "4K UHD 3840x2160"])
        extra = rng.choice(["USB-C 65W", "USB-C 90W", "HDMI DisplayPort", "KVM USB-C hub"])
        delta = {"FHD 1920x1080": -60, "QHD 2560x1440": 0, "4K UHD 3840x2160": 180}[res]
        if fr:
            return (f"moniteur IPS {res} {extra}", f"Moniteur {line}, IPS {res}, {extra}, pied réglable en hauteur.", delta)
        return (f"IPS monitor {res} {extra}", f"{line} monitor, IPS {res}, {extra}, height-adjustable stand.", delta)
    if kind in ("switch", "wifi", "appliance"):
        ports = rng.choice([8, 16, 24, 48])
        poe = rng.choice(["PoE+", "non-PoE", "UPOE"])
        term = rng.choice(["1-year license", "3-year license", "5-year license"])
        delta = ports * 25 + (200 if poe != "non-PoE" else 0) + (0 if term.startswith("1") else 400)
        if kind == "switch":
            name, desc = f"{ports}-port {poe} switch, {term}", f"Managed {ports}-port {poe} switch with {term}."
        elif kind == "wifi":
            name, desc = f"Wi-Fi 6E access point, {term}", f"Enterprise Wi-Fi 6E access point, {term}."
            delta = 0 if term.startswith("1") else 300
        else:
            name, desc = f"security appliance, {term}", f"Next-generation firewall appliance, {term}."
        if fr:
            desc = desc.replace("Managed", "Commutateur géré").replace("license", "licence")
        return name, desc, delta
    if kind == "license":
        term, mult = rng.choice(TERMS)
        # per-user subscriptions come in seats; server licenses one at a time
        seats = rng.choice([1, 5, 10, 25]) if base < 1000 else 1
        years = term.split()[0]
        if fr:
            return (f"{seats} utilisateur{'s' if seats > 1 else ''}, {years} an{'s' if years != '1' else ''}",
                    f"Abonnement {line}, {seats} utilisateur(s), durée de {years} an(s).", 0, mult * seats)
        return (f"{seats} user{'s' if seats > 1 else ''}, {term}", f"{line} subscription, {seats} user(s), {term} term.",
                0, mult * seats)
    if kind in ("ssd", "hdd"):
        if kind == "ssd":
            gb = rng.choice(SSD_GB)
            cap = f"{gb // 1000}TB" if gb >= 1000 else f"{gb}GB"
            factor = gb / 500
        else:
            tb = rng.choice(CAPACITY_TB)
            cap, factor = f"{tb}TB", tb / 4
        if fr:
            return (f"{cap.replace('GB', ' Go').replace('TB', ' To')}", f"{line}, capacité {cap.replace('GB', ' Go').replace('TB', ' To')}.", 0, factor)
        return cap, f"{line}, {cap} capacity.", 0, factor
    if kind in ("ups", "pdu"):
        va = rng.choice([750, 1000, 1500, 2200, 3000])
        return (f"{va}VA 120V", f"{line} {va} VA, 120 V, network management card slot.", 0, va / 1500)
    if kind == "printer":
        tray = rng.choice(["", " with extra 550-sheet tray", " with duplex and Wi-Fi"])
        return (f"{tray.strip() or 'standard'}".strip(), f"{line}{tray}, up to 50 ppm, 2-year warranty.",
                120 if tray else 0)
    if kind == "memory":
        gb = rng.choice([8, 16, 32, 64])
        return (f"{gb}GB 5600MT/s", f"DDR5 {gb} GB 5600 MT/s CL46 module.", 0, gb / 16)
    colour_en, colour_fr = rng.choice(COLOURS)
    if kind == "audio":
        conn = rng.choice(["USB-A", "USB-C", "Bluetooth"])
        cert = rng.choice(["UC", "Microsoft Teams"])
        if fr:
            return (f"{conn} {cert}, {colour_fr}", f"Casque {line} certifié {cert}, {conn}, {colour_fr}.", 0)
        return (f"{conn} {cert}, {colour_en}", f"{line} certified for {cert}, {conn}, {colour_en}.", 0)
    if kind == "dock":
        return (rng.choice(["with 135W adapter", "with 100W adapter"]), f"{line}, dual 4K display support.", 20)
    if fr:
        return (colour_fr, f"{line}, {colour_fr}.", 0)
    return (colour_en, f"{line}, {colour_en}.", 0)


def _money(value) -> str:
    amount = Decimal(str(max(value, 5)))
    # reseller prices end in .99 below 100 and in .00 above
    if amount < 100:
        return str(amount.quantize(Decimal("1"), ROUND_HALF_UP) - Decimal("0.01"))
    return str(amount.quantize(Decimal("1"), ROUND_HALF_UP)) + ".00"


def _showcase_rows():
    with SHOWCASE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            part_number = reseller_part_number(row["manufacturer"], row["mfg_part_number"])
            yield {"part_number": part_number, **row, "availability": "in_stock", "epp_price": ""}


def generate_products(n, seed=1):
    """n products, the same for the same n and seed (see the module docstring)."""
    rng = random.Random(seed)
    produced = 0
    showcase = set()
    for row in _showcase_rows():
        if produced >= n:
            return
        showcase.add(row["part_number"])
        produced += 1
        yield row
    serials = [0] * len(LINES)
    while produced < n:
        line_no = rng.randrange(len(LINES))
        manufacturer, category, line, base, kind = LINES[line_no]
        serials[line_no] += 1
        mfg = _mfg(manufacturer, line_no, serials[line_no], rng)
        part = reseller_part_number(manufacturer, mfg)
        if part in showcase:
            continue
        fr = rng.random() < 0.2
        variant = _variant(kind, line, base, rng, fr)
        suffix, description, delta = variant[:3]
        factor = variant[3] if len(variant) > 3 else 1
        price = (base + delta) * factor * rng.uniform(0.97, 1.05)
        currency = "USD" if rng.random() < 0.1 else "CAD"
        if currency == "USD":
            price *= 0.73
        list_price = _money(price)
        epp = _money(float(list_price) * 0.92) if rng.random() < 0.3 else ""
        yield {"part_number": part, "mfg_part_number": mfg, "manufacturer": manufacturer,
               "category": category, "name": f"{manufacturer} {line} {suffix}".strip()[:300],
               "description": description, "list_price": list_price, "currency": currency,
               "language": "fr" if fr else "en", "availability": rng.choice(AVAILABILITY),
               "epp_price": epp}
        produced += 1


def seed(session, company_id, n=3000) -> dict:
    """Import n demo products and give the company one active contract with about 200 of
    them (10-25% below list, plus a Volume tier from 10 units). Safe to run again: products
    are updated in place and the contract is made once. The caller commits.

    Returns {"part_numbers": all n, in order (the first are LEN-20XW0042US,
    DEL-N021L545014CA, HP-8A3F9UTABL, CSC-C9200L-24P-4G-E, LOG-920-011558),
    "contract_id", "contract_part_numbers"}."""
    staff = CallerContext.system()
    rng = random.Random(f"contract-{n}")
    parts, candidates = [], []
    # prices are computed from the generated rows, so nothing holds all n rows at once
    def rows():
        for row in generate_products(n):
            parts.append(row["part_number"])
            if row["currency"] == "CAD" and row["availability"] != "discontinued":
                candidates.append((row["part_number"], row["list_price"]))
            yield row
    products.import_products(session, staff, rows=rows())
    contract = session.scalar(select(Contract).where(Contract.company_id == company_id,
                                                     Contract.name == DEMO_CONTRACT))
    chosen = candidates[:5] + rng.sample(candidates[5:], min(195, max(0, len(candidates) - 5)))
    if contract is None:
        today = utc_today()
        prices = []
        for part, list_price in chosen:
            off = Decimal(str(rng.uniform(0.10, 0.25)))
            amount = (Decimal(list_price) * (1 - off)).quantize(Decimal("0.01"))
            prices.append({"part_number": part, "price": {"amount": amount, "currency": "CAD"}})
            if rng.random() < 0.25:
                prices.append({"part_number": part, "tier": "Volume",
                               "price": {"amount": (amount * Decimal("0.95")).quantize(Decimal("0.01")),
                                         "currency": "CAD"}})
        contract = contracts.create_contract(session, staff, company_id, {
            "name": DEMO_CONTRACT, "starts_on": today - timedelta(days=30),
            "ends_on": today + timedelta(days=730),
            "tiers": [{"name": "Volume", "min_quantity": 10}], "prices": prices},
            company_currency="CAD")
    contract_id = contract.id
    return {"part_numbers": parts, "contract_id": contract_id,
            "contract_part_numbers": [p for p, _ in chosen]}
