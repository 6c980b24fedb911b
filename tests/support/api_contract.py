"""schemathesis' engine on a running Procura, for tests/e2e/test_api_contract.py.

Run as `python -m tests.support.api_contract` with the engine's configuration and the
operations to test as JSON on standard input (`{"openapi_url": ..., "config": {...},
"operations": [operationId, ...]}`); prints the failures as JSON. Runs are processes, one
engine worker each, and several run at once: in the test process, patched by eventlet,
schemathesis' worker threads would be green threads sharing Hypothesis' per-thread state,
and real threads trip CPython 3.11's `ast` (AST constructor recursion depth mismatch) when
Hypothesis describes strategies in two threads at once.

Schema-valid input may still be refused, with a 422, for what only the system's state or a
business rule can tell; `refusal_of_valid_input_is_explained` lets such a refusal through when it is
either a rule of the domain's own, with its own problem code (`card_required`,
`lines_not_orderable`, `invalid_cursor`...), or a `validation_failed` that names only fields
whose validity is the state's (a cursor from no earlier page, a wrong current password, a
link token never sent, a reference to no object of the caller's company) or another
field's (an end before its start). A `validation_failed` about any other field is a shape
the document leaves out.
"""
import json
import re
import sys
import time

import schemathesis
from schemathesis.engine import events

# fields whose validity depends on the state, not on their shape; and fields checked
# against another field of the request, which JSON Schema cannot relate (their descriptions
# say so): ends_on on or after starts_on, price_max not below price_min, `to` after `from`
STATE_FIELDS = re.compile(r"cursor|current_password|token|\w+_ids?")
RELATED_FIELDS = re.compile(r"ends_on|price_max|to")


@schemathesis.check
def refusal_of_valid_input_is_explained(ctx, response, case):
    """A 422 to schema-valid input is a business rule's, or about fields the state or
    another field decides."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        problem = json.loads(response.content)
        errors = problem.get("errors") or {}
    except (ValueError, AttributeError):
        problem, errors = {}, {}
    if problem.get("code") not in (None, "validation_failed"):
        return True  # a business rule, refused with its own code
    shaped = sorted(str(name) for name in errors if not STATE_FIELDS.fullmatch(str(name))
                    and not RELATED_FIELDS.fullmatch(str(name)))
    if shaped or not errors:
        raise AssertionError("Schema-valid request refused as invalid: the document does not "
                             f"say what {', '.join(shaped) or 'the request'} must be")
    return True


def _failures(event):
    recorder = event.recorder
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            yield {"operation": recorder.label, "title": failure.title,
                   "message": failure.message.strip(),
                   "status": None if response is None else response.status_code,
                   "reply": "" if response is None else
                   response.content[:400].decode("utf-8", errors="replace"),
                   "curl": check.failure_info.code_sample}


def run(openapi_url, config, operations):
    """Every failure of a run, once per operation and kind, and the engine's errors."""
    # every other operation off (schema.include() is undone by per-operation settings)
    config = dict(config, operations=[*config.get("operations", []),
                                      {"exclude-operation-id": operations, "enabled": False}])
    schema = schemathesis.openapi.from_url(openapi_url,
                                           config=schemathesis.Config.from_dict(config))
    found, errors, cases, started, phases = {}, [], 0, time.monotonic(), {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            phases[event.phase.value] = phases.get(event.phase.value, 0) + len(event.recorder.cases)
            for failure in _failures(event):
                found.setdefault((failure["operation"], failure["title"]), failure)
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return {"failures": [found[key] for key in sorted(found)], "errors": errors,
            "cases": cases, "phases": phases, "seconds": round(time.monotonic() - started, 1)}


if __name__ == "__main__":
    plan = json.load(sys.stdin)
    json.dump(run(plan["openapi_url"], plan["config"], plan["operations"]), sys.stdout)
