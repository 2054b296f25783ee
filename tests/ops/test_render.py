"""What a terminal shows: aligned tables even with colour, colour only where wanted, progress only on a TTY."""

from __future__ import annotations

import io

import pytest

from ops.render import Progress, Style, duration, table, truncate


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_columns_line_up_whatever_colour_the_cells_carry() -> None:
    style = Style(enabled=True)
    text = table(["NAME", "STATUS"], [["demo", style.status("ready")], ["ada_writes", style.status("error")]])
    plain = [line.replace("\033[32m", "").replace("\033[31m", "").replace("\033[0m", "") for line in text.split("\n")]
    assert plain == ["NAME        STATUS", "demo        ready", "ada_writes  error"]
    assert "\033[31merror\033[0m" in text


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Style.for_stream(Terminal(), no_color=False).enabled
    assert not Style.for_stream(io.StringIO(), no_color=False).enabled  # piped: plain text
    assert not Style.for_stream(Terminal(), no_color=True).enabled
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(Terminal(), no_color=False).enabled


def test_progress_rewrites_one_line_on_a_terminal_and_is_silent_elsewhere() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream, enabled=True)
        progress.update("moving dead letters back: 10 of ~12")
        progress.update("moving dead letters back: 12 of ~12")
        progress.done()
    assert terminal.getvalue().startswith("\rmoving dead letters back: 10 of ~12\rmoving dead letters back: 12 of ~12")
    assert terminal.getvalue().endswith("\r")  # the line is wiped before the summary prints
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0s"), (59, "59s"), (61, "1m 1s"), (600, "10m"), (3600, "1h"), (5400, "1h 30m"), (200_000, "2d 7h")],
)
def test_durations_read_like_a_person_would_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_long_errors_are_cut_to_one_line() -> None:
    assert truncate("line one\nline two", 40) == "line one line two"
    assert truncate("x" * 50, 10) == "xxxxxxxxx…"
    assert truncate(None, 10) == ""
