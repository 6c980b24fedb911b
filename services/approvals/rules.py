"""Which approval workflows apply to an order, and why: a pure function of the order, the
company's workflows and the buyer's groups (no I/O), shared by checkout and the preview.

A workflow applies when it is active, names the buyer (as a user or through one of their
groups) and at least one of its rules matches. A workflow with no buyers or no rules applies
to nobody. Rules compare money in the order's currency; a rule in another currency never
matches (the API refuses such rules, since a company's currency is fixed).
"""
from dataclasses import dataclass, field
from decimal import Decimal

NARROW_NBSP = "\u202f"  # French thousands separator
RULE_TYPES = ("order_total_over", "line_price_over", "catalog", "category", "off_contract")


@dataclass
class Applying:
    """One workflow that applies to an order: its snapshot and the rules that triggered."""
    workflow_id: int
    name: str
    version: int
    steps: list
    triggered_by: list = field(default_factory=list)  # the matching rules, in workflow order


def _amount(money, currency):
    if not money or money.get("currency") != currency:
        return None
    return Decimal(str(money["amount"]))


def _line_price(line, currency):
    return _amount(line.get("unit_price"), currency)


def rule_matches(rule: dict, order: dict) -> bool:
    """Does one rule match this order? `order` is {currency, lines, totals}."""
    currency = order.get("currency")
    kind = rule.get("type")
    lines = order.get("lines") or []
    if kind == "order_total_over":
        limit = _amount(rule.get("amount"), currency)
        total = _amount((order.get("totals") or {}).get("total"), currency)
        return limit is not None and total is not None and total > limit
    if kind == "line_price_over":
        limit = _amount(rule.get("amount"), currency)
        return limit is not None and any(
            (_line_price(l, currency) or Decimal(0)) > limit for l in lines)
    if kind == "catalog":
        wanted = {int(c) for c in rule.get("catalog_ids") or ()}
        return any(wanted & {int(c) for c in l.get("catalog_ids") or ()} for l in lines)
    if kind == "category":
        wanted = {c.strip().lower() for c in rule.get("categories") or ()}
        return any((l.get("category") or "").strip().lower() in wanted for l in lines)
    if kind == "off_contract":
        return any(not l.get("on_contract") for l in lines)
    return False


def names_buyer(workflow: dict, user_id, group_ids) -> bool:
    buyers = workflow.get("buyers") or {}
    if user_id is not None and int(user_id) in {int(u) for u in buyers.get("user_ids") or ()}:
        return True
    return bool({int(g) for g in buyers.get("group_ids") or ()} & {int(g) for g in group_ids or ()})


def evaluate(order: dict, workflows, buyer_group_ids=()) -> list[Applying]:
    """The workflows that apply to `order` (placed by order["user_id"]), sorted by workflow
    id so that the answer does not depend on the order workflows are listed in."""
    applying = []
    for wf in sorted(workflows, key=lambda w: w["id"]):
        if not wf.get("active", True):
            continue
        if not names_buyer(wf, order.get("user_id"), buyer_group_ids):
            continue
        triggered = [r for r in wf.get("rules") or () if rule_matches(r, order)]
        if triggered:
            applying.append(Applying(workflow_id=wf["id"], name=wf["name"],
                                     version=wf.get("version", 1), steps=list(wf["steps"]),
                                     triggered_by=triggered))
    return applying


def needs_group_ids(workflows) -> bool:
    """Whether evaluating these workflows needs the buyer's groups (one call to identity)."""
    return any(wf.get("active", True) and (wf.get("buyers") or {}).get("group_ids")
               for wf in workflows)


# ---- rules in words, for approvers (emails, inbox) and buyers (preview) ---------------

def _money_text(money, locale):
    amount = Decimal(str(money["amount"])).quantize(Decimal("0.01"))
    if locale == "fr":
        whole, cents = f"{amount:,.2f}".split(".")
        return whole.replace(",", NARROW_NBSP) + f",{cents} {money['currency']}"
    return f"{amount:,.2f} {money['currency']}"


def describe_rule(rule: dict, locale: str = "en", catalog_names=None) -> str:
    kind = rule.get("type")
    fr = locale == "fr"
    if kind == "order_total_over":
        amount = _money_text(rule["amount"], locale)
        return f"Total de la commande supérieur à {amount}" if fr else f"Order total over {amount}"
    if kind == "line_price_over":
        amount = _money_text(rule["amount"], locale)
        return (f"Une ligne à un prix unitaire supérieur à {amount}" if fr
                else f"A line with a unit price over {amount}")
    if kind == "catalog":
        names = catalog_names or {}
        listed = ", ".join(names.get(int(c), f"#{c}") for c in rule.get("catalog_ids") or ())
        return (f"Un article des catalogues : {listed}" if fr
                else f"An item from the catalogs: {listed}")
    if kind == "category":
        listed = ", ".join(rule.get("categories") or ())
        return f"Un article des catégories : {listed}" if fr else f"An item in the categories: {listed}"
    if kind == "off_contract":
        return "Un article hors contrat" if fr else "An off-contract item"
    return kind or ""


def describe_rules(rules, locale="en") -> str:
    return "; ".join(describe_rule(r, locale) for r in rules)
