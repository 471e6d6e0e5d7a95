"""Every problem with the settings at once, one line each naming its variable (`read_settings`).

pydantic stops at the first failing cross-setting check (a model validator) and runs none of them while
a single value is wrong. So the values that are wrong are put back to their defaults, the settings are
built without the cross-setting checks, and each check is then run on its own. The result also serves
the start-up checks (`cli.preflight`): they go on with the database, routing file and model unless the
variable they need is one of the bad ones.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from pydantic import ValidationError

from config.settings import Settings, SettingsError

SECRET_WORDS = ("SECRET", "TOKEN", "KEY", "PASSWORD", "URL")  # such a variable's value is never shown


def load_settings(overrides: dict | None = None, env_file: str | None = ".env") -> Settings:
    """Read settings; raise `SettingsError` listing every bad variable, one line each."""
    report = read_settings(overrides, env_file)
    if report.problems:
        raise SettingsError(report.problems)
    return report.settings


@dataclass
class SettingsReport:
    """What `read_settings` found: `problems` (one line each); `settings` with the bad values replaced by
    their defaults (None only when even that fails), so the other start-up checks can still run; `bad`,
    the variables (field names) whose value was replaced or wrong."""

    settings: Settings | None
    problems: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)


def read_settings(overrides: dict | None = None, env_file: str | None = ".env") -> SettingsReport:
    """Every problem at once (see the module's docstring); `settings` is None only when none could be built."""
    values = dict(overrides or {})
    try:
        return SettingsReport(Settings(_env_file=env_file, **values))
    except ValidationError as exc:
        field_errors = [error for error in exc.errors() if error["loc"]]
    report = SettingsReport(None, [_one_line(error) for error in field_errors],
                            {str(error["loc"][0]) for error in field_errors})
    for name in report.bad:
        values[name] = Settings.model_fields[name].get_default(call_default_factory=True)
    try:
        report.settings = _unchecked_settings()(_env_file=env_file, **values)
    except ValidationError as exc:  # a default that does not validate: only the problems can be told
        report.problems += [_one_line(error) for error in exc.errors()]
        return report
    replaced = set(report.bad)
    for check in Settings.__pydantic_decorators__.model_validators.values():
        if check.info.mode != "after":
            continue
        try:
            check.func(report.settings)
        except ValueError as exc:
            for line in str(exc).splitlines():
                if not any(name.upper() in line for name in replaced):  # else it is about a default we put in
                    report.problems.append(line)
                    report.bad.add(line.split(":")[0].lower())
    return report


@functools.cache
def _unchecked_settings() -> type[Settings]:
    """Settings without the cross-setting checks (each overridden by a no-op), for `read_settings`."""
    skip = {name: (lambda self: self) for name in Settings.__pydantic_decorators__.model_validators}
    return type("UncheckedSettings", (Settings,), {"__module__": __name__, **skip})


def _one_line(error: dict) -> str:
    """`VARIABLE: what is wrong (got 'value')`; the value is never shown for a secret or a URL."""
    if error["loc"]:
        name = str(error["loc"][0]).upper()
        given = error.get("input")
        secret = any(word in name for word in SECRET_WORDS)
        shown = "" if secret or isinstance(given, dict) or given is None else f" (got {given!r})"
        return f"{name}: {error['msg']}{shown}"
    # model-level check: its message already starts with the variable's name
    return error["msg"].removeprefix("Value error, ")
