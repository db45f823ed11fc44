"""Timecode labels, frame counts and samples since midnight, at every rate."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stagebox.timecode import (
    RATE_24,
    RATE_25,
    RATE_30,
    RATE_30DF,
    RATE_2997DF,
    RATE_2997NDF,
    RATE_23976,
    RATES,
    Rate,
    Timecode,
    TimecodeError,
    frames_at_sample,
)

rates = st.sampled_from(RATES)
sample_rates = st.sampled_from([44100, 48000, 96000])


@st.composite
def timecodes(draw):
    rate = draw(rates)
    return Timecode.from_frames(draw(st.integers(0, rate.frames_per_day - 1)), rate)


def test_drop_frame_counts_known_points():
    # Reference values from SMPTE 12M drop-frame counting (17982 frames per ten minutes).
    tc = Timecode.parse("00:01:00;02", RATE_2997DF)
    assert tc.frame_count == 1800
    assert str(Timecode.from_frames(1799, RATE_2997DF)) == "00:00:59;29"
    assert str(Timecode.from_frames(17982, RATE_2997DF)) == "00:10:00;00"
    assert str(Timecode.from_frames(17981, RATE_2997DF)) == "00:09:59;29"
    assert str(Timecode.from_frames(17982 + 1800, RATE_2997DF)) == "00:11:00;02"
    assert RATE_2997DF.frames_per_day == 2589408
    assert str(Timecode.from_frames(2589407, RATE_2997DF)) == "23:59:59;29"


def test_frames_per_day():
    assert RATE_24.frames_per_day == 24 * 86400
    assert RATE_25.frames_per_day == 25 * 86400
    assert RATE_2997NDF.frames_per_day == 30 * 86400
    assert RATE_30DF.frames_per_day == RATE_2997DF.frames_per_day


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;01", "13:59:00;01"])
def test_nonexistent_drop_frame_labels_rejected(label):
    with pytest.raises(TimecodeError, match="drop-frame skips"):
        Timecode.parse(label, RATE_2997DF)


@pytest.mark.parametrize("label", ["00:10:00;00", "00:00:00;00", "00:01:00;02", "01:20:00;01"])
def test_existing_drop_frame_minute_labels_accepted(label):
    assert str(Timecode.parse(label, RATE_2997DF)) == label


@pytest.mark.parametrize(
    "text, rate, problem",
    [
        ("24:00:00:00", RATE_25, "hours"),
        ("00:60:00:00", RATE_25, "minutes"),
        ("00:00:60:00", RATE_25, "seconds"),
        ("00:00:00:25", RATE_25, "frame 25"),
        ("00:00:00:24", RATE_23976, "frame 24"),
        ("00:00:00;05", RATE_25, "drop-frame"),
        ("1:2:3", RATE_25, "not a timecode"),
        ("aa:bb:cc:dd", RATE_25, "not a timecode"),
    ],
)
def test_bad_labels(text, rate, problem):
    with pytest.raises(TimecodeError, match=problem):
        Timecode.parse(text, rate)


def test_parse_separators():
    assert Timecode.parse("01:02:03.04", RATE_2997DF) == Timecode.at(1, 2, 3, 4, RATE_2997DF)
    assert Timecode.parse("01:02:03:04", RATE_2997DF) == Timecode.at(1, 2, 3, 4, RATE_2997DF)
    assert str(Timecode.at(1, 2, 3, 4, RATE_25)) == "01:02:03:04"


@pytest.mark.parametrize(
    "text, rate",
    [
        ("23.976", RATE_23976),
        ("23.98", RATE_23976),
        ("24", RATE_24),
        ("25 fps", RATE_25),
        ("29.97df", RATE_2997DF),
        ("29.97 DF", RATE_2997DF),
        ("29.97", RATE_2997NDF),
        ("29.97ndf", RATE_2997NDF),
        ("30", RATE_30),
        ("30df", RATE_30DF),
    ],
)
def test_rate_parse(text, rate):
    assert Rate.parse(text) is rate


def test_rate_parse_unknown():
    with pytest.raises(TimecodeError, match="unknown timecode rate '31'"):
        Rate.parse("31")


def test_samples_since_midnight_exact():
    # 01:00:00:00 at 23.976 is 86400 frames of 1001/24000 s: 3603.6 s.
    tc = Timecode.parse("01:00:00:00", RATE_23976)
    assert tc.seconds_since_midnight() == Fraction(86400 * 1001, 24000)
    assert tc.samples_since_midnight(48000) == 172972800
    # 29.97 frames are 1601.6 samples at 48 kHz; frame 3 starts at 4804.8 -> 4805.
    assert Timecode.from_frames(3, RATE_2997NDF).samples_since_midnight(48000) == 4805
    assert Timecode.parse("10:00:00:00", RATE_25).samples_since_midnight(48000) == 36000 * 48000


@given(timecodes())
def test_label_round_trip(tc):
    assert Timecode.parse(str(tc), tc.rate) == tc


@given(timecodes())
def test_frame_count_round_trip(tc):
    assert Timecode.from_frames(tc.frame_count, tc.rate) == tc


@given(timecodes(), sample_rates)
def test_samples_round_trip(tc, sample_rate):
    samples = tc.samples_since_midnight(sample_rate)
    assert Timecode.from_samples(samples, sample_rate, tc.rate) == tc
    # The sample just before a frame's start belongs to the previous frame.
    if tc.frame_count > 0:
        assert Timecode.from_samples(samples - 1, sample_rate, tc.rate) == tc - 1


@given(timecodes(), st.integers(-100000, 100000))
def test_arithmetic(tc, n):
    moved = tc + n
    assert moved.frame_count == (tc.frame_count + n) % tc.rate.frames_per_day
    assert (moved - n) == tc


@given(rates, st.integers(0, 10**7), sample_rates)
def test_frames_at_sample_monotonic(rate, samples, sample_rate):
    k = frames_at_sample(samples, sample_rate, rate)
    start = Timecode.from_frames(k, rate).samples_since_midnight(sample_rate)
    if k < rate.frames_per_day:
        assert start <= samples
        nxt = Timecode.from_frames(k + 1, rate).samples_since_midnight(sample_rate)
        assert samples < nxt or k + 1 == rate.frames_per_day


def test_drop_frame_every_minute_boundary_consecutive():
    # Walk a whole hour frame by frame: labels strictly increase and skip exactly the dropped.
    prev = Timecode.from_frames(0, RATE_2997DF)
    for n in range(1, 108000 - 108):
        tc = Timecode.from_frames(n, RATE_2997DF)
        if tc.seconds == 0 and tc.frames == 2 and tc.minutes % 10:
            assert (prev.seconds, prev.frames) == (59, 29)
        assert tc > prev
        prev = tc
    assert str(prev) == "00:59:59;29"


def test_midnight_wrap():
    last = Timecode.parse("23:59:59;29", RATE_2997DF)
    assert str(last + 1) == "00:00:00;00"
    assert str(Timecode.parse("00:00:00:00", RATE_25) - 1) == "23:59:59:24"
