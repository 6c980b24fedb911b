"""A JSON request body as the gateway reads it (`parse_json`), for the API's dispatch, the
portal's sign-in and PunchOut's OCI login alike."""
import json
import math

from services.common.errors import Invalid, nul_character
from services.common.paging import MAX_ID


def _not_json(constant):
    raise ValueError(f"{constant} is not a JSON value")


def parse_json(raw):
    """A request body's JSON (bytes or str). ValueError if it is not JSON as RFC 8259 has it
    (NaN and Infinity are not), nests so deep that the parser would run out of stack (about
    a thousand levels: a body of a few kilobytes), or holds text that is not Unicode (a lone
    surrogate escape such as \\ud800, which no database or email can keep). `Invalid` (422,
    naming the field) for a value no request of the contract can mean: text with the NUL
    character (`nul_character`), a whole number beyond 64 bits or a number too large for a
    float (`number_out_of_range`)."""
    try:
        payload = json.loads(raw, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None
    _check_values(payload)
    return payload


def _check_values(payload):
    # iterative: a body that parsed may still nest deeper than Python's recursion allows
    pending = [(payload, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, path)
                pending.append((item, path + (key,)))
        elif isinstance(value, list):
            pending.extend((item, path + (str(n),)) for n, item in enumerate(value))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -MAX_ID <= value <= MAX_ID:
                _refuse(path, Invalid("a whole number beyond 64 bits",
                                      code="number_out_of_range"))
        elif isinstance(value, float) and not math.isfinite(value):
            _refuse(path, Invalid("a number too large", code="number_out_of_range"))


def _check_text(text, path):
    if "\x00" in text:
        _refuse(path, nul_character())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the JSON holds text that is not Unicode (a lone surrogate)") from None


def _refuse(path, error: Invalid):
    """`error`, naming the field as marshmallow names it ({"lines": {"0": {...}}})."""
    errors = [error.detail]
    for key in reversed(path or ("_schema",)):
        errors = {key: errors}
    error.errors = errors
    raise error
