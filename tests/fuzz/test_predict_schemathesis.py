"""Schemathesis over the served `/openapi.json` with every check on: the document and the predict API agree.

The predict API (valid key, PostgreSQL store) is served over real HTTP, and schemathesis's own engine runs
what `schemathesis run -c all` runs: the coverage phase (boundary values, wrong types, missing and extra
fields, methods the document does not declare, requests without the key) and the fuzzing phase (positive
and negative cases), each response judged by every check that applies to a stateless API. So a value the
document allows must be accepted, one it forbids refused; every answer (errors too) has a documented
status, content type, body and headers; a 405 names the methods in `Allow`; no request gets a 5xx.

Left out: `max_response_time` (a latency budget, not an agreement; the benches measure speed). JSON Schema
cannot bound a body's size in bytes, so a body over TRIAGE_MAX_BODY_BYTES gets its documented 413 whether
or not the schema allows it (a batch of 1,000 long tickets): 413 counts as an answer to schema-valid data and
as a refusal of schema-violating data.
"""
from __future__ import annotations

import threading
import time

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.checks import CHECKS, content_type_conformance, response_headers_conformance
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from werkzeug.serving import make_server

from fuzz_support import API_KEY, EXPLORE_EXAMPLES

CHECKED = sorted(name for name in CHECKS.get_all_names() if name != "max_response_time")
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]  # schemathesis's, and our 413
ACCEPTANCES = ["2XX", 401, 403, 404, 409, 413, 429]  # schemathesis's but 3XX and 5XX, and our 413
CI_EXAMPLES = 100  # fuzzing examples per operation in CI; the coverage phase adds ~200 cases of its own


@pytest.fixture(scope="module")
def served_api(api_app):
    """The app behind a real HTTP server on loopback (schemathesis 4.32's in-process WSGI transport fails
    with a TypeError on `max_redirects` when its engine runs)."""
    server = make_server("127.0.0.1", 0, api_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="schemathesis-target", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def schemathesis_config() -> SchemathesisConfig:
    examples = int(EXPLORE_EXAMPLES) if EXPLORE_EXAMPLES else CI_EXAMPLES
    return SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {API_KEY}"},
        "workers": 1,
        "continue-on-failure": True,
        **({} if EXPLORE_EXAMPLES else {"seed": 18}),  # CI: the same cases on every run
        "generation": {"max-examples": examples},
        "request-timeout": 10,
        "checks": {**{name: {"enabled": True} for name in CHECKED},
                   "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS},
                   "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTANCES}},
    })


def test_every_schemathesis_check_passes_on_the_predict_api(served_api):
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json", config=schemathesis_config())
    failures: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    tested: dict[tuple[str, str], int] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status != Status.SKIP:
            key = (event.phase.value, event.label or "")
            tested[key] = tested.get(key, 0) + len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        case = event.recorder.cases[case_id].value
                        failures.setdefault((event.label or "", f"{check.name}: {failure.title}"),
                                            f"{failure.message.strip()[:300]}\n    {_describe(case)}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(f"- {getattr(event, 'label', '')}: {' '.join(event.info.format().split())[:300]}")
    problems = [f"- {label} {title}\n    {detail}" for (label, title), detail in sorted(failures.items())]
    assert not problems and not errors, "\n".join(["the document and the API disagree:", *problems,
                                                   "schemathesis could not run (a request failed):", *errors])
    for phase in ("coverage", "fuzzing"):  # the run tested both operations in both phases: never vacuous
        for label in ("POST /predict", "POST /predict/batch"):
            assert tested.get((phase, label), 0) >= 10, f"{phase} sent {tested.get((phase, label), 0)} {label} case(s)"


def _describe(case) -> str:
    body = repr(case.body)
    return f"{case.method} {case.formatted_path} {body[:200]}{'...' if len(body) > 200 else ''}"


def test_a_full_predict_share_answers_429_as_documented(make_pg_app):
    """The engine above never fills the predict share, so its 429 is checked here: one predict process and
    no queue, held by the largest batch; each operation's refusal then matches its documented 429 (status,
    JSON error body, Retry-After as whole seconds)."""
    from api.predict_pool import predict_pool

    app = make_pg_app(triage_api_keys=[API_KEY], triage_predict_processes=1, triage_predict_queue=0,
                      triage_max_body_bytes=4 * 1024 * 1024)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    words = "hello my parcel from order {n} has not arrived and I would like a refund or a new one please "
    largest = {"tickets": [{"subject": f"order {n}", "body": (words * 16).format(n=n)} for n in range(1000)]}
    holder = threading.Thread(target=lambda: app.test_client().post("/predict/batch", json=largest, headers=auth))
    holder.start()
    try:
        deadline = time.monotonic() + 120
        while predict_pool(app).in_flight < 1:
            assert time.monotonic() < deadline, "the largest batch never took the predict process"
            time.sleep(0.01)
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").get_json())
        for path, body in (("/predict", {"subject": "Refund"}), ("/predict/batch", {"tickets": [{"subject": "x"}]})):
            refused = client.post(path, json=body, headers=auth)
            assert refused.status_code == 429, refused.get_data()
            case = schema[path]["POST"].Case(body=body, headers=auth, media_type="application/json")
            case.validate_response(refused, checks=[status_code_conformance, content_type_conformance,
                                                    response_headers_conformance, response_schema_conformance])
    finally:
        holder.join(timeout=300)
