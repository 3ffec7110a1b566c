"""harness.progress.Progress: a rich bar on an interactive terminal, plain throttled lines elsewhere
(CI, a pipe, TERM=dumb)."""

from __future__ import annotations

import io

import pytest

from harness.progress import Progress, interactive


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal_env(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_interactive_only_on_a_real_terminal(terminal_env, monkeypatch):
    assert interactive(Tty()) is True
    assert interactive(io.StringIO()) is False
    monkeypatch.setenv("TERM", "dumb")
    assert interactive(Tty()) is False
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("CI", "true")
    assert interactive(Tty()) is False


def test_plain_lines_announce_the_phase_and_its_end(terminal_env):
    out = io.StringIO()
    progress = Progress(out, plain_every_s=3600.0)
    progress.start("performance windows", 5)
    for _ in range(5):
        progress.advance(1)
    progress.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "performance windows: 5 steps"
    assert lines[-1] == "performance windows: 5/5"
    assert len(lines) <= 3  # at most the first step in between: the rest is throttled


def test_plain_lines_every_step_when_not_throttled_with_a_rate():
    out = io.StringIO()
    progress = Progress(out, plain_every_s=0.0)
    progress.start("downloads", 3)
    for _ in range(3):
        progress.advance(1, payload_bytes=490)
    lines = out.getvalue().splitlines()
    assert [line.split(" ")[1] for line in lines[1:]] == ["1/3", "2/3", "3/3"]
    assert all(line.endswith(" kB/s") for line in lines[1:])
    assert float(lines[-1].split(" ")[2]) > 0


def test_say_writes_a_whole_line_and_the_rate_is_empty_without_payload():
    out = io.StringIO()
    progress = Progress(out)
    progress.start("energy trials", 2)
    assert progress.rate_text() == ""
    progress.say("Trial 0: 12.345 uJ/inf")
    assert out.getvalue().splitlines()[-1] == "Trial 0: 12.345 uJ/inf"


def test_a_terminal_gets_a_rich_bar(terminal_env):
    out = Tty()
    progress = Progress(out)
    progress.start("accuracy inputs", 4)
    assert progress._bar is not None
    progress.say("a message above the bar")
    progress.advance(2, payload_bytes=1000)
    progress.advance(2)
    progress.stop()
    assert progress._bar is None
    text = out.getvalue()
    assert "accuracy inputs" in text and "4/4" in text and "a message above the bar" in text
    assert "\x1b[" in text  # drawn with terminal control sequences, not plain lines
    assert "accuracy inputs: 4 steps" not in text
    progress.stop()  # stopping twice is harmless


def test_starting_a_new_phase_stops_the_previous_bar(terminal_env):
    out = Tty()
    progress = Progress(out)
    progress.start("first", 1)
    first_bar = progress._bar
    progress.start("second", 2)
    assert progress._bar is not first_bar and not first_bar.live.is_started
    progress.stop()
    assert "second" in out.getvalue()
