"""Loading the product catalog: a CSV file or a CIF 3.0 file, streamed.

CSV: a header line naming at least part_number, mfg_part_number, manufacturer, category,
name, description, list_price, currency, language, availability (any order; an optional
epp_price column sets the employee-purchase price, an optional subscription_term column,
`monthly` or `yearly`, sells the product as an auto-renewing subscription), then one
product per line.

CIF 3.0 (the catalog interchange format of e-procurement systems): `CIF_I_V3.0`, header
lines (`LOADMODE:`, `CODEFORMAT:`, `CURRENCY:`, `ITEMCOUNT:`, `FIELDNAMES:` listing the
columns, …), `DATA`, comma-separated items, `ENDOFDATA`. Its fields map to ours:
Supplier Part ID → part_number, Manufacturer Part ID → mfg_part_number (the supplier's when
empty), Manufacturer Name → manufacturer, SPSC Code → category (well-known UNSPSC classes are
named, others kept as their code; a Category column wins), Short Name or else Item
Description → name, Item Description → description, Unit Price → list_price, Currency (or
the CURRENCY header), Language (or the LANGUAGE header, else en). Every load upserts: the
load mode F does not delete products that other tables refer to.

Every good line is loaded even when others are rejected; the report is
{format, imported, updated, rejected: [{line, reason}], rejected_count, warnings}, with at
most MAX_REJECTED rejected lines detailed. Lines are read one at a time and written in
batches of BATCH_SIZE, so memory stays flat whatever the size of the file; a part number
already known is updated in place (so is one repeated within the file: the last line wins).
"""
import csv
import io
import itertools
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select, text

from services.catalog import columns
from services.catalog.models import AVAILABILITY, LANGUAGES, Product
from services.common.clock import utcnow
from services.common.engines import dialect_insert, is_postgres
from services.common.errors import Invalid

CSV_COLUMNS = ("part_number", "mfg_part_number", "manufacturer", "category", "name",
               "description", "list_price", "currency", "language", "availability")
OPTIONAL_COLUMNS = ("epp_price", "subscription_term")
SUBSCRIPTION_TERMS = ("monthly", "yearly")
BATCH_SIZE = 2000
MAX_REJECTED = 1000
ANALYZE_AFTER = 10000
MAX_PRICE = Decimal("999999999999.99")
PART_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/#+\-]{0,63}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
UPDATABLE = ("mfg_part_number", "manufacturer", "category", "name", "description", "list_price",
             "currency", "epp_price", "language", "availability", "subscription_term",
             "updated_at")

# UNSPSC classes (first six digits) of the reseller's categories
UNSPSC = {"432115": "Notebooks", "432116": "Accessories", "432117": "Accessories",
          "432119": "Monitors", "432121": "Printers", "432018": "Storage", "432020": "Storage",
          "432226": "Networking", "432225": "Networking", "432315": "Software Licenses",
          "432320": "Software Licenses", "432335": "Software Licenses", "391210": "Power",
          "521615": "Audio"}
UNSPSC_ITEMS = {"43211501": "Servers", "43211503": "Notebooks", "43211507": "Desktops",
                "43211508": "Desktops", "43211509": "Notebooks"}


class RowError(ValueError):
    """Why one line cannot be loaded."""


# ------------------------------------------------------------------- reading

def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def text_lines(source):
    """An iterator of text lines over a str, bytes, or an open (text) file."""
    if isinstance(source, (bytes, bytearray)):
        source = decode(bytes(source))
    if isinstance(source, str):
        return io.StringIO(source)
    return iter(source)


def parse(source, warnings: list):
    """("csv" | "cif", iterator of (line number, {field: text} | RowError))."""
    lines = text_lines(source)
    skipped = 0
    for first in lines:
        first = first.lstrip("\ufeff")
        if first.strip():
            break
        skipped += 1
    else:
        raise Invalid("the file is empty", code="empty_import_file")
    if first.strip().upper().startswith("CIF_I_V3"):
        return "cif", cif_records(lines, skipped + 1, warnings)
    return "csv", csv_records(itertools.chain([first], lines), skipped)


def csv_records(lines, offset):
    reader = csv.reader(lines)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise Invalid("the CSV header lacks columns", code="invalid_import_header",
                      errors={"header": [f"Missing column: {c}." for c in missing]})
    for values in reader:
        line = offset + reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line, RowError(f"expected {len(header)} fields, found {len(values)}")
            continue
        yield line, dict(zip(header, values))


def cif_records(lines, line_no, warnings):
    header, fieldnames = {}, None
    for raw in lines:
        line_no += 1
        text = raw.strip()
        if not text:
            continue
        if text.upper() == "DATA":
            break
        key, sep, value = text.partition(":")
        if not sep:
            raise Invalid(f"line {line_no}: a CIF header line is `NAME: value`",
                          code="invalid_import_header", errors={"header": [f"Line {line_no}."]})
        key = key.strip().upper()
        if key == "FIELDNAMES":
            fieldnames = [f.strip().lower() for f in next(csv.reader([value.strip()]))]
        else:
            header[key] = value.strip()
    else:
        raise Invalid("the CIF file has no DATA line", code="invalid_import_header",
                      errors={"header": ["No DATA line."]})
    if not fieldnames or "supplier part id" not in fieldnames:
        raise Invalid("the CIF file needs FIELDNAMES with Supplier Part ID",
                      code="invalid_import_header",
                      errors={"header": ["FIELDNAMES must list Supplier Part ID."]})
    return _cif_items(lines, line_no, header, fieldnames, warnings)


def _cif_items(lines, data_line, header, fieldnames, warnings):
    reader = csv.reader(lines)
    items, ended = 0, False
    for values in reader:
        line = data_line + reader.line_num
        if len(values) == 1 and values[0].strip().upper() == "ENDOFDATA":
            ended = True
            break
        if not any(v.strip() for v in values):
            continue
        items += 1
        if len(values) != len(fieldnames):
            yield line, RowError(f"expected {len(fieldnames)} fields, found {len(values)}")
            continue
        yield line, cif_to_row(dict(zip(fieldnames, values)), header)
    if not ended:
        warnings.append("no ENDOFDATA line: the file may be cut short")
    expected = header.get("ITEMCOUNT", "").strip()
    if expected.isdigit() and int(expected) != items:
        warnings.append(f"ITEMCOUNT says {expected} items, the file has {items}")


def unspsc_category(code: str) -> str:
    code = code.strip()
    return UNSPSC_ITEMS.get(code[:8]) or UNSPSC.get(code[:6]) or code


def cif_to_row(item: dict, header: dict) -> dict:
    description = item.get("item description", "").strip()
    name = item.get("short name", "").strip() or description[:300]
    category = item.get("category", "").strip() or unspsc_category(item.get("spsc code", ""))
    part = item.get("supplier part id", "").strip()
    language = item.get("language", "").strip() or header.get("LANGUAGE", "") or "en"
    return {"part_number": part,
            "mfg_part_number": item.get("manufacturer part id", "").strip() or part,
            "manufacturer": item.get("manufacturer name", ""), "category": category,
            "name": name, "description": description,
            "list_price": item.get("unit price", ""),
            "currency": item.get("currency", "").strip() or header.get("CURRENCY", ""),
            "language": language, "availability": item.get("availability", "")}


# ------------------------------------------------------------------- checking

def _text(raw, key, max_length, required=True):
    value = (raw.get(key) or "").strip()
    if required and not value:
        raise RowError(f"{key} is empty")
    if len(value) > max_length:
        raise RowError(f"{key} is longer than {max_length} characters")
    return value


def _amount(value, key):
    value = (value or "").strip()
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(f"{key} is not a number: {value[:40]!r}")
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise RowError(f"{key} is out of range: {value[:40]!r}")
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _language(value):
    value = (value or "").strip().lower()
    if not value:
        return "en"
    # en_CA, fr-CA: the language part
    value = re.split(r"[-_]", value, maxsplit=1)[0]
    if value not in LANGUAGES:
        raise RowError(f"language must be one of {', '.join(LANGUAGES)}")
    return value


def clean(raw: dict) -> dict:
    """A product row ready to write, or RowError."""
    part = _text(raw, "part_number", 64).upper()
    if not PART_NUMBER.match(part):
        raise RowError("part_number may hold letters, digits and . _ / # + - only")
    currency = (raw.get("currency") or "").strip().upper()
    if not CURRENCY.match(currency):
        raise RowError("currency must be a three-letter code")
    availability = (raw.get("availability") or "").strip().lower() or "in_stock"
    if availability not in AVAILABILITY:
        raise RowError(f"availability must be one of {', '.join(AVAILABILITY)}")
    epp = (raw.get("epp_price") or "").strip()
    term = (raw.get("subscription_term") or "").strip().lower() or None
    if term is not None and term not in SUBSCRIPTION_TERMS:
        raise RowError(f"subscription_term must be empty or one of {', '.join(SUBSCRIPTION_TERMS)}")
    return {"part_number": part,
            "mfg_part_number": _text(raw, "mfg_part_number", 64),
            "manufacturer": _text(raw, "manufacturer", 80),
            "category": _text(raw, "category", 80),
            "name": _text(raw, "name", 300),
            "description": _text(raw, "description", 4000, required=False),
            "list_price": _amount(raw.get("list_price"), "list_price"),
            "currency": currency,
            "epp_price": _amount(epp, "epp_price") if epp else None,
            "language": _language(raw.get("language")),
            "availability": availability, "subscription_term": term}


# ------------------------------------------------------------------- writing

def insert_many(session, statement, rows):
    """Execute an INSERT for many rows in few round trips on either database."""
    if not rows:
        return
    if hasattr(statement, "insert"):  # a Table
        statement = statement.insert()
    if is_postgres(session):
        # with RETURNING, SQLAlchemy sends many rows per statement ("insertmanyvalues");
        # without it pg8000 would make one round trip per row
        table = statement.table
        session.execute(statement.returning(table.c[table.primary_key.columns.keys()[0]]), rows).all()
    else:
        session.execute(statement, rows)


def upsert_products(session, rows: list) -> tuple[int, int]:
    """Insert or update products by part number; (inserted, updated)."""
    table = Product.__table__
    parts = [r["part_number"] for r in rows]
    existing = session.scalar(select(func.count()).where(table.c.part_number.in_(parts)))
    now = utcnow()
    for row in rows:
        row["updated_at"] = now
    statement = dialect_insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.part_number],
        set_={c: statement.excluded[c] for c in UPDATABLE})
    insert_many(session, statement, rows)
    columns.bump_version(session)
    return len(rows) - existing, existing


def load(session, source, commit_every: int | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Load a CSV or CIF catalog from `source` (str, bytes or a text file); see the module
    docstring. `commit_every` commits after about that many rows (bulk loads from the
    command line); otherwise the caller commits once."""
    warnings = []
    fmt, records = parse(source, warnings)
    return _load(session, fmt, records, warnings, commit_every, batch_size)


def load_rows(session, rows, commit_every: int | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Load products given as dicts with the CSV columns (line numbers count from 2, as if
    under a header line)."""
    return _load(session, "rows", ((i + 2, dict(r)) for i, r in enumerate(rows)), [],
                 commit_every, batch_size)


def _load(session, fmt, records, warnings, commit_every, batch_size) -> dict:
    report = {"format": fmt, "imported": 0, "updated": 0, "rejected": [], "rejected_count": 0,
              "warnings": warnings}
    batch, since_commit = {}, 0

    def reject(line, reason):
        report["rejected_count"] += 1
        if len(report["rejected"]) < MAX_REJECTED:
            report["rejected"].append({"line": line, "reason": reason})

    def flush():
        nonlocal since_commit
        inserted, updated = upsert_products(session, list(batch.values()))
        report["imported"] += inserted
        report["updated"] += updated
        since_commit += len(batch)
        batch.clear()
        if commit_every and since_commit >= commit_every:
            session.commit()
            since_commit = 0

    for line, record in records:
        if isinstance(record, RowError):
            reject(line, str(record))
            continue
        try:
            row = clean(record)
        except RowError as exc:
            reject(line, str(exc))
            continue
        if row["part_number"] in batch:
            # the same part number again in this file: this line replaces the earlier one
            report["updated"] += 1
        batch[row["part_number"]] = row
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if is_postgres(session) and report["imported"] + report["updated"] >= ANALYZE_AFTER:
        # fresh statistics now rather than when autovacuum gets to it: plans of searches
        # over a table that just grew tenfold depend on them
        session.execute(text("ANALYZE products"))
    return report
