"""Money: a Decimal amount in one currency, serialised as {"amount": "1234.50", "currency": "CAD"}."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        try:
            amount = Decimal(str(self.amount))
        except InvalidOperation:
            raise ValueError(f"not an amount: {self.amount!r}")
        if not amount.is_finite():
            raise ValueError(f"not an amount: {self.amount!r}")
        object.__setattr__(self, "amount", amount.quantize(CENT, ROUND_HALF_UP))
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isalpha()):
            raise ValueError(f"not a currency code: {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def zero(cls, currency):
        return cls(Decimal(0), currency)

    @classmethod
    def from_dict(cls, data):
        return cls(Decimal(str(data["amount"])), data["currency"])

    def to_dict(self):
        return {"amount": str(self.amount), "currency": self.currency}

    def _same(self, other):
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError("money in different currencies")

    def __add__(self, other):
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other):
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, quantity):
        return Money(self.amount * Decimal(quantity), self.currency)

    def __lt__(self, other):
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other):
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other):
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other):
        self._same(other)
        return self.amount >= other.amount

    def __str__(self):
        return f"{self.amount} {self.currency}"
