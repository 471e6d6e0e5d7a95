"""The progress reporter: a bar on a terminal, plain lines in a log, nothing when off; never on stdout."""
from __future__ import annotations

import io
import logging

from classifier.progress import LogHandler, Progress, estimate, format_duration


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_stages(progress: Progress) -> None:
    progress.stage("reading data")
    progress.stage("queue: members", total=10, note="2 members x 5 folds")
    for name, cost in (("linear_svm (1/2)", 1), ("lightgbm (2/2)", 1)):
        progress.part(name)
        for k in range(1, 6):
            progress.advance(cost, f"fold {k}/5")
    progress.write("warning: 3 exact duplicate texts")
    progress.stage("saving")
    progress.close("done")


def test_a_terminal_gets_a_bar_redrawn_in_place():
    stream = Terminal()
    _run_stages(Progress("auto", stream, title="triage train", tick_seconds=0))
    text = stream.getvalue()
    assert "\r" in text and "queue: members" in text and "100%" in text
    assert "warning: 3 exact duplicate texts\n" in text
    assert text.endswith("\n")


def test_a_log_gets_one_plain_line_per_stage_and_part_with_an_estimate():
    stream = io.StringIO()
    _run_stages(Progress("lines", stream, title="triage train"))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split("] ", 1)[1] for line in lines if line.startswith("triage train [")] == [
        "reading data", "queue: members (2 members x 5 folds)", "queue: members: linear_svm (1/2)",
        lines[3].split("] ", 1)[1], "saving", "done"]
    assert lines[3].split("] ", 1)[1].startswith("queue: members: lightgbm (2/2), 50% done")
    assert "warning: 3 exact duplicate texts" in lines


def test_auto_is_silent_off_a_terminal_and_off_is_silent_everywhere():
    for progress in (Progress("auto", io.StringIO()), Progress("off", Terminal())):
        _run_stages(progress)
        assert progress.stream.getvalue() == "warning: 3 exact duplicate texts\n"  # messages still show


def test_the_command_line_reporter_writes_to_stderr_only(capsys):
    progress = Progress.for_command(quiet=False, title="triage train")
    assert progress.mode == "lines"  # pytest's stderr is not a terminal
    _run_stages(progress)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "triage train [" in captured.err and "queue: members" in captured.err
    assert Progress.for_command(quiet=True).mode == "off"
    assert Progress.for_command(quiet=False, stream=Terminal()).mode == "bar"


def test_logged_warnings_go_through_the_reporter():
    stream = io.StringIO()
    logger = logging.getLogger("test_progress.handler")
    logger.addHandler(LogHandler(Progress("lines", stream)))
    logger.propagate = False
    logger.warning("%d rows dropped", 4)
    assert stream.getvalue() == "warning: 4 rows dropped\n"


def test_estimate_and_durations_read_like_a_person_wrote_them():
    assert estimate(10.0, 1, 3) == "about 20 s left"
    assert estimate(10.0, 0, 3) is None and estimate(10.0, 3, 3) is None and estimate(5.0, 1, None) is None
    assert [format_duration(s) for s in (0.42, 12, 65, 7325)] == ["0.4 s", "12 s", "1 min 05 s", "2 h 02 min"]


def test_training_reports_its_stages_and_counts_every_fold(frame):
    from classifier.dataset import load_labeled
    from classifier.training import TrainOptions, fit_classifier

    class Recorder(Progress):
        def __init__(self):
            super().__init__("off")
            self.stages, self.units = [], {}

        def stage(self, name, total=None, note=""):
            self.stages.append(name)
            self.units[name] = [total, 0.0]
            super().stage(name, total, note)

        def advance(self, amount=1.0, detail=""):
            self.units[self.stages[-1]][1] += amount

    data = load_labeled(frame.head(90), ["subject", "body"], ["queue"])
    recorder = Recorder()
    fit_classifier(data.tickets, data.labels, TrainOptions(members=("linear_svm", "lightgbm"), n_folds=3), recorder)
    assert recorder.stages == ["features", "queue: members", "queue: stacking", "queue: stack or plain",
                               "queue: calibration", "queue: refit"]
    total, done = recorder.units["queue: members"]
    assert total == done == (1 + 4) * 3  # member cost x folds
    refit_total, refit_done = recorder.units["queue: refit"]
    assert refit_total == refit_done > 0


def test_python_warnings_become_one_line_each_once():
    import warnings

    from classifier.progress import warnings_through

    stream = io.StringIO()
    with warnings_through(Progress("lines", stream)):
        for _ in range(3):
            warnings.warn("lbfgs failed to converge\nSTOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", UserWarning)
    assert stream.getvalue() == "warning: UserWarning: lbfgs failed to converge\n"
