"""A last line of defence: the values of secret settings are replaced by `[redacted]` in log records.

The code never logs a secret on purpose (nor a ticket's subject or body); this catches one that slips in
through an exception message or a URL. Values shorter than `MIN_SECRET_LENGTH` are ignored, since
redacting a two-letter "secret" would mangle every line.

It also cuts the message, each string field and the traceback of a record to `MAX_LOG_CHARS`
(`classifier.limits`), so an exception that quotes a megabyte of ticket logs a bounded line. The cut comes
after redaction of the part kept (plus the longest secret), so it can never leave half a secret.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from classifier.limits import MAX_LOG_CHARS

SECRET_WORDS = ("secret", "token", "key", "password")
MIN_SECRET_LENGTH = 6
REDACTED = "[redacted]"
CUT = "…[cut]"


def secret_values(settings) -> set[str]:
    """Every secret-looking setting's value, and the passwords inside the database and Redis URLs."""
    found: set[str] = set()
    for name, value in settings.model_dump().items():
        if any(word in name for word in SECRET_WORDS):
            values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
            found.update(v for v in values if isinstance(v, str))  # a dict: TRIAGE_ADMIN_TOKENS' tokens, not names
    for url in (settings.database_url, settings.redis_url):
        if url:
            found.add(urlsplit(url).password or "")
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


class SecretRedactor(logging.Filter):
    def __init__(self, secrets: set[str] | None = None):
        super().__init__()
        self.secrets: set[str] = set()
        self._longest_first: list[str] = []
        self.add(set(secrets or ()))

    def add(self, secrets: set[str]) -> None:
        self.secrets |= set(secrets)
        self._longest_first = sorted(self.secrets, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key != "msg" and (len(value) > MAX_LOG_CHARS or self._holds_secret(value)):
                setattr(record, key, self._clean(value))
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if len(text) > MAX_LOG_CHARS or self._holds_secret(text):
                record.exc_info, record.exc_text = None, self._clean(text)
        return True

    def _holds_secret(self, text: str) -> bool:
        return any(secret in text for secret in self._longest_first)

    def _clean(self, text: str) -> str:
        """Secrets replaced; a text over the cap is cut, and a secret cut in half by the window is dropped whole.

        Only the first cap plus the longest secret's length is read. A secret there is either whole (and
        replaced) or runs past the window's end; so the window's last `longest` characters are dropped too."""
        longest = len(self._longest_first[0]) if self._longest_first else 0
        cut = len(text) > MAX_LOG_CHARS
        if cut:
            text = text[: MAX_LOG_CHARS + longest]
        for secret in self._longest_first:
            text = text.replace(secret, REDACTED)
        return text[: min(MAX_LOG_CHARS, len(text) - longest)] + CUT if cut else text
