"""The streamer's arithmetic: style validation, word timing, wrap, vsync prediction, extrapolation.

Expected values are computed here from the formulas as docs/display.md writes them, not by
calling the function under test a second time.
"""

from __future__ import annotations

import math
import re

import pytest

from stagebox.cues.cue import Cue
from stagebox.display import timing
from stagebox.display.config import DisplayConfig, DisplayConfigError
from stagebox.display.style import StreamerStyle, StyleError
from stagebox.display.text import wrap_text
from stagebox.display.vsync import VsyncClock
from stagebox.snapshot import ClockFit, StageSnapshot
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode
from stagebox.timemap import TimeFit


def tc(text, rate=RATE_25):
    return Timecode.parse(text, rate)


# -- style and config -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("length_seconds", 0.5, "length_seconds: 0.5 is outside 1.0..5.0"),
        ("length_seconds", 6, "length_seconds: 6 is outside"),
        ("wipe", "right", "wipe: 'right' is not one of left, both"),
        ("style", "karaoke", "style: 'karaoke'"),
        ("punch_frames", 0, "punch_frames: 0 is outside"),
        ("punch_frames", 2.5, "punch_frames: 2.5 is not a whole number"),
        ("record_colour", (300, 0, 0), "record_colour: (300, 0, 0) is not an (R, G, B)"),
        ("flutter", "yes", "flutter: 'yes' is not true or false"),
    ],
)
def test_bad_style_values_are_named(key, value, words):
    with pytest.raises(StyleError, match=re.escape(words)):
        StreamerStyle(**{key: value})


def test_style_from_config_table_names_the_key_path():
    style = StreamerStyle.from_dict({"wipe": "both", "record_colour": [255, 0, 0]})
    assert style.wipe == "both" and style.record_colour == (255, 0, 0)
    with pytest.raises(StyleError, match=r"display\.style\.lenght: unknown key"):
        StreamerStyle.from_dict({"lenght": 2})
    with pytest.raises(DisplayConfigError, match=r"display\.style\.length_seconds: 9"):
        DisplayConfig.from_dict({"style": {"length_seconds": 9}})
    with pytest.raises(DisplayConfigError, match=r"display\.backend: 'hdmi' is not one of"):
        DisplayConfig.from_dict({"backend": "hdmi"})
    with pytest.raises(DisplayConfigError, match=r"display\.png_path"):
        DisplayConfig.from_dict({"backend": "png"})
    config = DisplayConfig.from_dict({"backend": "dummy", "size": [800, 450], "latency_ms": 12})
    assert config.size == (800, 450) and config.latency_ms == 12


def test_colour_follows_the_mode():
    s = StreamerStyle()
    assert s.colour_for("record") == s.record_colour
    assert s.colour_for("rehearse") == s.rehearse_colour
    assert s.colour_for("safe") == s.safe_colour
    assert len({s.record_colour, s.rehearse_colour, s.safe_colour}) == 3


# -- streamer, punch, flutter, countdown --------------------------------------------------------


def test_streamer_length_is_whole_label_frames():
    assert timing.streamer_length_frames(StreamerStyle(length_seconds=2), RATE_25) == 50
    assert timing.streamer_length_frames(StreamerStyle(length_seconds=1.5), RATE_2997DF) == 45


def test_streamer_reaches_the_right_edge_at_tc_in_and_starts_at_the_left():
    width, bar, length = 1920, 24, 50
    assert timing.streamer_x(-50, length, width, bar) == 0
    assert timing.streamer_x(0, length, width, bar) == width - bar
    assert timing.streamer_x(0.99, length, width, bar) == width - bar  # all of TC-in
    assert timing.streamer_x(1.0, length, width, bar) is None  # gone after TC-in
    assert timing.streamer_x(-50.01, length, width, bar) is None  # not yet
    # Halfway in time is halfway in travel: (1920 - 24) / 2 = 948.
    assert timing.streamer_x(-25, length, width, bar) == 948


def test_both_edges_meet_in_the_centre():
    left, right = timing.both_edges_x(0, 50, 1920, 24)
    assert left + 24 == 960 and right == 960
    assert timing.both_edges_x(-50, 50, 1920, 24) == (0, 1920 - 24)


def test_offset_wraps_across_midnight():
    # TC-in at 00:00:00:10, the clock still at 23:59:59:20 of the day before: 15 frames early.
    day = RATE_25.frames_per_day
    assert timing.offset_frames(day - 5 + 0.25, 10, RATE_25) == pytest.approx(-14.75)
    assert timing.offset_frames(day + 12, 10, RATE_25) == pytest.approx(2)  # unwrapped count


def test_flutter_blanks_every_other_frame_of_the_last_ones():
    style = StreamerStyle(flutter=True, flutter_frames=6)
    hidden = [k for k in range(1, 12) if timing.streamer_hidden_by_flutter(-k + 0.5, style)]
    assert hidden == [2, 4, 6]
    assert not timing.streamer_hidden_by_flutter(0.2, style)  # TC-in shows the bar
    assert not any(
        timing.streamer_hidden_by_flutter(-k + 0.5, StreamerStyle(flutter=False))
        for k in range(1, 12)
    )


def test_countdown_text():
    assert timing.countdown_text(-26, RATE_25) == "-1:01"
    assert timing.countdown_text(-0.2, RATE_25) == "-0:01"
    assert timing.countdown_text(0.7, RATE_25) == "0:00"
    assert timing.countdown_text(31.5, RATE_25) == "+1:06"
    assert timing.countdown_text(-61, RATE_2997DF) == "-2:01"


# -- rhythm band word timing --------------------------------------------------------------------


def test_words_spread_over_the_cue_in_proportion_to_their_length():
    cue = Cue("1", tc("01:00:00:00"), tc("01:00:04:00"), dialogue="I never said that")
    offsets = timing.word_offsets(cue)
    # 100 frames, 1 + 5 + 4 + 4 = 14 characters.
    assert [w for w, _ in offsets] == ["I", "never", "said", "that"]
    assert [o for _, o in offsets] == pytest.approx([0, 100 / 14, 600 / 14, 1000 / 14])


def test_given_word_times_win():
    cue = Cue(
        "1",
        tc("01:00:00:00"),
        tc("01:00:04:00"),
        dialogue="Then let it wait.",
        words=(("Then", tc("01:00:00:00")), ("wait.", tc("01:00:01:12"))),
    )
    assert timing.word_offsets(cue) == (("Then", 0.0), ("wait.", 37.0))


def test_word_crosses_the_sync_bar_when_spoken():
    assert timing.rhythm_word_x(37.0, 37.0, 400, 8.0) == 400
    assert timing.rhythm_word_x(37.0, 32.0, 400, 8.0) == 440
    assert timing.rhythm_word_x(37.0, 40.0, 400, 8.0) == 376


# -- text wrapping ------------------------------------------------------------------------------


def test_wrap_keeps_lines_within_the_width():
    def measure(s):
        return 10 * len(s)

    lines = wrap_text("I told you already I was never at the harbour", 120, measure)
    assert all(measure(line) <= 120 for line in lines)
    assert " ".join(lines) == "I told you already I was never at the harbour"
    assert wrap_text("Supercalifragilistic", 50, measure) == ["Super", "calif", "ragil", "istic"]
    assert wrap_text("", 50, measure) == []


# -- vsync and extrapolation --------------------------------------------------------------------


def test_vsync_prediction_follows_the_measured_phase():
    clock = VsyncClock(60.0)
    assert clock.next_vsync(10.0) == pytest.approx(10.0 + 1 / 60)
    period = 1 / 59.94
    for k in range(200):
        clock.on_present(100.0 + k * period)
    assert clock.period == pytest.approx(period, rel=1e-3)
    last = 100.0 + 199 * period
    assert clock.next_vsync(last + 0.002) == pytest.approx(last + clock.period)
    # Late by more than a refresh: the next slot after now.
    assert clock.next_vsync(last + 1.5 * period) == pytest.approx(last + 2 * clock.period)


def test_frames_at_extrapolates_through_both_fits():
    # Frame 90000 (01:00:00:00 at 25) starts at sample 48000; 1920 samples a frame.
    clock = ClockFit(48000.0, 90000, 1920.0, RATE_25)
    fit = TimeFit(s0=48000, t0=500.0, rate=48000.0)
    snap = StageSnapshot(sample=48000, sample_rate=48000, lock="locked", clock=clock, time=fit)
    # 0.1 s later = 4800 samples = 2.5 frames.
    assert timing.frames_at(snap, 500.1) == pytest.approx(90002.5)
    # Capped at max_extrapolation past the snapshot: 1 s = 25 frames.
    assert timing.frames_at(snap, 530.0) == pytest.approx(90025.0)
    # Lost: frozen at the snapshot's sample.
    lost = StageSnapshot(sample=48960, sample_rate=48000, lock="lost", clock=clock, time=fit)
    assert timing.frames_at(lost, 530.0) == pytest.approx(90000.5)
    assert timing.frames_at(StageSnapshot(sample=0, sample_rate=48000), 1.0) is None


def test_round_half_up_is_not_bankers():
    assert [timing.round_half_up(v) for v in (0.5, 1.5, 2.5, -0.5)] == [1, 2, 3, 0]
    assert math.floor(2.5 + 0.5) == 3
