"""`stagebox monitor`: the pure frame renderer, the level meter, peak hold, and the loop's
reconnection and terminal handling against a real control socket."""

from __future__ import annotations

import io
import math
import os
import re
import termios
import threading

import pytest

from stagebox.cli import main
from stagebox.control.server import ControlServer
from stagebox.monitor import bigdigits, meter
from stagebox.monitor.loop import ENTER, LEAVE, StatusSource, run_monitor
from stagebox.monitor.render import ASCII, UNICODE, render, scale_line
from tests.control_fake import FakeStage

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # the test's own idea of an escape code


def visible(line: str) -> str:
    return ANSI.sub("", line)


@pytest.fixture
def stage(tmp_path):
    fake = FakeStage(tmp_path / "takes")
    yield fake
    fake.log.close()


def busy_status(stage, channels=2):
    status = stage.do_status()
    status["cue"]["dialogue"] = "Where were you on the night of the fourteenth? " * 6
    status["recording"] = True
    status["levels_dbfs"] = [-6.0, -20.0, None, float("-inf"), 0.0, -45.0, -1.0, -80.0][:channels]
    status["channel_names"] = ["Boom", "LTC", "Lav", "Spare 4", "Hot", "Low", "Near", "Off"][
        :channels
    ]
    status["message"] = "disk is filling: " + "x" * 200
    status["xruns"] = 3
    return status


@pytest.mark.parametrize("size", [(80, 24), (132, 40), (100, 30), (60, 18)])
@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("channels", [2, 8])
def test_frames_fit_the_terminal(stage, size, colour, channels):
    width, height = size
    for status in (busy_status(stage, channels), None):
        lines = render(status, width, height, colour=colour, error="stagebox is not running")
        assert 0 < len(lines) <= height
        assert all(len(visible(line)) <= width for line in lines), max(lines, key=len)


def test_frame_shows_the_stage(stage):
    status = busy_status(stage)
    lines = [visible(x) for x in render(status, 80, 24)]
    text = "\n".join(lines)
    assert "TC 01:00:11:07" in text and "LOCKED" in text and "25 fps" in text
    assert "speed 1.000x" in text and " REHEARSE " in lines[0] and "up 1:02:03" in lines[0]
    assert "CUE   101  JOHN  01:00:10:00" in text and "NEXT  102  MARY" in text
    assert "TAKE 3  ● REC" in text and "cue ●  record ○" in text
    assert "Where were you on the night" in text
    assert "xruns 3" in text and "disk 12:34 left" in text
    # The big timecode: five rows of block glyphs under the header.
    assert all("█" in line for line in lines[1:6])
    # The dialogue is wrapped, not cut at the edge, and a cut-off text ends with a mark.
    dialogue = [line for line in lines if line.startswith('     "') or line.startswith("     W")]
    assert len(dialogue) >= 2 and dialogue[-1].rstrip().endswith("…")


def test_wider_terminal_gets_a_bigger_timecode(stage):
    status = stage.do_status()
    small = [visible(x) for x in render(status, 80, 24)]
    big = [visible(x) for x in render(status, 132, 40)]
    rows = lambda lines: sum(1 for line in lines if "█" in line and "TC" not in line)  # noqa: E731
    assert rows(small) == 5 and rows(big) >= 10
    meter_len = lambda lines: max(line.count("█") + line.count("░") for line in lines[6:])  # noqa: E731
    assert meter_len(big) > meter_len(small) + 40


def test_level_meter_scaling(stage):
    status = stage.do_status()  # Mic 1 at -6 dBFS, LTC at -20 dBFS
    lines = [visible(x) for x in render(status, 80, 24)]
    for name, dbfs in (("Mic 1", -6.0), ("LTC", -20.0)):
        line = next(x for x in lines if x.strip().startswith(name))
        bar = "".join(c for c in line if c in "█░▌")
        share = bar.count("█") / len(bar)
        # Linear in dB over 60 dB: -6 dBFS is 54/60 of the bar, -20 dBFS is 40/60.
        assert abs(share - (60 + dbfs) / 60) <= 1 / len(bar)
        assert line.rstrip().endswith(f"{dbfs:.1f}")
    assert meter.cells_lit(-6.0, 50) == 45
    assert meter.cells_lit(0.0, 50) == 50 and meter.cells_lit(+3.0, 50) == 50
    assert meter.cells_lit(-60.0, 50) == 0 and meter.cells_lit(-90.0, 50) == 0
    assert meter.cells_lit(None, 50) == 0 and meter.cells_lit(-math.inf, 50) == 0
    assert meter.cells_lit(float("nan"), 50) == 0


def test_peak_hold_mark_and_clip(stage):
    status = stage.do_status()
    status["levels_dbfs"] = [-30.0, -20.0]
    lines = [visible(x) for x in render(status, 80, 24, hold=[-12.0, 0.0])]
    boom = next(x for x in lines if x.strip().startswith("Mic 1"))
    bar = "".join(c for c in boom if c in "█░▌")
    assert bar.index("▌") == round(0.8 * len(bar)) - 1  # -12 dBFS: 48/60 of the bar
    assert bar.count("█") == round(0.5 * len(bar))  # -30 dBFS: half
    ltc = next(x for x in lines if x.strip().startswith("LTC"))
    assert ltc.endswith("CLIP") and "CLIP" not in boom


def test_peak_hold_holds_then_falls_never_below_the_level():
    hold = meter.PeakHold(hold=1.5, fall=20.0)
    assert hold.update([-10.0], 0.0) == [-10.0]
    assert hold.update([-40.0], 1.0) == [-10.0]  # held
    assert hold.update([-40.0], 1.5) == [-10.0]
    assert hold.update([-40.0], 2.0) == pytest.approx([-20.0])  # 0.5 s past hold at 20 dB/s
    assert hold.update([-30.0], 3.0) == [-30.0]  # falls no lower than the level
    assert hold.update([-5.0], 3.1) == [-5.0]  # a new peak takes over at once
    assert hold.update([-5.0, -9.0], 3.2) == [-5.0, -9.0]  # channels changed: start again


def test_scale_marks_sit_where_their_level_fills_the_bar():
    for cells in (40, 61, 100):
        line = scale_line(cells)
        for mark in ("-6", "-12", "-24"):
            end = meter.cells_lit(float(mark), cells)
            assert line[end - len(mark) : end] == mark
        assert line.endswith("0")


def test_block_digits_and_ascii_fallback(stage):
    for scale in (1, 2, 3):
        rows = bigdigits.big_text("01:00:11;07", scale)
        assert len(rows) == bigdigits.ROWS * scale
        assert {len(r) for r in rows} == {bigdigits.big_width("01:00:11;07", scale)}
    # Each digit is its own shape: no two glyphs look alike.
    shapes = {tuple(bigdigits.FONT[d]) for d in "0123456789"}
    assert len(shapes) == 10
    lines = render(busy_status(stage), 80, 24, ascii=True)
    assert all(line.isascii() for line in lines)
    assert set(ASCII) == set(UNICODE)


def test_offline_frame_says_retrying():
    lines = [visible(x) for x in render(None, 80, 24, error="nothing answers at /x.sock")]
    assert "not running — retrying" in lines[0]
    assert any("nothing answers at /x.sock" in line for line in lines)


def test_monitor_once_prints_one_frame(stage, tmp_path, capsys):
    path = str(tmp_path / "c.sock")
    server = ControlServer(path, stage)
    server.start()
    try:
        argv = ["monitor", "--once", "--socket", path, "--width", "132", "--height", "40"]
        assert main([*argv, "--color", "never"]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "TC 01:00:11:07" in out and "CUE   101  JOHN" in out
        assert "Mic 1" in out and "LTC" in out and "-6.0" in out
        assert all(len(line) <= 132 for line in out.splitlines())
        assert main([*argv, "--color", "always"]) == 0
        assert "\x1b[41;97m RECORD" not in capsys.readouterr().out  # the stage rehearses
        stage.mode = "record"
        assert main([*argv, "--color", "always"]) == 0
        assert "\x1b[41;97m RECORD \x1b[0m" in capsys.readouterr().out
    finally:
        server.stop()
    assert [c for c, _ in stage.calls] == ["status"] * 3


def test_status_source_reconnects_after_a_restart(stage, tmp_path):
    path = str(tmp_path / "c.sock")
    now = [0.0]
    source = StatusSource(path, clock=lambda: now[0])
    assert source.poll() is None and "not running" in source.error
    server = ControlServer(path, stage)
    server.start()
    assert source.poll() is None  # too soon to try again
    now[0] = 1.0
    assert source.poll()["timecode"] == "01:00:11:07"
    assert source.poll()["timecode"] == "01:00:11:07"
    server.stop()  # the service restarts
    now[0] = 1.1
    # A connection's handler thread already waiting for a line may answer one last request
    # after stop() (in the real service the process exits and closes it); then it is gone.
    first = source.poll()
    if first is not None:
        assert source.poll() is None
    assert source.error
    server = ControlServer(path, stage)
    server.start()
    try:
        now[0] = 2.2
        assert source.poll()["mode"] == "rehearse"
    finally:
        source.close()
        server.stop()


def test_loop_quits_on_q_and_restores_the_terminal(stage, tmp_path):
    path = str(tmp_path / "c.sock")
    server = ControlServer(path, stage)
    server.start()
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        out = io.StringIO()
        # Typed once the monitor is up (entering cbreak mode discards earlier typing).
        threading.Timer(0.3, os.write, (master, b"q")).start()
        run_monitor(path, out, slave, colour=False, frames=100)
        text = out.getvalue()
        assert text.startswith(ENTER) and text.endswith(LEAVE)
        assert 2 <= text.count("\x1b[H") < 30  # quit soon after the key, 10 frames a second
        assert "TC 01:00:11:07" in text
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
        server.stop()


def test_loop_draws_retrying_while_the_service_is_away(tmp_path):
    out = io.StringIO()
    run_monitor(str(tmp_path / "gone.sock"), out, None, colour=False, frames=2)
    text = out.getvalue()
    assert text.count("not running — retrying") == 2 and text.endswith(LEAVE)


def test_review_mode_take_line_names_the_take_under_review_not_the_next(stage):
    """In review, status's take is the take playing back: never "(next)" beside it."""
    status = stage.do_status()
    status.update(mode="review", review="101 take 2", take=2, recording=False)
    text = "\n".join(visible(x) for x in render(status, 80, 24))
    assert "REVIEW 101 take 2" in text
    assert "TAKE 2  (review)" in text and "(next)" not in text


def test_room_tone_shows_no_made_up_timecode_span(stage):
    """Room tone's "cue" (RT-R1-SC4) has no TC-in/TC-out: status and the monitor show its name
    and "ROOM TONE, quiet please", never 00:00:00:00-00:00:00:00 (0.0s)."""
    from stagebox.cli.show import status_lines

    status = stage.do_status()
    status["cue"] = {
        "number": "RT-R1-SC4",
        "character": "",
        "tc_in": "00:00:00:00",
        "tc_out": "00:00:00:00",
        "dialogue": "ROOM TONE, quiet please",
    }
    status["recording"] = True
    text = "\n".join(visible(x) for x in render(status, 80, 24))
    assert "CUE   RT-R1-SC4" in text and "ROOM TONE, quiet please" in text
    assert "00:00:00:00" not in text
    cue_line = next(line for line in status_lines(status) if line.startswith("cue "))
    assert cue_line.split(None, 1)[1] == 'RT-R1-SC4  "ROOM TONE, quiet please"'
    assert "CUE   101  JOHN  01:00:10:00" in "\n".join(
        visible(x) for x in render(busy_status(stage), 80, 24)
    )
