"""`triage` run as a new operator runs it: the installed console script, from a folder that is not the checkout.
Every way start-up can fail prints a short block (under 20 lines) naming every problem, and no traceback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("triage")
OUR_PREFIXES = ("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_", "DATABASE_URL", "REDIS_URL")


def triage(folder: Path, *argv: str, timeout: float = 90, **env: str) -> tuple[int, str]:
    """Exit code and stdout + stderr of the console script (or `python -m cli.main` without one) in `folder`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES) and k != "PYTHONPATH"}
    clean.update(HF_HUB_OFFLINE="1", **env)
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
    if not SCRIPT.exists():
        clean["PYTHONPATH"] = str(REPO)
    result = subprocess.run([*command, *argv], cwd=folder, env=clean, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def assert_explained(code: int, output: str, *named: str) -> list[str]:
    lines = output.strip().splitlines()
    assert code == 2, output
    assert len(lines) < 20, output
    assert "Traceback" not in output, output
    assert lines[0].startswith("triage: cannot start: "), output
    for name in named:
        assert name in output, f"{name!r} not named in:\n{output}"
    return lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_version_is_the_package_version_and_instant(tmp_path):
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        code, output = triage(tmp_path, "--version")
        timings.append(time.perf_counter() - started)
    assert (code, output) == (0, f"triage {metadata.version('triage')}\n")
    assert min(timings) < 1.0, timings


def test_version_imports_no_command_module():
    probe = ("import sys; from cli.main import main; main(['--version']); "
             "print(sorted(m for m in ('config.settings', 'sqlalchemy', 'pydantic', 'classifier') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_several_setting_mistakes_are_listed_at_once_without_echoing_secrets(tmp_path):
    code, output = triage(tmp_path, "serve", TRIAGE_CONFIDENCE_THRESHOLD="1.5", TRIAGE_WORKERS="lots",
                          TRIAGE_RETRAIN_CRON="sometimes", TRIAGE_MAX_BODY_BYTES="10", ZENDESK_SUBDOMAIN="acme",
                          ZENDESK_API_TOKEN="sekrit-token-value", SLACK_BOT_TOKEN="xoxb-sekrit")
    lines = assert_explained(code, output, "TRIAGE_CONFIDENCE_THRESHOLD", "(got '1.5')", "TRIAGE_WORKERS",
                             "(got 'lots')", "TRIAGE_RETRAIN_CRON", "TRIAGE_MAX_BODY_BYTES", "ZENDESK_EMAIL",
                             "ZENDESK_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "SLACK_REVIEW_CHANNEL")
    assert lines[0] == "triage: cannot start: 8 problems"
    assert "sekrit" not in output
    assert "triage --debug serve" in lines[-1]


def test_an_unreachable_database_is_named_by_host_and_port_never_by_password(tmp_path):
    port = free_port()
    started = time.monotonic()
    code, output = triage(tmp_path, "serve", DATABASE_URL=f"postgresql://triage:pa55word@127.0.0.1:{port}/triage")
    lines = assert_explained(code, output, "DATABASE_URL", f"127.0.0.1:{port}", "connection refused")
    assert len(lines) == 3 and "pa55word" not in output
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("name, text, named", [
    ("routing.toml", "[categories.REFUNDS]\ntags = [\"billing\"\nthreshold = 0.8\n",
     ["routing.toml:3: not valid TOML"]),
    ("routing.toml", "[categories.REFUNDS]\ntreshold = 0.8\nalways_review = 'yes please'\n",
     ["routing.toml:2: categories.REFUNDS.treshold: unknown key", "routing.toml:3: categories.REFUNDS.always_review"]),
    ("routing.yaml", "categories:\n  REFUNDS:\n    threshold: 3\n  PAYMENT: [1\n", ["routing.yaml:5: not valid YAML"]),
    ("missing.toml", None, ["missing.toml: routing file not found (TRIAGE_ROUTING_FILE)"]),
])
def test_a_broken_routing_file_is_named_with_its_lines(tmp_path, name, text, named):
    if text is not None:
        (tmp_path / name).write_text(text)
    code, output = triage(tmp_path, "serve", TRIAGE_ROUTING_FILE=str(tmp_path / name))
    assert_explained(code, output, *named)


def test_everything_wrong_at_once_is_one_short_block(tmp_path):
    (tmp_path / "routing.toml").write_text("[categories.REFUNDS]\nthreshold = 2\n")
    code, output = triage(tmp_path, "serve", TRIAGE_CONFIDENCE_THRESHOLD="high", FRESHDESK_DOMAIN="acme",
                          DATABASE_URL=f"postgresql://u:pw@127.0.0.1:{free_port()}/triage",
                          TRIAGE_ROUTING_FILE=str(tmp_path / "routing.toml"),
                          TRIAGE_MODEL_DIR=str(tmp_path / "models"), TRIAGE_STARTER_MODEL=str(tmp_path / "nothing"))
    lines = assert_explained(code, output, "TRIAGE_CONFIDENCE_THRESHOLD", "FRESHDESK_API_KEY",
                             "FRESHDESK_WEBHOOK_SECRET", "routing.toml:2: categories.REFUNDS.threshold",
                             "DATABASE_URL: cannot connect", "no current model")
    assert lines[0] == "triage: cannot start: 6 problems"


def test_a_flood_of_mistakes_is_cut_to_stay_under_20_lines(tmp_path):
    (tmp_path / "routing.toml").write_text("".join(f"[categories.C{n}]\nthreshold = 5\n" for n in range(30)))
    code, output = triage(tmp_path, "serve", TRIAGE_ROUTING_FILE=str(tmp_path / "routing.toml"))
    lines = assert_explained(code, output, "routing.toml:2: categories.C0.threshold", "... and 16 more")
    assert lines[0] == "triage: cannot start: 30 problems"


def test_debug_shows_the_tracebacks_before_or_after_the_command(tmp_path):
    url = f"postgresql://u@127.0.0.1:{free_port()}/triage"
    for argv in (["--debug", "serve"], ["serve", "--debug"]):
        code, output = triage(tmp_path, *argv, DATABASE_URL=url)
        assert code == 2 and "Traceback" in output and "OperationalError" in output
        assert "triage: cannot start: 1 problem" in output


def test_a_worker_on_a_database_without_the_schema_says_what_to_run(tmp_path):
    code, output = triage(tmp_path, "worker", DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
    assert_explained(code, output, "DATABASE_URL", "does not exist yet: run `triage db upgrade`")
    assert not (tmp_path / "new.db").exists()  # checking it created nothing


def test_a_command_that_fails_says_so_in_one_line(tmp_path):
    code, output = triage(tmp_path, "db", "upgrade", DATABASE_URL="sqlite:////nonexistent-folder/triage.db")
    lines = output.strip().splitlines()
    assert code == 1 and len(lines) == 2 and "Traceback" not in output, output
    assert lines[0].startswith("triage: db failed: OperationalError") and "--debug db upgrade" in lines[1]


@pytest.mark.parametrize("where", ["environment", ".env file"])
def test_serve_says_at_start_that_it_does_not_use_redis(tmp_path, where):
    """`triage serve` drains the store's inbox whatever REDIS_URL says: it says so, and does not need Redis."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = {"TRIAGE_WORKERS": "lots"}  # a mistake, so that serve stops after its checks
    if where == ".env file":
        (tmp_path / ".env").write_text(f"REDIS_URL={dead_redis}\n")
    else:
        env["REDIS_URL"] = dead_redis
    code, output = triage(tmp_path, "serve", **env)
    assert code == 2 and "TRIAGE_WORKERS" in output, output
    assert "REDIS_URL is set but `triage serve` does not use it" in output, output
    assert "redis" not in output.split("does not use it", 1)[1].split("\n", 1)[1].lower(), output  # not pinged


def test_serve_without_redis_url_says_nothing_about_it(tmp_path):
    code, output = triage(tmp_path, "serve", TRIAGE_WORKERS="lots")
    assert code == 2 and "REDIS_URL" not in output, output
