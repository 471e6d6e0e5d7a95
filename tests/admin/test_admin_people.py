"""Several operators, each with a name (issue 21): named tokens beside TRIAGE_ADMIN_TOKEN, the login cookie naming
who logged in (signed with their own token), the authenticating proxy's identity header (off unless configured), and
the audit trail every page action writes, with its section and `GET /admin/audit`. Both stores."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from admin import auth
from admin_seed import ADMIN_TOKEN, add_registry_version
from config.settings import SettingsError
from config.validation import load_settings
from store import audit
from store.models import AgentLoad, AuditEntry, Correction, ReviewMessage, WriteBack
from store.types import utcnow

ANA, BO = "ana-token-1f2e3d4c5b6a", "bo-token-9a8b7c6d5e4f"
TOKENS = f"ana:{ANA}, bo:{BO}"
HEADER = "X-Forwarded-User"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def log_in(app, token: str):
    """A browser's client logged in with `token`: the client, and the CSRF token the page's forms carry."""
    client = app.test_client()
    assert client.post("/admin/login", data={"token": token}).status_code == 303
    page = client.get("/admin").get_data(as_text=True)
    return client, page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def cookie_of(client) -> str:
    return client.get_cookie(auth.COOKIE, path="/admin").value


def entries(store, action: str | None = None) -> list[AuditEntry]:
    with store.session() as session:
        return audit.entries(session, audit.Filters(action=action), limit=1000)


def section(page: str) -> str:
    return page.split('id="audit"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def team_app(make_app):
    return make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=TOKENS)


def test_each_named_token_lets_its_operator_in_and_the_single_token_is_admin(team_app, seeded, store):
    client = team_app.test_client()
    for token in (ANA, BO, ADMIN_TOKEN):
        assert client.get("/admin/data.json", headers=bearer(token)).status_code == 200
    assert client.get("/admin/data.json", headers=bearer("ana")).status_code == 401
    assert client.get("/admin/data.json", headers=bearer(ANA + "x")).status_code == 401
    routed = client.post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND"},
                         headers=bearer(BO)).get_json()
    assert routed["status"] == "routed"
    with store.session() as session:
        correction = session.scalars(select(Correction).order_by(Correction.id.desc())).first()
        assert (correction.source, correction.user) == ("admin", "bo")
        assert session.get(ReviewMessage, seeded["review_id"]).resolved_by == "bo"


def test_the_login_cookie_names_the_operator_and_a_changed_token_logs_only_them_out(team_app, make_app, seeded):
    ana, _ = log_in(team_app, ANA)
    bo, _ = log_in(team_app, BO)
    valid, name = URLSafeTimedSerializer(ANA, salt="triage-admin-session").loads_unsafe(cookie_of(ana))
    assert (valid, name) == (True, "ana")
    assert ANA not in cookie_of(ana)  # signed with the token, never carrying it
    assert '<strong id="operator">ana</strong>' in ana.get("/admin").get_data(as_text=True)
    assert '<strong id="operator">bo</strong>' in bo.get("/admin").get_data(as_text=True)

    # ana's token is changed (and bo's kept): the same cookies against the new settings
    changed = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=f"ana:new-{ANA}, bo:{BO}")
    again_ana, again_bo = changed.test_client(), changed.test_client()
    again_ana.set_cookie(auth.COOKIE, cookie_of(ana), path="/admin")
    again_bo.set_cookie(auth.COOKIE, cookie_of(bo), path="/admin")
    assert again_ana.get("/admin").status_code == 401
    assert again_bo.get("/admin").status_code == 200
    # bo's token removed: bo is out too; a cookie claiming a name with another's signature never works
    removed = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=f"ana:{ANA}")
    gone = removed.test_client()
    gone.set_cookie(auth.COOKIE, cookie_of(bo), path="/admin")
    assert gone.get("/admin").status_code == 401
    forged = URLSafeTimedSerializer(ANA, salt="triage-admin-session").dumps("bo")
    mallory = team_app.test_client()
    mallory.set_cookie(auth.COOKIE, forged, path="/admin")
    assert mallory.get("/admin").status_code == 401


def test_a_page_route_records_the_operator_who_logged_in(team_app, seeded, store):
    client, csrf = log_in(team_app, ANA)
    response = client.post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "SHIPPING", "csrf": csrf})
    assert response.status_code == 303
    [entry] = entries(store, audit.CORRECTION)
    assert (entry.actor, entry.action, entry.target, entry.source) == ("ana", "correction", "zendesk:108", "admin")
    assert entry.before == {"review": "open", "category": "BILLING"}
    assert entry.after == {"review": "resolved", "category": "SHIPPING"}
    with store.session() as session:
        assert session.scalars(select(Correction).order_by(Correction.id.desc())).first().user == "ana"
    page = client.get("/admin").get_data(as_text=True)
    row = section(page).split(f'id="audit-{entry.id}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="actor">ana</td>' in row and "category: BILLING → SHIPPING" in row
    # bo, trying the same ticket, is told ana did it
    bo, bo_csrf = log_in(team_app, BO)
    refused = bo.post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND", "csrf": bo_csrf})
    assert refused.status_code == 409
    assert "ana on triage&#39;s admin page already routed this ticket to SHIPPING" in refused.get_data(as_text=True)


def test_leaving_a_review_to_the_agents_is_audited_and_told_by_name(team_app, seeded, store):
    client = team_app.test_client()
    path = f"/admin/reviews/{seeded['review_id']}/route"
    assert client.post(path, data={"leave": "1"}, headers=bearer(ANA)).get_json()["status"] == "left"
    [entry] = entries(store, audit.LEAVE)
    assert (entry.actor, entry.after, entry.source) == ("ana", {"review": "left"}, "admin")
    again = client.post(path, data={"category": "REFUND"}, headers=bearer(BO))
    assert again.status_code == 409
    assert again.get_json()["detail"].startswith("ana on triage's admin page already left this ticket to the agents")


def test_the_identity_header_names_the_operator_only_when_configured(make_app, seeded, store):
    off = make_app(triage_admin_token=ADMIN_TOKEN)
    assert off.test_client().get("/admin", headers={HEADER: "carol"}).status_code == 401  # ignored: off
    as_admin = off.test_client().get("/admin/data.json", headers={**bearer(ADMIN_TOKEN), HEADER: "carol"})
    assert as_admin.status_code == 200

    proxied = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=TOKENS, triage_admin_identity_header=HEADER)
    client = proxied.test_client()
    assert client.get("/admin").status_code == 401  # no header, no token, no cookie
    assert client.get("/admin", headers={HEADER: "  "}).status_code == 401  # an empty name names nobody
    assert client.get("/admin", headers={"X-Other-User": "carol"}).status_code == 401  # only the configured one
    page = client.get("/admin", headers={HEADER: "carol"})
    assert page.status_code == 200
    csrf = page.get_data(as_text=True).split('name="csrf" value="', 1)[1].split('"', 1)[0]
    path = f"/admin/reviews/{seeded['review_id']}/route"
    assert client.post(path, data={"category": "REFUND"}, headers={HEADER: "carol"}).status_code == 403  # CSRF
    other = client.get("/admin", headers={HEADER: "dave"}).get_data(as_text=True)
    assert other.split('name="csrf" value="', 1)[1].split('"', 1)[0] != csrf  # each operator's own token
    assert client.post(path, data={"category": "REFUND", "csrf": csrf}, headers={HEADER: "dave"}).status_code == 403
    assert client.post(path, data={"category": "REFUND", "csrf": csrf}, headers={HEADER: "carol"}).status_code == 303
    assert [e.actor for e in entries(store, audit.CORRECTION)] == ["carol"]
    # a bearer header decides alone: a wrong one is refused beside the proxy's name; a right one names its owner
    assert client.get("/admin/data.json", headers={**bearer("wrong"), HEADER: "carol"}).status_code == 401
    with proxied.test_request_context("/admin", headers={**bearer(BO), HEADER: "carol"}):
        from flask import request

        assert auth.operator(request) == "bo"


def test_promote_and_rollback_are_audited_with_what_was_current(make_app, tmp_path, store):
    app = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=TOKENS)
    old, new = "20260101-000000-aaaaaa", "20260201-000000-bbbbbb"
    for version in (old, new):
        add_registry_version(tmp_path / "models", version, {"accuracy": 0.9, "n": 100}, "2026-01-01T00:00:00")
    client = app.test_client()
    assert client.post(f"/admin/models/{old}/promote", headers=bearer(ANA)).get_json()["status"] == "promoted"
    assert client.post(f"/admin/models/{new}/promote", headers=bearer(BO)).get_json()["status"] == "promoted"
    assert client.post("/admin/models/rollback", headers=bearer(ANA)).get_json()["current"] == old
    found = [(e.actor, e.action, e.target, e.before, e.after) for e in reversed(entries(store))]
    assert found == [
        ("ana", "promote", f"model:{old}", {"current": "starter"}, {"current": old}),
        ("bo", "promote", f"model:{new}", {"current": old}, {"current": new}),
        ("ana", "rollback", f"model:{old}", {"current": new}, {"current": old}),
    ]
    # a refused action records nothing
    assert client.post("/admin/models/20990101-000000-cccccc/promote", headers=bearer(ANA)).status_code == 404
    assert client.post("/admin/models/rollback", data={"current": new}, headers=bearer(BO)).status_code == 409
    assert len(entries(store)) == 3


def test_an_away_mark_and_back_now_are_audited_and_name_who_set_it(team_app, store):
    with store.session() as session:
        session.add(AgentLoad(helpdesk="zendesk", agent_id="101", name="Ana", active=True, assigned_since=0))
    client = team_app.test_client()
    until = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    marked = client.post("/admin/agents/zendesk/101/away", data={"until": until.isoformat()}, headers=bearer(BO))
    assert marked.get_json()["set_by"] == "bo"
    assert client.post("/admin/agents/zendesk/101/away", data={"back": "1"}, headers=bearer(ANA)).status_code == 200
    assert client.post("/admin/agents/zendesk/999/away", data={"back": "1"}, headers=bearer(ANA)).status_code == 404
    found = [(e.actor, e.target, e.before, e.after) for e in reversed(entries(store, audit.AWAY))]
    assert found == [
        ("bo", "agent:zendesk:101", {"away_until": None, "set_by": None},
         {"away_until": until.isoformat(), "set_by": "bo"}),
        ("ana", "agent:zendesk:101", {"away_until": until.isoformat(), "set_by": "bo"},
         {"away_until": None, "set_by": None}),
    ]


def test_retry_and_drop_are_audited(team_app, seeded, store):
    client = team_app.test_client()
    failed = seeded["failed_id"]
    with store.session() as session:
        write_back = session.scalar(select(WriteBack.id).where(WriteBack.state == "failed"))
    assert client.post(f"/admin/deliveries/{failed}/retry", headers=bearer(BO)).get_json()["status"] == "requeued"
    assert client.post(f"/admin/write-backs/{write_back}/drop", headers=bearer(ANA)).get_json()["status"] == "dropped"
    assert client.post(f"/admin/write-backs/{write_back}/drop", headers=bearer(ANA)).status_code == 409
    [retried], [dropped] = entries(store, audit.RETRY), entries(store, audit.DROP)  # the refused drop: nothing
    assert (retried.actor, retried.target, retried.before["state"]) == ("bo", f"delivery:{failed}", "failed")
    assert retried.after["state"] != "failed"
    assert (dropped.actor, dropped.target, dropped.before["state"], dropped.after) == (
        "ana", f"write-back:{write_back}", "failed", {"state": "dropped"})


def test_the_section_pages_and_filters_and_scripts_get_json(team_app, store):
    now = utcnow()
    with store.session() as session:
        for n in range(30):
            audit.record(session, "ana" if n % 3 else "bo", audit.AWAY if n % 2 else audit.CORRECTION,
                         f"zendesk:{500 + n}", {"n": n}, {"n": n + 1}, at=now - timedelta(hours=n))
    client, _ = log_in(team_app, ANA)
    page = client.get("/admin").get_data(as_text=True)
    part = section(page)
    assert '<span class="shown" id="audit-shown">1–25 of 30</span>' in part
    assert part.index('id="audit-') < part.index("zendesk:500") < part.index("zendesk:501")  # newest first
    filtered = section(client.get("/admin?audit.actor=bo&audit.action=correction").get_data(as_text=True))
    assert "1–5 of 5 matching (30 in all)" in filtered  # bo: n = 0, 6, 12, 18, 24 (all even: corrections)
    recent = section(client.get("/admin?audit.age=1d").get_data(as_text=True))
    assert "1–24 of 24 matching" in recent  # within a day: 0 h .. 23 h ago (24 h ago is just older)
    searched = section(client.get("/admin?audit.q=507").get_data(as_text=True))
    assert "1–1 of 1 matching" in searched and "zendesk:507" in searched
    second = section(client.get("/admin?audit.page=2").get_data(as_text=True))
    assert "26–30 of 30" in second and "zendesk:529" in second and "zendesk:500" not in second

    answer = client.get("/admin/audit?audit.actor=bo&audit.size=2", headers=bearer(BO)).get_json()
    assert answer["total"] == 10 and answer["pages"] == 5 and len(answer["entries"]) == 2
    assert answer["entries"][0] == {"id": answer["entries"][0]["id"], "at": (now).isoformat(), "actor": "bo",
                                    "action": "correction", "target": "zendesk:500", "before": {"n": 0},
                                    "after": {"n": 1}, "source": "admin"}
    assert client.get("/admin/audit?audit.action=nonsense", headers=bearer(BO)).status_code == 400
    assert client.get("/admin/audit?audit.actor=zed", headers=bearer(BO)).get_json()["total"] == 0
    browser = client.get("/admin/audit?audit.actor=bo")
    assert browser.status_code == 303 and browser.headers["Location"].endswith("?audit.actor=bo#audit")


def test_tokens_are_never_logged(make_app, seeded, caplog):
    app = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=TOKENS)
    with caplog.at_level(logging.DEBUG):
        client, csrf = log_in(app, ANA)
        app.test_client().post("/admin/login", data={"token": BO + "-wrong"})
        client.post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND", "csrf": csrf})
    logged = "\n".join(f"{r.getMessage()} {json.dumps(r.__dict__, default=str)}" for r in caplog.records)
    assert "admin login" in logged and '"operator": "ana"' in logged
    assert ANA not in logged and BO not in logged
    # and the JSON logs' redactor knows every named token (a log line quoting one by mistake shows it masked)
    from telemetry.redaction import secret_values

    assert {ANA, BO, ADMIN_TOKEN} <= secret_values(app.extensions["triage"].settings)
    assert "ana" not in secret_values(app.extensions["triage"].settings)


@pytest.mark.parametrize("written, problem", [
    ("ana", "pair 1 is not name:token"),
    ("ana:", "pair 1 is not name:token"),
    (f"ana:{ANA},ana:{BO}", "the name 'ana' is given twice"),
    (f"ana:{ANA},bad name:{BO}", "pair 2: an operator's name"),
    (f"ana:{ANA},bo:{ANA}", "two operators share a token"),
    (f"admin:{ANA}", "the name 'admin' is TRIAGE_ADMIN_TOKEN's"),
])
def test_malformed_named_tokens_stop_start_up_naming_the_variable(written, problem):
    with pytest.raises(SettingsError) as raised:
        load_settings({"database_url": "sqlite://", "triage_admin_token": ADMIN_TOKEN,
                       "triage_admin_tokens": written}, env_file=None)
    message = str(raised.value)
    assert message.startswith("TRIAGE_ADMIN_TOKENS: ") and problem in message
    assert ANA not in message and BO not in message  # a secret is never shown


def test_the_identity_header_setting_is_checked():
    base = {"database_url": "sqlite://"}
    for bad in ("Cookie", "authorization", "X Forwarded User"):
        with pytest.raises(SettingsError, match="^TRIAGE_ADMIN_IDENTITY_HEADER: "):
            load_settings({**base, "triage_admin_token": ADMIN_TOKEN, "triage_admin_identity_header": bad},
                          env_file=None)
    with pytest.raises(SettingsError, match="TRIAGE_ADMIN_IDENTITY_HEADER: needs TRIAGE_ADMIN_TOKEN"):
        load_settings({**base, "triage_admin_identity_header": HEADER}, env_file=None)
    settings = load_settings({**base, "triage_admin_tokens": TOKENS, "triage_admin_identity_header": HEADER},
                             env_file=None)
    assert auth.keyring(settings) == auth.Keyring({"ana": ANA, "bo": BO}, HEADER)  # the page is on without "admin"
