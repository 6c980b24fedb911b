"""Rendering of emails from the Jinja2 templates under templates/.

Each kind of email has, per language (fr, en), a text template and an HTML template:
`<kind>.<locale>.txt.j2` (its first line is the subject, then a blank line, then the body)
and `<kind>.<locale>.html.j2` (extending `_layout.html.j2`). HTML is autoescaped, text is
not. A variable missing from the context is an error, not a silent blank.
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALES = ("en", "fr")

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
}
NBSP = "\u00a0"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def normalise_locale(locale) -> str:
    """`fr`, `fr-CA`, `FR_fr` → fr; anything else → en."""
    return "fr" if str(locale or "").lower().startswith("fr") else "en"


def format_amount(amount, locale) -> str:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(amount)
    text = f"{abs(value):,.2f}"
    if normalise_locale(locale) == "fr":
        # 1 234,50: no-break space between thousands, comma before the cents
        text = text.replace(",", NBSP).replace(".", ",")
    return ("-" if value < 0 else "") + text


def format_money(money, locale) -> str:
    """{"amount": "1234.5", "currency": "CAD"} → `1,234.50 CAD` (en), `1 234,50 CAD` (fr)."""
    if money is None:
        return ""
    if isinstance(money, dict):
        amount, currency = money.get("amount"), money.get("currency", "")
    else:
        amount, currency = getattr(money, "amount", money), getattr(money, "currency", "")
    return f"{format_amount(amount, locale)}{NBSP}{currency}".strip()


def parse_datetime(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_date(value, locale) -> str:
    """`November 22, 2026` (en), `22 novembre 2026` (fr, `1er` for the first)."""
    moment = parse_datetime(value)
    if moment is None:
        return str(value or "")
    moment = moment.astimezone(timezone.utc)
    locale = normalise_locale(locale)
    month = MONTHS[locale][moment.month - 1]
    if locale == "fr":
        day = "1er" if moment.day == 1 else str(moment.day)
        return f"{day} {month} {moment.year}"
    return f"{month} {moment.day}, {moment.year}"


def format_datetime(value, locale) -> str:
    """`November 22, 2026 at 10:05 UTC` (en), `22 novembre 2026 à 10 h 05 UTC` (fr)."""
    moment = parse_datetime(value)
    if moment is None:
        return str(value or "")
    moment = moment.astimezone(timezone.utc)
    day = format_date(moment, locale)
    if normalise_locale(locale) == "fr":
        return f"{day} à {moment.hour}{NBSP}h{NBSP}{moment.minute:02d} UTC"
    return f"{day} at {moment.hour:02d}:{moment.minute:02d} UTC"


def _environment():
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                                   default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True,
                      # compiled once: no look at the files' dates on every email
                      auto_reload=False, cache_size=-1)
    env.filters["money"] = lambda value, locale="en": format_money(value, locale)
    env.filters["amount"] = lambda value, locale="en": format_amount(value, locale)
    env.filters["date"] = lambda value, locale="en": format_date(value, locale)
    env.filters["datetime"] = lambda value, locale="en": format_datetime(value, locale)
    return env


ENV = _environment()


def template_names(kind, locale):
    return f"{kind}.{locale}.txt.j2", f"{kind}.{locale}.html.j2"


def kinds() -> list[str]:
    """Every kind of email that has templates in every language."""
    found = {p.name.split(".")[0] for p in TEMPLATES.glob("*.txt.j2") if not p.name.startswith("_")}
    return sorted(k for k in found
                  if all((TEMPLATES / name).is_file()
                         for locale in LOCALES for name in template_names(k, locale)))


def render(kind: str, locale: str, **context) -> Rendered:
    """Render one email in `locale` (normalised to fr or en)."""
    locale = normalise_locale(locale)
    context = dict(context, locale=locale)
    context.setdefault("unsubscribe_url", None)
    text_name, html_name = template_names(kind, locale)
    text = ENV.get_template(text_name).render(context)
    subject, _, body = text.partition("\n\n")
    subject = " ".join(subject.split())  # a subject is one line, whatever the template did
    html = ENV.get_template(html_name).render(dict(context, subject=subject))
    return Rendered(subject=subject, text=body.strip("\n") + "\n", html=html)
