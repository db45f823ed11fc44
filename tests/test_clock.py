"""The timecode clock against the encoder's truth: lock, rate, jumps, dropouts, punch samples.

Frames are fed as the decoder would report them (each once its last bit has arrived), taken
from the encoder's record of what it sent, so these tests judge the clock alone.
"""

import math

import pytest

from stagebox.clock import FREEWHEEL, LOCKED, LOST, TimecodeClock
from stagebox.ltc.encoder import LTCEncoder
from stagebox.ltc.frame import LTCFrame
from stagebox.timecode import (
    RATE_24,
    RATE_25,
    RATE_30,
    RATE_2997DF,
    RATE_2997NDF,
    RATE_23976,
    Timecode,
)

SR = 48000


def sent_frames(rate, start="01:00:00:00", n=100, sample_rate=SR, at=500.0, speed=1.0):
    enc = LTCEncoder(sample_rate, rate, speed=speed)
    enc.locate(Timecode.parse(start, rate), at=at)
    period = float(rate.samples_per_frame(sample_rate)) / speed
    enc.render(int(at + period * (n + 1)))
    return enc.emitted[:n]


def feed_all(clock, frames, period=256):
    """Feed frames at the end of the audio period in which each completes; collect events."""
    events = []
    i = 0
    end = 0
    last = frames[-1].end + 1
    while end < last:
        end += period
        ready = []
        while i < len(frames) and frames[i].end <= end:
            ready.append(frames[i])
            i += 1
        events.extend(clock.feed(ready, end))
    return events


def test_locks_on_the_first_frame_by_default():
    frames = sent_frames(RATE_25, n=10)
    clock = TimecodeClock(SR)
    events = clock.feed(frames[:1], math.ceil(frames[0].end))
    assert [e.kind for e in events] == ["lock"]
    assert str(clock.timecode_at(frames[0].start + 10)) == frames[0].label


def test_locks_on_the_second_frame_when_asked():
    frames = sent_frames(RATE_25, n=10)
    clock = TimecodeClock(SR, lock_frames=2)
    assert clock.feed(frames[:1], math.ceil(frames[0].end)) == []
    assert clock.state == LOST
    events = clock.feed(frames[1:2], math.ceil(frames[1].end))
    assert [e.kind for e in events] == ["lock"]
    assert clock.state == LOCKED
    assert str(events[0].timecode) == frames[1].label


@pytest.mark.parametrize("rate", [RATE_23976, RATE_24, RATE_25, RATE_2997DF, RATE_2997NDF, RATE_30])
def test_detects_rate_from_period(rate):
    frames = sent_frames(rate, start="01:00:00;00" if rate.drop_frame else "01:00:00:00", n=30)
    clock = TimecodeClock(SR)
    feed_all(clock, frames)
    assert clock.rate == rate
    assert clock.speed == pytest.approx(1.0, abs=1e-4)


def test_configured_rate_wins():
    frames = sent_frames(RATE_24, n=30)
    clock = TimecodeClock(SR, rate=RATE_23976)
    feed_all(clock, frames)
    assert clock.rate == RATE_23976
    assert clock.speed == pytest.approx(1.001, abs=1e-4)  # 24 fps LTC read as 23.976 is fast


def test_varispeed_measured():
    frames = sent_frames(RATE_25, n=40, speed=1.1)
    clock = TimecodeClock(SR, rate=RATE_25)
    feed_all(clock, frames)
    assert clock.speed == pytest.approx(1.1, rel=1e-3)


@pytest.mark.parametrize("rate", [RATE_2997DF, RATE_23976, RATE_25])
def test_punch_sample_is_the_rounded_true_start(rate):
    # 29.97 at 48 kHz starts frames on fractional samples (1601.6 apart).
    start = "00:59:58;00" if rate.drop_frame else "00:59:58:00"
    # Starts at 777.0 + k * 1601.6: fractions .0 .6 .2 .8 .4, never the ambiguous half.
    frames = sent_frames(rate, start=start, n=120, at=777.0)
    clock = TimecodeClock(SR)
    fed = []
    for f in frames:
        clock.feed([f], math.ceil(f.end))
        fed.append(f)
        if clock.locked:
            # Every frame seen so far, and the next few ahead, land on the true sample.
            for g in frames[max(0, len(fed) - 5) : len(fed) + 3]:
                tc = g.timecode(rate)
                assert clock.punch_sample(tc) == math.floor(g.start + 0.5), (tc, g.start)


def test_timecode_at_samples():
    frames = sent_frames(RATE_2997DF, start="00:09:59;20", n=40, at=100.0)
    clock = TimecodeClock(SR)
    feed_all(clock, frames)
    for f in frames[-20:]:
        assert str(clock.timecode_at(f.start + 1)) == f.label
        assert str(clock.timecode_at(f.end - 1)) == f.label


def jumped(first, second, gap=0.0):
    """Frames of `first` then `second`, the second run starting right after (or after a gap)."""
    a = sent_frames(first[0], start=first[1], n=first[2], at=500.0)
    b = sent_frames(first[0], start=second[0], n=second[1], at=a[-1].end + gap)
    return a, b


def test_loop_wrap_detected_on_first_frame_after_jump():
    a, b = jumped((RATE_25, "01:00:10:00", 30), ("01:00:02:00", 10))
    clock = TimecodeClock(SR)
    feed_all(clock, a)
    events = []
    for f in b[:1]:
        events += clock.feed([f], math.ceil(f.end))
    jumps = [e for e in events if e.kind == "jump"]
    assert len(jumps) == 1
    assert jumps[0].sample == b[0].start
    assert jumps[0].until == pytest.approx(a[-1].end)
    assert "loop wrap" in jumps[0].detail
    assert clock.locked and str(clock.last_timecode) == "01:00:02:00"
    # And the line follows the new run at once.
    assert clock.punch_sample(Timecode.parse("01:00:02:05", RATE_25)) == math.floor(
        b[5].start + 0.5
    )


def test_relocate_after_stop_is_a_jump_with_old_end():
    a, b = jumped((RATE_25, "01:00:10:00", 30), ("02:00:00:00", 10), gap=3 * 1920.0)
    clock = TimecodeClock(SR, freewheel_frames=4)
    feed_all(clock, a + b)
    # Three frames of silence are freewheeled through, then the jump is reported.
    kinds = [e.kind for e in feed_all(TimecodeClock(SR, freewheel_frames=4), a + b)]
    assert "jump" in kinds and "unlock" not in kinds
    assert str(clock.last_timecode) == b[-1].label


def test_single_impossible_frame_ignored():
    frames = sent_frames(RATE_25, n=20)
    bad = frames[10]
    corrupt = LTCFrame(
        bad.hours, bad.minutes, 75, bad.frames, start=bad.start, end=bad.end
    )  # seconds 75 cannot exist
    clock = TimecodeClock(SR)
    events = feed_all(clock, frames[:10] + [corrupt] + frames[11:])
    assert [e.kind for e in events if e.kind != "lock"] == ["implausible"]
    assert clock.implausible == 1 and clock.jumps == 0
    assert str(clock.last_timecode) == frames[-1].label


def test_off_grid_frame_ignored():
    frames = sent_frames(RATE_25, n=20)
    f = frames[12]
    half = 960.0
    ghost = LTCFrame(2, 0, 0, 0, start=f.start - half, end=f.end - half)
    clock = TimecodeClock(SR)
    events = feed_all(clock, frames[:12] + [ghost] + frames[12:])
    assert "jump" not in [e.kind for e in events]
    assert clock.implausible == 1
    assert str(clock.last_timecode) == frames[-1].label


def test_short_dropout_freewheels_and_resumes():
    frames = sent_frames(RATE_25, n=30)
    kept = frames[:10] + frames[13:]  # three frames missing
    clock = TimecodeClock(SR, freewheel_frames=4)
    events = feed_all(clock, kept)
    kinds = [e.kind for e in events]
    assert kinds == ["lock", "freewheel", "resume"]
    assert clock.state == LOCKED and clock.jumps == 0


def test_long_dropout_unlocks():
    frames = sent_frames(RATE_25, n=20)
    clock = TimecodeClock(SR, freewheel_frames=4)
    events = feed_all(clock, frames)
    # After the last frame, keep feeding silence.
    end = math.ceil(frames[-1].end)
    for _ in range(60):
        end += 256
        events += clock.feed([], end)
    kinds = [e.kind for e in events]
    assert kinds == ["lock", "freewheel", "unlock"]
    unlock = events[-1]
    assert unlock.sample == pytest.approx(frames[-1].end + 4 * 1920, abs=1)
    assert clock.state == LOST and clock.timecode_at(end) is None


def test_freewheel_keeps_timecode():
    frames = sent_frames(RATE_25, n=20)
    clock = TimecodeClock(SR, freewheel_frames=8)
    feed_all(clock, frames[:15])
    end = math.ceil(frames[14].end + 3 * 1920)
    clock.feed([], end)
    assert clock.state == FREEWHEEL
    assert str(clock.timecode_at(frames[17].start + 5)) == frames[17].label


def test_midnight_wrap_continues_the_run():
    frames = sent_frames(RATE_25, start="23:59:59:20", n=15)
    clock = TimecodeClock(SR)
    events = feed_all(clock, frames)
    assert [e.kind for e in events] == ["lock"]
    assert str(clock.last_timecode) == frames[-1].label


def test_a_rate_mismatch_is_not_forgotten_at_the_jumps_it_causes():
    # 24 fps LTC on a stage set to 25: read at 25, the labels jump at every second (:23 is
    # followed by :00), and each jump starts a new run. The measured rate must hold through
    # those jumps, or a punch on the first frames of a second (a TC-in on :00) slips through.
    frames = sent_frames(RATE_24, start="01:00:09:00", n=72)  # three seconds
    clock = TimecodeClock(SR, rate=RATE_25)
    measured = []
    for frame in frames:
        clock.feed([frame], math.ceil(frame.end))
        measured.append(clock.measured_rate)
    assert clock.jumps == 2
    assert measured[:7] == [None] * 7  # 8 frames before it is known
    assert measured[7:] == [RATE_24] * (len(frames) - 7)
    # Lost LTC forgets it: the next LTC may be another source.
    clock.feed([], math.ceil(frames[-1].end) + 20 * 2000)
    assert clock.state == LOST and clock.measured_rate is None
