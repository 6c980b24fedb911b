"""The gateway's reading of a JSON request body (`api.parse_json`): JSON as RFC 8259 has it,
and a clear ValueError (the caller's 400 malformed_json) for anything else, however it is
built: broken, not UTF-8, NaN or Infinity, nested past what the parser can follow."""
import pytest

from services.gateway.api import parse_json


def test_a_json_body_is_read():
    assert parse_json(b'{"name": "Q4", "lines": [{"quantity": 2.5}]}') == {
        "name": "Q4", "lines": [{"quantity": 2.5}]}


@pytest.mark.parametrize("body", [
    b"{not json", b'{"name": "\xff"}', b'{"n": NaN}', b'{"n": Infinity}', b'[-Infinity]',
    b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_anything_else_is_a_value_error(body):
    with pytest.raises(ValueError):
        parse_json(body)
