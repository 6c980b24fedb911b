"""The gateway's reading of a JSON request body (`api.parse_json`): JSON as RFC 8259 has it,
and a clear ValueError (the caller's 400 malformed_json) for anything else, however it is
built: broken, not UTF-8, NaN or Infinity, nested past what the parser can follow, text
that is not Unicode. Values no request can mean (NUL in text, numbers beyond 64 bits) are a
422 naming the field, before any service sees them."""
import pytest

from services.common.errors import Invalid
from services.gateway.json_body import parse_json


def test_a_json_body_is_read():
    assert parse_json(b'{"name": "Q4", "lines": [{"quantity": 2.5}]}') == {
        "name": "Q4", "lines": [{"quantity": 2.5}]}


@pytest.mark.parametrize("body", [
    b"{not json", b'{"name": "\xff"}', b'{"n": NaN}', b'{"n": Infinity}', b'[-Infinity]',
    b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_anything_else_is_a_value_error(body):
    with pytest.raises(ValueError):
        parse_json(body)


@pytest.mark.parametrize("body", [b'{"username": "\\ud800"}', b'["ok", {"k\\udfff": 1}]'])
def test_text_that_is_not_unicode_is_a_value_error(body):
    # a lone surrogate: valid JSON escapes, but no database, email or UTF-8 reply can keep it
    with pytest.raises(ValueError, match="not Unicode"):
        parse_json(body)


@pytest.mark.parametrize("body, code, errors", [
    (b'{"name": "HQ\\u0000"}', "nul_character", {"name": ["text cannot hold the NUL "
                                                           "character (U+0000)"]}),
    (b'{"shipping_address": {"name": "\\u0000"}}', "nul_character",
     {"shipping_address": {"name": ["text cannot hold the NUL character (U+0000)"]}}),
    (b'{"cart_id": -126285918773363473383424}', "number_out_of_range",
     {"cart_id": ["a whole number beyond 64 bits"]}),
    (b'{"lines": [{"quantity": 1}, {"quantity": 9223372036854775808}]}', "number_out_of_range",
     {"lines": {"1": {"quantity": ["a whole number beyond 64 bits"]}}}),
    (b'{"catalog_ids": [1e400]}', "number_out_of_range",
     {"catalog_ids": {"0": ["a number too large"]}}),
    (b'9223372036854775808', "number_out_of_range", {"_schema": ["a whole number beyond 64 bits"]}),
])
def test_a_value_no_request_can_mean_is_invalid_and_names_its_field(body, code, errors):
    with pytest.raises(Invalid) as refused:
        parse_json(body)
    assert (refused.value.status, refused.value.code, refused.value.errors) == (422, code, errors)


def test_the_largest_64_bit_numbers_and_ordinary_text_pass():
    body = b'{"a": 9223372036854775807, "b": -9223372036854775807, "c": "\\u00e9\\ud83d\\ude00"}'
    assert parse_json(body) == {"a": 2 ** 63 - 1, "b": -(2 ** 63 - 1), "c": "\u00e9\U0001f600"}
