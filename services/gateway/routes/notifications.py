"""Gateway endpoints of the notifications service: the unsubscribe link of optional mail.

`{PUBLIC_URL}/api/v1/unsubscribe?token=...` is the https link of the List-Unsubscribe
header and of the email's footer.
- POST unsubscribes at once: that is what a mail provider sends for one-click
  unsubscribe (RFC 8058, body `List-Unsubscribe=One-Click`), and what the confirmation
  page's button sends.
- GET only shows what the link is for and a button to confirm. It must not unsubscribe by
  itself: mail security scanners open every link of a message (RFC 8058, section 3).
Both answer JSON, or an HTML page when the client prefers HTML (a browser).
"""
import html

from services.common.errors import NotFound
from services.gateway.api import Reply, endpoint
from services.gateway.openapi import HTML, also_answers
from services.gateway.rights import PUBLIC, STAFF
from services.notifications.schemas import (Announcement, AnnouncementResult, UnsubscribeQuery,
                                             UnsubscribeResult)


STREAM_NAMES = {
    "en": {"marketing": "news and offers from Procura", "report_deliveries": "scheduled reports"},
    "fr": {"marketing": "les actualités et offres de Procura",
           "report_deliveries": "les rapports planifiés"},
}

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:48px auto;
padding:0 16px;color:#1f2933;">
<h1 style="font-size:22px;color:#0b5cad;">Procura</h1>
{body}
</body></html>"""


def _wants_html(request):
    accept = request.accept_mimetypes
    return accept.best_match(["application/json", "text/html"]) == "text/html" and \
        accept["text/html"] > accept["application/json"]


def _page(locale, title, body, status=200):
    text = PAGE.format(lang=locale, title=html.escape(title), body=body)
    return Reply(text, status=status, content_type="text/html; charset=utf-8",
                 headers={"Cache-Control": "no-store"})


def _locale(call, info=None):
    if "Accept-Language" in call.request.headers or not info:
        return call.locale
    return "fr" if str(info.get("locale", "")).startswith("fr") else "en"


def _answer(call, rpc):
    """(notifications' answer for the link's token, the reply to send at once or None): an
    unknown link is a page for a browser, and the answer itself is the reply to a client
    that does not want HTML."""
    try:
        answer = rpc(call.ctx, call.query.get("token"))
    except NotFound:
        if _wants_html(call.request):
            return None, _invalid_page(call.locale)
        raise
    return answer, None if _wants_html(call.request) else answer


def _described(call, answer):
    """(locale, what the link stops, whose address), escaped for a page."""
    locale = _locale(call, answer)
    what = STREAM_NAMES[locale].get(answer["stream"], answer["stream"])
    return locale, html.escape(what), html.escape(answer["email"])


def _invalid_page(locale):
    if locale == "fr":
        return _page("fr", "Lien non valide",
                     "<p>Ce lien de désabonnement n’est pas valide. Vous pouvez gérer vos "
                     "préférences de courriel depuis votre compte Procura.</p>", status=404)
    return _page("en", "Invalid link", "<p>This unsubscribe link is not valid. You can manage "
                 "your email preferences from your Procura account.</p>", status=404)


class NotificationsRoutes:

    @endpoint("GET", "/unsubscribe", right=PUBLIC, query=UnsubscribeQuery(),
              response=UnsubscribeResult(), tags=("notifications",), errors=(404,))
    def unsubscribe_page(self, call):
        """What an unsubscribe link is for, and a button to confirm (does not unsubscribe)."""
        token = call.query.get("token")
        info, reply = _answer(call, self.notifications_rpc.unsubscribe_info)
        if reply is not None:
            return reply
        locale, what, who = _described(call, info)
        action = html.escape(f"?token={token}", quote=True)
        if info["unsubscribed"]:
            body = (f"<p>L’adresse {who} ne reçoit déjà plus {what}.</p>" if locale == "fr"
                    else f"<p>{who} already receives no more {what}.</p>")
            return _page(locale, "Procura", body)
        if locale == "fr":
            title, body = "Se désabonner", (
                f"<p>Ne plus envoyer {what} à {who} ?</p>"
                f'<form method="post" action="{action}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                '<button type="submit">Me désabonner</button></form>')
        else:
            title, body = "Unsubscribe", (
                f"<p>Stop sending {what} to {who}?</p>"
                f'<form method="post" action="{action}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                '<button type="submit">Unsubscribe</button></form>')
        return _page(locale, title, body)

    @endpoint("POST", "/unsubscribe", right=PUBLIC, query=UnsubscribeQuery(),
              response=UnsubscribeResult(), tags=("notifications",), errors=(404,))
    def unsubscribe(self, call):
        """One-click unsubscribe (RFC 8058): the address gets no more mail of this kind."""
        result, reply = _answer(call, self.notifications_rpc.unsubscribe)
        if reply is not None:
            return reply
        locale, what, who = _described(call, result)
        if locale == "fr":
            return _page("fr", "Désabonnement confirmé",
                         f"<p>C’est fait : {who} ne recevra plus {what}.</p>")
        return _page("en", "Unsubscribed", f"<p>Done: {who} will receive no more {what}.</p>")

    @endpoint("POST", "/backoffice/announcements", right=STAFF, body=Announcement(),
              response=AnnouncementResult(), status=202, tags=("backoffice",),
              idempotent=True)
    def send_announcement(self, call):
        """News and offers to customers' buyers: optional mail, so it honours each
        recipient's preferences and unsubscribes, and carries a one-click unsubscribe link."""
        body = call.body
        return Reply(self.notifications_rpc.send_announcement(
            call.ctx, body.get("subject"), body.get("body"), body.get("recipients")), status=202)


# a browser (Accept: text/html) gets pages
also_answers(NotificationsRoutes.unsubscribe_page, ok=HTML, not_found=HTML)
also_answers(NotificationsRoutes.unsubscribe, ok=HTML, not_found=HTML)
