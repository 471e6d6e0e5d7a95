"""Schemathesis over the served `/openapi.json`: the predict API, with a valid key, on a PostgreSQL store.

Positive and negative cases (schemathesis 4 generates both by default): no generated request gets a 5xx;
every answer, 200 or error, matches the documented schema, status code and content type.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import event, given, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from fuzz_support import API_KEY, fuzz_settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def predict_schema(api_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


_strategies: dict = {}


def generated_case(schema, mode: GenerationMode, data):
    """A case for any documented operation. (`schemathesis.pytest.from_fixture` would be the idiom, but the
    installed schemathesis 4.32 reads `request.node._nodeid`, which pytest 9 no longer has.)"""
    key = (id(schema), mode)
    if key not in _strategies:
        _strategies[key] = schema.as_strategy(generation_mode=mode)
    return data.draw(_strategies[key], label="case")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@fuzz_settings(60)
@given(data=st.data())
def test_no_generated_request_gets_a_server_error(predict_schema, mode, data):
    case = generated_case(predict_schema, mode, data)
    event(f"{case.method} {case.path}")
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@fuzz_settings(30)
@given(data=st.data())
def test_every_answer_matches_the_documented_schema(predict_schema, mode, data):
    case = generated_case(predict_schema, mode, data)
    case.call_and_validate(headers=AUTH, checks=[status_code_conformance, content_type_conformance,
                                                 response_schema_conformance])
