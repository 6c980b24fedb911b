"""The payment-gateway interface: it turns a card number and CVC into an opaque token, so
that only brand, last four digits and expiry are ever kept.

`LocalPaymentGateway` stands in for a real processor: it checks the number (Luhn, length,
brand), the expiry and the CVC, and makes a random token. The number and CVC are never
stored, logged, or repeated in an error message.
"""
import hashlib
import secrets
from abc import ABC, abstractmethod
from datetime import date

from services.common.config import env
from services.common.errors import Invalid


class CardRejected(Invalid):
    """The card cannot be used; `errors` says which field, never repeating its value."""
    default_code = "invalid_card"


class PaymentGateway(ABC):
    """What a card processor must offer Procura."""

    @abstractmethod
    def tokenize(self, number: str, exp_month: int, exp_year: int, cvc: str) -> tuple:
        """Returns (token, brand, last4) or raises CardRejected."""

    @abstractmethod
    def charge(self, token: str, amount, idempotency_key: str) -> str:
        """Charge a tokenized card; returns the charge id or raises CardRejected. The same
        idempotency_key charges once, whatever the number of calls (a retried renewal)."""


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand by issuer prefix and length, or None when we do not accept it."""
    n = len(digits)
    if digits[:2] in ("34", "37") and n == 15:
        return "Amex"
    if digits[0] == "4" and n in (13, 16, 19):
        return "Visa"
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "Mastercard"
    if (digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3]) <= 649
            or 622126 <= six <= 622925) and 16 <= n <= 19:
        return "Discover"
    return None


def normalise_year(year: int) -> int:
    return 2000 + year if 0 <= year < 100 else year


class LocalPaymentGateway(PaymentGateway):
    def __init__(self, today: date | None = None):
        self.today = today

    def tokenize(self, number, exp_month, exp_year, cvc):
        errors = {}
        digits = "".join(ch for ch in str(number or "") if ch not in " -")
        brand = None
        if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
            errors["number"] = ["Not a valid card number."]
        else:
            brand = card_brand(digits)
            if brand is None:
                errors["number"] = ["This card brand is not accepted (Visa, Mastercard, Amex, "
                                    "Discover)."]
        try:
            month, year = int(exp_month), normalise_year(int(exp_year))
        except (TypeError, ValueError):
            month, year = 0, 0
        today = self.today or date.today()
        if not 1 <= month <= 12:
            errors["exp_month"] = ["Not a valid month."]
        elif (year, month) < (today.year, today.month):
            errors["exp_year"] = ["This card has expired."]
        elif year > today.year + 20:
            errors["exp_year"] = ["Not a valid expiry year."]
        code = str(cvc or "")
        wanted = 4 if brand == "Amex" else 3
        if not code.isdigit() or len(code) != wanted:
            errors["cvc"] = ["Not a valid security code."]
        if errors:
            raise CardRejected("the card was not accepted", errors=errors)
        return "tok_" + secrets.token_hex(16), brand, digits[-4:]

    def charge(self, token, amount, idempotency_key):
        if not token:
            raise CardRejected("the card cannot be charged", code="card_declined")
        # the same key gives the same charge, as a processor's idempotency keys do
        digest = hashlib.sha256(f"{token}:{idempotency_key}".encode()).hexdigest()
        return "ch_" + digest[:24]


def payment_gateway() -> PaymentGateway:
    """The configured gateway (`PAYMENT_GATEWAY`, default `local`)."""
    kind = env("PAYMENT_GATEWAY", "local")
    if kind == "local":
        return LocalPaymentGateway()
    raise RuntimeError(f"unknown PAYMENT_GATEWAY {kind!r}")
