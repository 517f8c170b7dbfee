"""Schemathesis: requests generated from our own OpenAPI schema, valid ones and invalid ones, sent to the served
REST API. Every answer must have a documented status and content type and a body that matches the schema;
none may be a server error; invalid requests must be refused.

Every check runs but `positive_data_acceptance`: the schema cannot say every rule a request must keep (a
prompt with the trigger word twice, a character that cannot be stored), and those are refused with a
documented 400. Schemathesis' pytest plugin cannot load a schema from a fixture on pytest 9, so each
operation's requests are drawn here with Hypothesis directly."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance

from photomaker.rest.schemas import PREFIX
from stand_ins.serving import ServedApp

pytestmark = pytest.mark.both_databases  # fuzzed values are stored: on SQLite and on the stricter PostgreSQL

EXAMPLES_PER_OPERATION = 50


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_generated_request_gets_a_documented_answer(served: ServedApp, mode: schemathesis.GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served.url.rstrip('/')}{PREFIX}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13, [operation.label for operation in operations]
    nothing_to_break: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(timeout=60, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Unsatisfiable:
            # Nothing in the request to make invalid: GET /me has no parameters.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            nothing_to_break.append(operation.label)
        except Exception as error:
            raise AssertionError(f"{mode.value} {operation.label}: {error}") from error
    assert set(nothing_to_break) <= {"GET /me", "GET /models", "GET /projects"}
