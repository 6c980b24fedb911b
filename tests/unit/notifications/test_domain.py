"""Which emails each event queues, for whom and in which language; stable Message-IDs;
preferences, the suppression list and unsubscribe links."""
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from services.common.errors import Invalid, NotFound
from services.notifications import domain
from services.notifications.models import OutgoingMail, Suppression, UnsubscribeToken
from services.notifications.statuses import FAILED, QUEUED, SUPPRESSED
from tests.unit.notifications.samples import ALICE, BRUNO, CHLOE, CSV, DAVID, payloads

URL = "https://portal.procura.example"


def handle(session, source, event_type, payload, event_id=None):
    rows = domain.handle_event(session, source, event_type, event_id or str(uuid.uuid4()), payload)
    session.commit()
    return rows


def sample(source, event_type, locale="en", index=0):
    return [p for s, t, p in payloads(locale) if (s, t) == (source, event_type)][index]


def rows(session):
    return session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def token_of(url):
    return parse_qs(urlparse(url).query)["token"][0]


def test_user_created_queues_a_set_password_link_in_the_users_language(session):
    [row] = handle(session, "identity", "user_created", sample("identity", "user_created", "fr"))
    assert (row.kind, row.recipient, row.locale, row.category, row.status) == \
        ("set_password", BRUNO["email"], "fr", "security", QUEUED)
    link = f"{URL}/set-password?token=setpw-Tok%2Fen%2B1"
    assert link in row.body_text and link in row.body_html
    assert token_of(link) == "setpw-Tok/en+1"
    assert row.headers is None  # transactional: no List-Unsubscribe


def test_password_reset_link_and_validity(session):
    [row] = handle(session, "identity", "password_reset_requested",
                   sample("identity", "password_reset_requested"))
    assert f"{URL}/reset-password?token=reset-token-123" in row.body_text
    assert "24 hours" in row.body_text and "November 23, 2026" in row.body_text


def test_approval_requested_goes_to_each_approver_in_their_language_with_the_rule(session):
    out = handle(session, "approvals", "approval_requested",
                 sample("approvals", "approval_requested", "en"))
    assert [(r.recipient, r.locale) for r in out] == [(CHLOE["email"], "fr"), (DAVID["email"], "en")]
    for row in out:
        assert "Order total over 2,000.00 CAD" in row.body_text
        assert f"{URL}/approvals/31" in row.body_html
        assert row.category == "approvals"
    assert out[0].subject.startswith("Approbation requise")
    assert out[1].subject.startswith("Approval needed")


def test_approval_rules_are_worded_in_each_approvers_language(session):
    payload = dict(sample("approvals", "approval_requested"), rule_text={
        "en": "Order total over 2,000.00 CAD",
        "fr": "Total de la commande supérieur à 2\u202f000,00 CAD"})
    out = handle(session, "approvals", "approval_requested", payload)
    by_locale = {r.locale: r.body_text for r in out}
    assert "Total de la commande supérieur à 2\u202f000,00 CAD" in by_locale["fr"]
    assert "Order total over 2,000.00 CAD" in by_locale["en"]


def test_a_listed_twice_approver_gets_one_email(session):
    payload = dict(sample("approvals", "approval_requested"), approvers=[DAVID, DAVID])
    assert len(handle(session, "approvals", "approval_requested", payload)) == 1


def test_invoice_copy_goes_to_billing_and_confirms_to_the_buyer(session, monkeypatch):
    out = handle(session, "orders", "invoice_copy_requested",
                 sample("orders", "invoice_copy_requested", "fr"))
    billing, buyer = out
    assert (billing.recipient, billing.kind, billing.locale) == \
        ("billing@procura.example", "invoice_copy_billing", "en")
    assert "INV-9001" in billing.subject and "ap@acme.example" in billing.body_text
    assert (buyer.recipient, buyer.kind, buyer.locale) == (BRUNO["email"], "invoice_copy_confirmation", "fr")
    monkeypatch.setenv("BILLING_EMAIL", "factures@reseller.example")
    again = handle(session, "orders", "invoice_copy_requested",
                   sample("orders", "invoice_copy_requested"))
    assert again[0].recipient == "factures@reseller.example"


def test_report_ready_attaches_the_csv_and_may_be_unsubscribed(session):
    [row] = handle(session, "reporting", "report_ready", sample("reporting", "report_ready"))
    assert (row.attachment_filename, row.attachment_content_type, row.attachment) == \
        ("spend-by-category-2026-11.csv", "text/csv", CSV)
    assert row.category == "report_deliveries"
    unsubscribe = row.headers["List-Unsubscribe"]
    https, mailto = [part.strip(" <>") for part in unsubscribe.split(",")]
    assert https.startswith(f"{URL}/api/v1/unsubscribe?token=")
    assert mailto.startswith("mailto:unsubscribe@procura.example?subject=unsubscribe%20")
    assert row.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert https in row.body_text and https in row.body_html
    # only the hash of the token is stored
    token = token_of(https)
    assert session.get(UnsubscribeToken, domain.hash_token(token)).email == ALICE["email"]
    assert session.scalar(select(UnsubscribeToken.token_hash)) != token


def test_the_same_event_twice_queues_nothing_more(session):
    payload = sample("approvals", "approval_requested")
    event_id = str(uuid.uuid4())
    first = handle(session, "approvals", "approval_requested", payload, event_id)
    second = handle(session, "approvals", "approval_requested", payload, event_id)
    assert len(first) == 2 and second == []
    assert len(rows(session)) == 2


def test_message_ids_are_stable_and_distinct():
    a = domain.make_message_id("e1", "approval_request", "Chloe@Acme.example")
    assert a == domain.make_message_id("e1", "approval_request", "chloe@acme.example")
    assert a.startswith("<") and a.endswith("@procura.example>")
    assert a != domain.make_message_id("e2", "approval_request", "chloe@acme.example")
    assert a != domain.make_message_id("e1", "approval_reminder", "chloe@acme.example")
    assert a != domain.make_message_id("e1", "approval_request", "david@acme.example")


def test_every_event_of_the_contract_queues_its_emails(session):
    for source, event_type, payload in payloads("fr"):
        assert handle(session, source, event_type, payload), (source, event_type)
    kinds = {row.kind for row in rows(session)}
    assert kinds == set(domain.CATEGORIES) - {"announcement"}


def test_an_invalid_address_is_recorded_as_failed_not_sent(session):
    payload = dict(sample("identity", "user_locked"), email="not an address")
    [row] = handle(session, "identity", "user_locked", payload)
    assert row.status == FAILED and "not a valid email address" in row.last_error


def test_report_delivery_honours_the_preference(session):
    domain.record_preferences(session, ALICE["user_id"], "Alice@ACME.example",
                              {"marketing": True, "order_updates": True, "report_deliveries": False},
                              as_of="2026-11-22T09:00:00Z")
    [row] = handle(session, "reporting", "report_ready", sample("reporting", "report_ready"))
    assert row.status == SUPPRESSED and row.headers is None
    # what is never sent is not kept: the subject says what it was
    assert (row.body_text, row.body_html, row.attachment) == ("", "", None)
    assert row.subject == "Your report is ready: Spend by category"
    status = domain.recipient_status(session, "alice@ACME.example")
    assert status["receives"] == {"marketing": True, "report_deliveries": False}
    assert status["suppressed"] == [] and status["preferences"][0]["user_id"] == ALICE["user_id"]


def test_transactional_mail_ignores_preferences_and_suppressions(session):
    domain.record_preferences(session, ALICE["user_id"], ALICE["email"],
                              {"marketing": False, "order_updates": False, "report_deliveries": False})
    for stream in domain.STREAMS:
        domain.suppress(session, ALICE["email"], stream)
    for event_type in ("order_placed", "order_shipped", "invoice_issued"):
        [row] = handle(session, "orders", event_type, sample("orders", event_type))
        assert row.status == QUEUED, event_type
    [row] = handle(session, "identity", "password_reset_requested",
                   sample("identity", "password_reset_requested"))
    assert row.status == QUEUED


def test_an_older_preferences_event_does_not_undo_a_newer_one(session):
    domain.record_preferences(session, 5, "e@x.example", {"marketing": False}, "2026-11-22T10:00:00Z")
    domain.record_preferences(session, 5, "e@x.example", {"marketing": True}, "2026-11-22T09:00:00Z")
    assert not domain.preference_allows(session, "e@x.example", "marketing")
    domain.record_preferences(session, 5, "e@x.example", {"marketing": True}, "2026-11-22T11:00:00Z")
    assert domain.preference_allows(session, "E@X.example", "marketing")


def test_unsubscribe_link_suppresses_the_stream_and_is_harmless_twice(session):
    [row] = handle(session, "reporting", "report_ready", sample("reporting", "report_ready"))
    queued_later = handle(session, "reporting", "report_ready", sample("reporting", "report_ready"))[0]
    token = token_of(row.headers["List-Unsubscribe"].split(",")[0].strip(" <>"))

    info = domain.unsubscribe_info(session, token)
    assert info == {"email": "a***@acme.example", "stream": "report_deliveries",
                    "locale": "en", "unsubscribed": False}
    assert domain.unsubscribe(session, token)["unsubscribed"] is True
    session.commit()
    assert domain.unsubscribe(session, token)["unsubscribed"] is True  # again: same answer
    session.commit()
    assert session.scalars(select(Suppression)).all()[0].email == ALICE["email"]
    assert len(session.scalars(select(Suppression)).all()) == 1
    # what was still waiting is not sent either, and nothing new is
    session.refresh(queued_later)
    assert queued_later.status == SUPPRESSED
    [after] = handle(session, "reporting", "report_ready", sample("reporting", "report_ready"))
    assert after.status == SUPPRESSED
    # another stream is untouched
    assert domain.preference_allows(session, ALICE["email"], "marketing")
    assert not domain.is_suppressed(session, ALICE["email"], "marketing")


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, None])
def test_unknown_unsubscribe_token_is_not_found(session, token):
    with pytest.raises(NotFound) as info:
        domain.unsubscribe(session, token)
    assert info.value.code == "unsubscribe_link_invalid"


def test_announcement_goes_to_each_recipient_in_their_language_unless_unsubscribed(session):
    domain.suppress(session, DAVID["email"], "marketing")
    result = domain.queue_announcement(
        session, "New laptops on contract", "Hello all.\n\nThe T14 Gen 6 is now on contract.",
        [{"email": ALICE["email"], "locale": "en"}, {"email": BRUNO["email"], "locale": "fr"},
         {"email": DAVID["email"], "locale": "en"}])
    session.commit()
    assert (result["queued"], result["suppressed"], result["failed"]) == (2, 1, 0)
    by_recipient = {r.recipient: r for r in rows(session)}
    assert by_recipient[BRUNO["email"]].locale == "fr"
    assert "Se désabonner" in by_recipient[BRUNO["email"]].body_text
    assert "<p>The T14 Gen 6 is now on contract.</p>" in by_recipient[ALICE["email"]].body_html
    assert by_recipient[ALICE["email"]].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert by_recipient[DAVID["email"]].status == SUPPRESSED


def test_announcement_needs_subject_and_body(session):
    with pytest.raises(Invalid):
        domain.queue_announcement(session, " ", "body", [ALICE["email"]])


def test_list_mail_pages_newest_first(session):
    for _ in range(3):
        handle(session, "identity", "user_locked", sample("identity", "user_locked"))
    page = domain.list_mail(session, recipient="ALICE@acme.example", limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = domain.list_mail(session, limit=2, cursor=page["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert rest["items"][0].id < page["items"][1].id


def test_a_partial_shipment_says_so_and_lists_what_it_carries(session):
    payload = dict(sample("orders", "order_shipped", "fr"), complete=False,
                   lines=[{"part_number": "LEN-40B00135US", "name": "Station USB-C", "quantity": 2}])
    (mail,) = handle(session, "orders", "order_shipped", payload)
    assert "le reste suivra" in mail.body_text
    assert "2 x Station USB-C (LEN-40B00135US)" in mail.body_text


def test_an_order_no_workflow_applied_to_gets_no_approved_email(session):
    """Its confirmation said approval emails come only when an approval is needed."""
    decided = sample("approvals", "order_approved")
    auto = dict(decided, decided_by=None, comment="", auto=True)
    assert not domain.decision_is_news(auto) and domain.decision_is_news(decided)
    assert handle(session, "approvals", "order_approved", auto) == []
    mail, = handle(session, "approvals", "order_approved", decided)
    assert mail.kind == "order_approved" and "has been approved by" in mail.body_text
