"""Clock, stage, LTC decoder and timecode parsing where a mutation run found the suite blind.

(The take path's own blind spots are in test_take_path_mutants.py; `bench/mutants.py` checks
that every listed mutant of these modules is caught.)

- the end of a take cut by a loop wrap that arrives while the clock freewheels, and a
  punch-out that falls inside a dropout;
- LTC whose hours read 24 or more (or any field out of its range): not a label, so
  `decode_all` must not return it;
- `.` (and `,`) before the frames: a drop-frame separator, as `;` is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from stagerun import ListSink

from stagebox.clock import FREEWHEEL, LOCKED
from stagebox.cues.cue import Cue
from stagebox.engine import Engine, EngineSettings
from stagebox.ltc.decoder import decode_all
from stagebox.ltc.encoder import LTCEncoder
from stagebox.sim.stagefeed import Dropout, StageFeed
from stagebox.timecode import RATE_25, RATE_2997DF, RATE_2997NDF, Rate, Timecode, TimecodeError

SR = 48000
FRAME = 1920  # samples a frame at 25 fps, 48 kHz


def cue(number, tc_in, tc_out, rate=RATE_25):
    return Cue(number, Timecode.parse(tc_in, rate), Timecode.parse(tc_out, rate), character="ANA")


# -- a loop wrap while the clock freewheels -----------------------------------------------------


def run_with_states(feed: StageFeed, cues, period: int = 256):
    """The engine over the feed; each event with the clock's state before and after the period
    that decided it."""
    audio = feed.render_all()
    settings = EngineSettings(
        SR, feed.ltc_channel, (feed.mic_channel,), headphone_channels=(0,), playback_channels=1
    )
    sink = ListSink()
    events: list = []
    engine = Engine(settings, sink=sink, cues=cues, mode="record", listeners=[events.append])
    states = []
    for pos in range(0, len(audio), period):
        before = engine.clock.state
        n = len(events)
        engine.process(audio[pos : pos + period], pos)
        states.extend((before, engine.clock.state, e) for e in events[n:])
    engine.close()
    return audio, sink.takes, states


def test_take_cut_by_a_loop_wrap_while_the_clock_freewheels():
    """The DAW's loop ends before the cue's TC-out (the line is cut by the loop), and the LTC
    drops out for the last three frames before the wrap: the clock is freewheeling when the
    loop start's frame arrives. The take ends where the old timecode was last heard (the end
    of the last frame decoded: frames lost at the jump are not guessed at), not where the new
    frame starts, and holds exactly the microphone's samples up to there."""
    feed_cue = cue("1", "01:00:10:00", "01:00:12:00")
    dropout = Dropout(0, 4.0 - 3 * 0.04, 3 * 0.04)  # the last three frames of pass 1
    feed = StageFeed([feed_cue], passes=2, preroll=2.0, postroll=0.0, dropouts=[dropout])
    sheet = [cue("1", "01:00:10:00", "01:00:14:00")]  # TC-out beyond the loop's end
    audio, takes, states = run_with_states(feed, sheet)
    truth = feed.passes[0]
    muted_from, wrap = truth.dropouts[0]
    assert wrap == round(truth.end) == round(feed.passes[1].start)  # an instant wrap
    jumps = [(state, e) for state, _, e in states if e.event == "jump"]
    (state, jump) = jumps[0]
    assert state == FREEWHEEL and jump.sample == wrap
    first_take = takes[0]
    start = truth.tc_in_sample("1")
    assert first_take[0].first_sample == start
    end = start + len(first_take[1])
    assert end == muted_from  # the end of the last frame heard
    assert "loop wrap" in first_take[2] and "before TC-out" in first_take[2]
    np.testing.assert_array_equal(first_take[1][:, 0], audio[start:end, feed.mic_channel])
    out = [e for _, _, e in states if e.event == "punch_out"][0]
    assert out.sample == muted_from and out.timecode == "01:00:11:22"
    # The next pass records again from its TC-in, on its own sample.
    assert takes[1][0].first_sample == feed.passes[1].tc_in_sample("1")


def test_punch_out_inside_a_dropout_is_placed_by_the_freewheel():
    """The LTC drops out two frames before TC-out and does not come back: the clock
    freewheels over TC-out, so the take ends on TC-out's sample exactly, a normal punch-out,
    before the LTC is declared lost."""
    c = cue("4", "01:00:10:00", "01:00:12:00")
    feed = StageFeed([c], passes=1, preroll=2.0, dropouts=[Dropout(0, 4.0 - 0.08, 1.5)])
    audio, takes, states = run_with_states(feed, [c])
    truth = feed.passes[0]
    ((take, recorded, note),) = takes
    assert take.first_sample == truth.tc_in_sample("4")
    assert take.first_sample + len(recorded) == truth.tc_out_sample("4")
    assert "LTC lost" not in note
    (state, out) = [(after, e) for _, after, e in states if e.event == "punch_out"][0]
    assert state == FREEWHEEL and out.sample > truth.dropouts[0][0]
    unlock = [e for _, _, e in states if e.event == "unlock"][0]
    assert out.sample < unlock.sample


def test_take_cut_by_a_loop_wrap_while_locked_ends_on_the_wrap():
    """The same loop without the dropout: the clock is locked at the wrap, and the take ends on
    the wrap's sample exactly (the old timecode ran up to the new frame)."""
    feed = StageFeed([cue("1", "01:00:10:00", "01:00:12:00")], passes=2, preroll=2.0, postroll=0.0)
    sheet = [cue("1", "01:00:10:00", "01:00:14:00")]
    audio, takes, states = run_with_states(feed, sheet)
    truth = feed.passes[0]
    (state, jump) = [(s, e) for s, _, e in states if e.event == "jump"][0]
    assert state == LOCKED and jump.sample == round(truth.end)
    take, recorded, note = takes[0]
    assert take.first_sample + len(recorded) == round(truth.end)
    assert "loop wrap" in note


# -- LTC labelled with impossible hours ---------------------------------------------------------


@dataclass(frozen=True)
class RawLabel:
    """A label as a faulty generator counts it: hours run past 23 (no day wrap), unchecked.
    Enough of `Timecode` for `LTCEncoder` to send it."""

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: Rate

    def __add__(self, n: int) -> RawLabel:
        count = ((self.hours * 60 + self.minutes) * 60 + self.seconds) * self.rate.nominal
        count += self.frames + n
        seconds, frames = divmod(count, self.rate.nominal)
        return RawLabel(seconds // 3600, seconds // 60 % 60, seconds % 60, frames, self.rate)


@dataclass(frozen=True)
class StuckLabel(RawLabel):
    """A generator stuck on one label: every frame carries it."""

    def __add__(self, n: int) -> StuckLabel:
        return self


def raw_ltc(start: RawLabel, frames: int) -> tuple[np.ndarray, list]:
    encoder = LTCEncoder(SR, RATE_25)
    encoder.locate(start, at=1000)
    signal = encoder.render(1000 + frames * FRAME + 2000)
    return signal, [f for f in encoder.emitted if f.end <= len(signal)]


@pytest.mark.parametrize("hours", [24, 25, 29])
def test_decode_all_rejects_ltc_labelled_past_23_hours(hours):
    signal, sent = raw_ltc(RawLabel(hours, 0, 0, 0, RATE_25), 50)
    assert len(sent) >= 50 and all(f.hours == hours for f in sent)
    assert decode_all(signal, SR) == []


@pytest.mark.parametrize(
    "fields, good",
    [
        ((1, 0, 0, 0), True),  # the control: the same signal with a real label
        ((23, 59, 59, 29), True),
        ((1, 60, 0, 0), False),
        ((1, 0, 60, 0), False),
        ((1, 0, 0, 30), False),
        ((1, 79, 0, 0), False),  # minutes tens 7: a BCD digit LTC can carry, no label has
    ],
)
def test_decode_all_returns_only_labels_that_can_exist(fields, good):
    signal, sent = raw_ltc(StuckLabel(*fields, RATE_25), 40)
    decoded = decode_all(signal, SR)
    if good:
        assert [f.label for f in decoded] == [f.label for f in sent]
    else:
        assert decoded == []


def test_decode_all_keeps_the_last_frames_of_the_day_and_drops_hour_24():
    """Across a generator's missing day wrap: 23:59:59:xx decoded, 24:00:00:00 on refused."""
    signal, sent = raw_ltc(RawLabel(23, 59, 58, 0, RATE_25), 100)
    decoded = decode_all(signal, SR)
    labels = [f.label for f in decoded]
    assert labels == [f.label for f in sent if f.hours == 23]  # all 50 of them, in order
    assert len(labels) == 50 and labels[-1] == "23:59:59:24"
    for got, truth in zip(decoded, sent, strict=False):
        assert math.isclose(got.start, truth.start, abs_tol=2.0)


# -- `.` and `,` before the frames: drop-frame separators ---------------------------------------
#
# The grammar (Timecode.parse): HH:MM:SS:FF, where `;`, `.` or `,` before the frames marks
# drop-frame (`01:00:00.02` is how some tools write 29.97 DF). So `.` is read as `;` at a
# drop-frame rate and refused, as `;` is, at a non-drop one.


@pytest.mark.parametrize("sep", [";", ".", ","])
def test_drop_frame_separators_parse_at_a_drop_frame_rate(sep):
    tc = Timecode.parse(f"01:00:00{sep}02", RATE_2997DF)
    assert tc == Timecode.at(1, 0, 0, 2, RATE_2997DF)
    assert str(tc) == "01:00:00;02"
    assert str(Timecode.parse(f"00:10:00{sep}00", RATE_2997DF)) == "00:10:00;00"


@pytest.mark.parametrize("sep", [";", ".", ","])
@pytest.mark.parametrize("rate", [RATE_25, RATE_2997NDF])
def test_drop_frame_separators_are_refused_at_a_non_drop_rate(sep, rate):
    with pytest.raises(TimecodeError, match="written as drop-frame"):
        Timecode.parse(f"01:00:00{sep}02", rate)


@pytest.mark.parametrize("sep", [";", ".", ","])
def test_a_dot_separated_label_that_drop_frame_skips_is_refused(sep):
    with pytest.raises(TimecodeError, match="drop-frame skips"):
        Timecode.parse(f"00:01:00{sep}01", RATE_2997DF)


def test_dots_between_hours_minutes_seconds_do_not_mark_drop_frame():
    assert Timecode.parse("01.02.03:04", RATE_25) == Timecode.at(1, 2, 3, 4, RATE_25)


def test_a_cue_sheet_written_with_dots_loads_at_its_stated_drop_frame_rate(tmp_path):
    """docs/cue-sheets.md: `.` before the frames is drop-frame; only `;` makes the loader
    guess 29.97 DF, so a dotted sheet needs its rate stated."""
    from stagebox.cues import CueSheetError, load_cue_sheet

    rows = "Cue,In,Out\n101,01:00:00.02,01:00:03.10\n"
    stated = tmp_path / "stated.csv"
    stated.write_text("# rate: 29.97df\n" + rows, encoding="utf-8")
    sheet = load_cue_sheet(stated)
    assert sheet.rate == RATE_2997DF
    assert [(str(c.tc_in), str(c.tc_out)) for c in sheet.cues] == [("01:00:00;02", "01:00:03;10")]
    bare = tmp_path / "bare.csv"
    bare.write_text(rows, encoding="utf-8")
    with pytest.raises(CueSheetError, match="rate is not known"):
        load_cue_sheet(bare)
    with pytest.raises(CueSheetError, match="written as drop-frame but the rate is 25"):
        load_cue_sheet(bare, RATE_25)
