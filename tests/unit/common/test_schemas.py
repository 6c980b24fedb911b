"""The marshmallow pieces every service's schemas use (services/common/schemas.py): what
they take is what the OpenAPI document says they take."""
import pytest
from marshmallow import Schema, ValidationError

from services.common.paging import MAX_ID
from services.common.schemas import Amount, Boolean, Id, Text, one_of_kinds


class Body(Schema):
    amount = Amount()
    flag = Boolean()
    ref = Id()
    text = Text()


def load(**values):
    return Body().load(values)


@pytest.mark.parametrize("value", ["0", "12", "12.5", "1499.99", "999999999999.99"])
def test_an_amount_is_a_decimal_string(value):
    assert str(load(amount=value)["amount"]) == f"{float(value):.2f}"


@pytest.mark.parametrize("value", [12, 12.5, "12.345", "1e3", " 1", "-1", "", "1.",
                                   "1000000000000", "NaN"])
def test_anything_else_is_not_an_amount(value):
    with pytest.raises(ValidationError):
        load(amount=value)


def test_booleans_are_json_booleans_or_their_names_in_a_query():
    assert load(flag=True)["flag"] is True and load(flag="false")["flag"] is False
    for value in (0, 1, "yes", "on", "True", None):
        with pytest.raises(ValidationError):
            load(flag=value)


def test_an_id_is_an_integer_a_64_bit_column_holds():
    assert load(ref=MAX_ID)["ref"] == MAX_ID
    for value in (0, -1, MAX_ID + 1, "5", 5.0, True):
        with pytest.raises(ValidationError):
            load(ref=value)


def test_text_is_stripped():
    assert load(text="  a b ")["text"] == "a b"


def test_one_of_kinds_names_what_each_kind_needs():
    schema = one_of_kinds("type", ["catalog", "off_contract"],
                          {"catalog": {"catalog_ids": {"minItems": 1}}}, only=True)
    catalog, off_contract = schema["oneOf"]
    assert catalog["required"] == ["catalog_ids"]
    assert catalog["properties"]["type"] == {"enum": ["catalog"]}
    assert off_contract["not"] == {"anyOf": [{"required": ["catalog_ids"]}]}
