"""A last line of defence: the values of secret settings are replaced by `[redacted]` in log records.

The code never logs a secret on purpose (nor a ticket's subject or body); this catches one that slips in
through an exception message or a URL. Values shorter than `MIN_SECRET_LENGTH` are ignored, since
redacting a two-letter "secret" would mangle every line.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

SECRET_WORDS = ("secret", "token", "key", "password")
MIN_SECRET_LENGTH = 6
REDACTED = "[redacted]"


def secret_values(settings) -> set[str]:
    """Every secret-looking setting's value, and the passwords inside the database and Redis URLs."""
    found: set[str] = set()
    for name, value in settings.model_dump().items():
        if any(word in name for word in SECRET_WORDS):
            found.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    for url in (settings.database_url, settings.redis_url):
        if url:
            found.add(urlsplit(url).password or "")
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


class SecretRedactor(logging.Filter):
    def __init__(self, secrets: set[str] | None = None):
        super().__init__()
        self.secrets: set[str] = set(secrets or ())

    def add(self, secrets: set[str]) -> None:
        self.secrets |= set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key != "msg" and any(s in value for s in self.secrets):
                setattr(record, key, self._clean(value))
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(secret in text for secret in self.secrets):
                record.exc_info, record.exc_text = None, self._clean(text)
        return True

    def _clean(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text
