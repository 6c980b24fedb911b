"""The email renderer: every kind exists in French and English, subjects are one line,
HTML is escaped, money and dates read naturally in each language."""
import pytest
from jinja2 import UndefinedError

from services.notifications import domain
from services.notifications.render import (format_date, format_datetime, format_money, kinds,
                                           normalise_locale, render)
from tests.unit.notifications.samples import payloads


def all_mails(locale):
    for source, event_type, payload in payloads(locale):
        yield from domain.mails_for(source, event_type, payload)


def rendered(mail, **extra):
    return render(mail.kind, mail.locale, **dict(domain.links(), **mail.context, **extra))


def test_every_kind_has_templates_in_both_languages():
    assert set(kinds()) == set(domain.CATEGORIES)


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_email_renders_subject_text_and_html(locale):
    seen = set()
    for mail in all_mails(locale):
        out = rendered(mail)
        seen.add(mail.kind)
        assert out.subject and "\n" not in out.subject, mail.kind
        assert "{{" not in out.text and "{%" not in out.text, mail.kind
        assert out.html.startswith("<!doctype html>") and f'lang="{mail.locale}"' in out.html
        assert out.subject in out.html  # the <title>
        assert "Procura" in out.text
    assert seen >= set(domain.CATEGORIES) - {"announcement"}


def test_french_and_english_differ_and_read_as_their_language():
    en = {m.kind: rendered(m) for m in all_mails("en") if m.locale == "en"}
    fr = {m.kind: rendered(m) for m in all_mails("fr") if m.locale == "fr"}
    for kind in set(en) & set(fr):
        assert en[kind].subject != fr[kind].subject, kind
    assert fr["password_reset"].subject == "Réinitialisation de votre mot de passe Procura"
    assert "Bonjour Bruno," in fr["password_reset"].text
    assert "valable 24 heures" in fr["password_reset"].text
    assert "L’équipe Procura" in fr["order_confirmation"].text
    assert "Hello Alice," in en["password_reset"].text
    assert "valid for 24 hours" in en["password_reset"].text


def test_order_confirmation_lists_lines_totals_and_address():
    mail = next(m for m in all_mails("fr") if m.kind == "order_confirmation")
    out = rendered(mail)
    assert "PO-2026-0007" in out.subject
    for text in (out.text, out.html):
        assert "ThinkPad T14" in text and "LT-100" in text and "20XK-001" in text
        assert "2\u00a0400,00\u00a0CAD" in text  # line total, French number format
        assert "2\u00a0435,50\u00a0CAD" in text  # order total
        assert "H2X 1Y4" in text and "Montréal" in text
        assert "bon de commande" in text and "PO-778" in text
    assert "Sous-total" in out.text


def test_html_is_escaped_but_text_is_not():
    mail = next(m for m in all_mails("en") if m.kind == "order_rejected")
    mail.context["comment"] = "<script>alert('x')</script> & co"
    out = rendered(mail)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<script>alert('x')</script> & co" in out.text


def test_a_missing_variable_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        render("password_reset", "en", first_name="A")  # no link


def test_unsubscribe_footer_only_when_a_link_is_given():
    mail = next(m for m in all_mails("fr") if m.kind == "report_ready")
    with_link = rendered(mail, unsubscribe_url="https://portal.procura.example/api/v1/unsubscribe?token=T")
    without = rendered(mail)
    assert "Se désabonner : https://portal.procura.example/api/v1/unsubscribe?token=T" in with_link.text
    assert 'href="https://portal.procura.example/api/v1/unsubscribe?token=T"' in with_link.html
    assert "désabonner" not in without.text.lower()


@pytest.mark.parametrize("locale,expected", [
    ("en", "1,234.50\u00a0CAD"), ("fr", "1\u00a0234,50\u00a0CAD")])
def test_money(locale, expected):
    assert format_money({"amount": "1234.5", "currency": "CAD"}, locale) == expected


def test_dates():
    assert format_date("2026-11-01T10:05:00Z", "fr") == "1er novembre 2026"
    assert format_date("2026-11-01T10:05:00Z", "en") == "November 1, 2026"
    assert format_datetime("2026-03-05T14:07:00+00:00", "fr") == "5 mars 2026 à 14\u00a0h\u00a007 UTC"
    assert format_datetime("2026-03-05T14:07:00", "en") == "March 5, 2026 at 14:07 UTC"


@pytest.mark.parametrize("given,expected", [("fr", "fr"), ("fr-CA", "fr"), ("FR", "fr"),
                                            ("en", "en"), ("de", "en"), (None, "en")])
def test_locale_is_french_or_english(given, expected):
    assert normalise_locale(given) == expected


def test_subscription_emails_say_why_in_both_languages():
    for locale, words in (("en", "no longer carries your consent"),
                          ("fr", "ne porte plus votre consentement")):
        mails = list(all_mails(locale))
        missing = next(m for m in mails if m.kind == "subscription_card_missing")
        missing.context["reason"] = "card_consent_missing"
        text = rendered(missing).text
        assert words in text and "2026-12-05" in text
        renewed = next(m for m in mails if m.kind == "subscription_renewed")
        assert "SO-0000042" in rendered(renewed).text
