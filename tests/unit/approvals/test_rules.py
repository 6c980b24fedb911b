"""Workflow evaluation is a pure function: its properties, checked on generated orders and
workflows."""
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.approvals.rules import describe_rule, evaluate, rule_matches

CUR = "CAD"
money = st.decimals(min_value=0, max_value=10000, places=2).map(
    lambda d: {"amount": str(d), "currency": CUR})
line = st.fixed_dictionaries({
    "part_number": st.sampled_from(["A", "B", "C"]),
    "unit_price": money, "quantity": st.integers(1, 5),
    "category": st.sampled_from(["Notebooks", "Monitors", "Software"]),
    "catalog_ids": st.lists(st.integers(1, 4), max_size=2),
    "on_contract": st.booleans()})


@st.composite
def orders(draw):
    lines = draw(st.lists(line, min_size=1, max_size=4))
    total = sum(Decimal(l["unit_price"]["amount"]) * l["quantity"] for l in lines)
    return {"user_id": draw(st.integers(1, 5)), "currency": CUR, "lines": lines,
            "totals": {"total": {"amount": str(total), "currency": CUR}}}


rule = st.one_of(
    st.builds(lambda m: {"type": "order_total_over", "amount": m}, money),
    st.builds(lambda m: {"type": "line_price_over", "amount": m}, money),
    st.builds(lambda c: {"type": "catalog", "catalog_ids": c}, st.lists(st.integers(1, 4), min_size=1)),
    st.builds(lambda c: {"type": "category", "categories": c},
              st.lists(st.sampled_from(["Notebooks", "Monitors", "Software"]), min_size=1)),
    st.just({"type": "off_contract"}))


@st.composite
def workflows(draw):
    count = draw(st.integers(0, 4))
    return [{"id": i + 1, "name": f"W{i}", "active": draw(st.booleans()),
             "buyers": {"user_ids": draw(st.lists(st.integers(1, 5), max_size=3)),
                        "group_ids": draw(st.lists(st.integers(1, 3), max_size=2))},
             "rules": draw(st.lists(rule, max_size=3)),
             "steps": [{"approvers": {"user_ids": [9], "group_ids": []}, "required": 1}]}
            for i in range(count)]


groups = st.lists(st.integers(1, 3), max_size=2)


def ids(applying):
    return [a.workflow_id for a in applying]


@settings(max_examples=300)
@given(orders(), workflows(), groups)
def test_no_applying_workflow_iff_no_active_workflow_names_the_buyer_with_a_matching_rule(
        order, wfs, group_ids):
    expected = any(w["active"] and (order["user_id"] in w["buyers"]["user_ids"]
                                    or set(group_ids) & set(w["buyers"]["group_ids"]))
                   and any(rule_matches(r, order) for r in w["rules"]) for w in wfs)
    assert bool(evaluate(order, wfs, group_ids)) == expected


@settings(max_examples=300)
@given(orders(), workflows(), groups, rule, st.data())
def test_adding_a_rule_never_makes_a_workflow_apply_to_fewer_orders(order, wfs, group_ids,
                                                                     extra, data):
    if not wfs:
        return
    i = data.draw(st.integers(0, len(wfs) - 1))
    before = set(ids(evaluate(order, wfs, group_ids)))
    changed = [dict(w, rules=w["rules"] + [extra]) if n == i else w for n, w in enumerate(wfs)]
    assert before <= set(ids(evaluate(order, changed, group_ids)))


@settings(max_examples=300)
@given(orders(), workflows(), groups, st.randoms())
def test_evaluation_ignores_the_order_workflows_are_listed_in(order, wfs, group_ids, rnd):
    shuffled = list(wfs)
    rnd.shuffle(shuffled)
    assert ids(evaluate(order, wfs, group_ids)) == ids(evaluate(order, shuffled, group_ids))


@settings(max_examples=300)
@given(orders(), workflows(), groups, st.data())
def test_removing_a_buyer_never_makes_a_workflow_apply_to_more_orders(order, wfs, group_ids, data):
    if not wfs:
        return
    i = data.draw(st.integers(0, len(wfs) - 1))
    buyers = wfs[i]["buyers"]
    choices = [("user_ids", u) for u in buyers["user_ids"]] + \
              [("group_ids", g) for g in buyers["group_ids"]]
    if not choices:
        return
    key, value = data.draw(st.sampled_from(choices))
    smaller = {**buyers, key: [v for v in buyers[key] if v != value]}
    changed = [dict(w, buyers=smaller) if n == i else w for n, w in enumerate(wfs)]
    assert set(ids(evaluate(order, changed, group_ids))) <= set(ids(evaluate(order, wfs, group_ids)))


def order_of(*lines, total):
    return {"user_id": 1, "currency": CUR, "lines": list(lines),
            "totals": {"total": {"amount": total, "currency": CUR}}}


def test_each_rule_type():
    laptop = {"unit_price": {"amount": "1500.00", "currency": CUR}, "quantity": 2,
              "category": "Notebooks", "catalog_ids": [3], "on_contract": True}
    order = order_of(laptop, total="3000.00")
    assert rule_matches({"type": "order_total_over", "amount": {"amount": "2999.99", "currency": CUR}}, order)
    assert not rule_matches({"type": "order_total_over", "amount": {"amount": "3000.00", "currency": CUR}}, order)
    assert rule_matches({"type": "line_price_over", "amount": {"amount": "1000", "currency": CUR}}, order)
    assert not rule_matches({"type": "line_price_over", "amount": {"amount": "1500", "currency": CUR}}, order)
    assert rule_matches({"type": "catalog", "catalog_ids": [3, 4]}, order)
    assert not rule_matches({"type": "catalog", "catalog_ids": [4]}, order)
    assert rule_matches({"type": "category", "categories": ["notebooks"]}, order)
    assert not rule_matches({"type": "off_contract"}, order)
    assert rule_matches({"type": "off_contract"}, order_of(dict(laptop, on_contract=False), total="1"))
    # a rule in another currency never matches
    assert not rule_matches({"type": "order_total_over", "amount": {"amount": "1", "currency": "USD"}}, order)


def test_rules_in_words_in_both_languages():
    rule = {"type": "order_total_over", "amount": {"amount": "5000", "currency": CUR}}
    assert describe_rule(rule, "en") == "Order total over 5,000.00 CAD"
    assert describe_rule(rule, "fr") == "Total de la commande supérieur à 5\u202f000,00 CAD"
    assert describe_rule({"type": "off_contract"}, "fr") == "Un article hors contrat"
