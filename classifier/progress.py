"""Progress of a long command on stderr: the stage, step i/n, time elapsed and an estimate of what is left.

Modes: `bar` redraws one tqdm bar per stage in place and leaves one line behind when the stage ends (a
terminal); `lines` prints one plain line when a stage or a part of one starts, never a carriage return (CI,
log files); `off` prints nothing. `auto` is a bar on a terminal and nothing elsewhere, so library callers
stay silent in logs; `for_command` is what the command line uses: a bar on a terminal, else lines, and
nothing with `--quiet`. Progress never goes to stdout, which belongs to the command's result.

A counted stage has a total of work units (members x folds, weighted by each member's rough cost); its
estimate is the stage's elapsed time per unit done times the units left.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from typing import Iterator, TextIO

from tqdm import tqdm

MODES = ("auto", "bar", "lines", "off")


def format_duration(seconds: float) -> str:
    """'0.4 s', '12 s', '1 min 05 s', '2 h 03 min': how people read a duration."""
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f} s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


def estimate(elapsed: float, done: float, total: float | None) -> str | None:
    """'about 45 s left' from the pace so far; None before the first unit or for an uncounted stage."""
    if not total or done <= 0 or elapsed <= 0 or done >= total:
        return None
    return f"about {format_duration(elapsed / done * max(total - done, 0.0))} left"


def _size_arguments(stream) -> dict:
    """tqdm follows a terminal's size; a pty that reports 0 x 0 (some CI runners) would make it hide the bar."""
    try:
        if os.get_terminal_size(stream.fileno()).columns > 0:
            return {"dynamic_ncols": True}
    except (AttributeError, OSError, ValueError):
        pass
    return {"ncols": 100, "nrows": 40}


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Bar(tqdm):
    """tqdm with our own estimate field: 'about 45 s left', or 'estimating' before the first step."""

    @property
    def format_dict(self):
        values = super().format_dict
        text = estimate(values["elapsed"], values["n"], values["total"])
        values["estimate"] = f", {text}" if text else ("" if values["n"] else ", estimating")
        return values


COUNTED_FORMAT = "{desc}  {percentage:3.0f}% |{bar:20}| {elapsed}{estimate}"
UNCOUNTED_FORMAT = "{desc}  {elapsed}"


class Progress:
    def __init__(self, mode: str = "auto", stream: TextIO | None = None, title: str = "", tick_seconds: float = 1.0):
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            mode = "bar" if _is_tty(self.stream) else "off"
        self.mode = mode
        self.title = title
        self.tick_seconds = tick_seconds
        self.started = time.monotonic()
        self._lock = threading.RLock()
        self._bar: _Bar | None = None
        self._stage, self._part, self._total, self._done, self._stage_started = "", "", None, 0.0, self.started
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def for_command(cls, quiet: bool, title: str = "", stream: TextIO | None = None) -> "Progress":
        stream = stream if stream is not None else sys.stderr
        return cls("off" if quiet else ("bar" if _is_tty(stream) else "lines"), stream, title)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stage(self, name: str, total: float | None = None, note: str = "") -> None:
        """Start a stage (ending the one before). `total`: work units, for a bar and an estimate."""
        with self._lock:
            self._end_stage()
            self._stage, self._part, self._total, self._done = name, "", total or None, 0.0
            self._stage_started = time.monotonic()
            if self.mode == "lines":
                self._line(f"{name}{f' ({note})' if note else ''}")
            elif self.mode == "bar":
                self._bar = _Bar(total=self._total, desc=self._description(note), file=self.stream, leave=True,
                                 smoothing=0, mininterval=0.2, ascii=not _is_tty(self.stream),
                                 **_size_arguments(self.stream),
                                 bar_format=COUNTED_FORMAT if self._total else UNCOUNTED_FORMAT)
                self._start_ticker()

    def part(self, name: str) -> None:
        """A named part of the current stage (a member): the bar's text, or one line with the estimate so far."""
        with self._lock:
            self._part = name
            if self.mode == "lines":
                left = estimate(time.monotonic() - self._stage_started, self._done, self._total)
                share = f", {self._done / self._total:.0%} done" if self._total and self._done else ""
                self._line(f"{self._stage}: {name}{share}{f', {left}' if left else ''}")
            elif self._bar is not None:
                self._bar.set_description_str(self._description(), refresh=True)

    def advance(self, amount: float = 1.0, detail: str = "") -> None:
        """`amount` units of the current stage done; `detail` ('fold 2/5') shows on the bar only."""
        with self._lock:
            self._done += amount
            if self._bar is not None:
                self._bar.set_description_str(self._description(detail), refresh=False)
                self._bar.update(amount)

    def write(self, message: str) -> None:
        """A message (a logged warning) that does not tear the bar; written in every mode."""
        with self._lock:
            if self._bar is not None:
                self._bar.write(message, file=self.stream)
            else:
                print(message, file=self.stream, flush=True)

    def close(self, message: str = "") -> None:
        """End the last stage; `message` ('done') ends a lines log with the total time."""
        with self._lock:
            self._end_stage()
            if self.mode == "lines" and message:
                self._line(message)
        self._stop_ticker()

    def _description(self, detail: str = "") -> str:
        return " · ".join(part for part in (self._stage, self._part, detail) if part)

    def _line(self, text: str) -> None:
        title = f"{self.title} " if self.title else ""
        print(f"{title}[{_clock(time.monotonic() - self.started)}] {text}", file=self.stream, flush=True)

    def _end_stage(self) -> None:
        if self._bar is not None:
            if self._total:
                self._bar.n = self._total  # a stage that ends has done all its work, whatever was counted
            self._bar.set_description_str(self._stage, refresh=False)
            self._bar.close()
            self._bar = None

    def _start_ticker(self) -> None:
        """Redraws the bar every `tick_seconds`, so the elapsed time moves during a long fold."""
        if self._ticker is not None or self.tick_seconds <= 0:
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="progress-ticker", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join(timeout=2)
            self._ticker = None


class LogHandler(logging.Handler):
    """Log records through a reporter (`warning: ...`), so a warning does not tear the bar."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.write(f"{record.levelname.lower()}: {record.getMessage()}")
        except Exception:  # a broken stderr must not stop the command
            self.handleError(record)


@contextmanager
def warnings_through(progress: Progress) -> Iterator[None]:
    """Python warnings (sklearn's ConvergenceWarning: nine lines, once per fold) as one line each, once."""
    seen: set[tuple[type, str]] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        first = (str(message).strip().splitlines() or [""])[0]
        if (category, first) not in seen:
            seen.add((category, first))
            progress.write(f"warning: {category.__name__}: {first}")

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def silent() -> Progress:
    """The reporter for library callers that passed none."""
    return Progress("off")
