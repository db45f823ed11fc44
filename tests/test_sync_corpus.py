"""Proof against ground truth: espeak-ng lines placed word by word with known offsets.

Every take here is the guide's words (same voice) or another voice's, each word starting a
known time after the guide's, plus room noise and a level that falls 8 dB across the take
(`sync_corpus.py`). The scorer never sees the truth; the assertions compare against it.
"""

from __future__ import annotations

import numpy as np
import pytest
import sync_corpus as corpus

from stagebox.sync import CANNOT_JUDGE, IN_SYNC, OUT_OF_SYNC, score_take
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode

R = corpus.RATE
LATE = 0.120  # s: 3 frames at 25 fps
# Same voice: each of the four voices at one of the two speeds.
SAME = [("en", 140), ("en-us+f3", 175), ("en+m3", 175), ("en-us+f2", 140)]
# Across voices: (guide voice, speed, take voice, take speed), the take's speed the one (in
# steps of 5 wpm) that gives the line the guide's length: an actor matching the guide's pace.
CROSS = [
    ("en", 140, "en+m3", 130),
    ("en", 140, "en-us+f3", 190),
    ("en-us+f3", 175, "en-us+f2", 205),
    ("en+m3", 175, "en-us+f2", 255),
]


@pytest.fixture(scope="session")
def espeak():
    assert corpus.espeak_available(), "espeak-ng is missing: run .ci/setup (Debian espeak-ng)"


def score(guide, take_line, seed=1, rate=RATE_25, **kw):
    take = corpus.room(take_line.audio, seed)
    return score_take(take, 0.5 * guide.audio, R, rate, **kw)


WARPS = {
    "constant +37 ms": [0.037] * 9,
    "constant -23 ms": [-0.023] * 9,
    "one late word": [0.0] * 4 + [LATE] + [0.0] * 4,
    "pauses stretched": [0.0, 0.0, 0.08, 0.08, 0.08, 0.08, 0.08, 0.20, 0.20],
}


@pytest.mark.parametrize(("voice", "speed"), SAME)
def test_same_voice_offset_within_5_ms(espeak, voice, speed):
    guide = corpus.guide_line(voice, speed)
    for name, offsets in WARPS.items():
        report = score(guide, corpus.take_line(guide, voice, speed, offsets))
        truth = corpus.truth_offset(guide, offsets)
        assert abs(report.offset_ms - 1000 * truth) <= 5.0, (name, report.offset_ms, truth)
        assert report.offset_frames == pytest.approx(report.offset_ms / 40.0)


@pytest.mark.parametrize(("voice", "speed"), SAME[:2])
def test_drift_followed_word_by_word(espeak, voice, speed):
    guide = corpus.guide_line(voice, speed)
    offsets = list(np.linspace(0.0, 0.08, 9))  # the actor falls 80 ms behind over the line
    report = score(guide, corpus.take_line(guide, voice, speed, offsets))
    for point in report.points:
        k = int(np.searchsorted(guide.onsets, point.at_s + 0.02)) - 1
        assert abs(point.deviation_ms - 1000 * offsets[k]) <= 5.0, (point, k)
    assert report.verdict != IN_SYNC


@pytest.mark.parametrize(("voice", "speed", "other", "other_speed"), CROSS)
def test_other_voice_offset_within_30_ms(espeak, voice, speed, other, other_speed):
    guide = corpus.guide_line(voice, speed)
    for name, offsets in WARPS.items():
        report = score(guide, corpus.take_line(guide, other, other_speed, offsets))
        truth = corpus.truth_offset(guide, offsets)
        assert abs(report.offset_ms - 1000 * truth) <= 30.0, (name, report.offset_ms, truth)


@pytest.mark.parametrize(("voice", "speed"), SAME)
def test_late_word_located_within_40_ms(espeak, voice, speed):
    guide = corpus.guide_line(voice, speed)
    report = score(guide, corpus.take_line(guide, voice, speed, WARPS["one late word"]))
    assert abs(report.worst_at_s - guide.onsets[4]) <= 0.040
    assert report.worst_ms == pytest.approx(1000 * LATE, abs=10.0)
    assert report.verdict != IN_SYNC
    assert any(abs(c.at_s - guide.onsets[4]) <= 0.040 for c in report.checks)


@pytest.mark.parametrize(("voice", "speed", "other", "other_speed"), CROSS)
def test_late_word_found_across_voices(espeak, voice, speed, other, other_speed):
    guide = corpus.guide_line(voice, speed)
    take = corpus.take_line(guide, other, other_speed, WARPS["one late word"])
    report = score(guide, take)
    assert report.verdict != IN_SYNC
    late = [c for c in report.checks if abs(c.at_s - guide.onsets[4]) <= 0.040]
    assert late and late[0].deviation_ms > 2.0 * report.frame_ms


@pytest.mark.parametrize(
    ("voice", "speed", "other", "other_speed"), [("en", 175, "en", 175), CROSS[0]]
)
def test_never_in_sync_with_any_word_3_frames_off(espeak, voice, speed, other, other_speed):
    guide = corpus.guide_line(voice, speed)
    for k in range(len(corpus.LINE)):
        offsets = [0.0] * 9
        offsets[k] = LATE if k % 2 == 0 else -LATE  # late, or early: both are out of sync
        report = score(guide, corpus.take_line(guide, other, other_speed, offsets), seed=k)
        assert report.verdict != IN_SYNC, (corpus.LINE[k], report.message)


@pytest.mark.parametrize(("voice", "speed"), SAME)
def test_a_take_on_the_guide_is_in_sync(espeak, voice, speed):
    guide = corpus.guide_line(voice, speed)
    report = score(guide, corpus.take_line(guide, voice, speed, [0.0] * 9), seed=5)
    assert report.verdict == IN_SYNC, report.message
    assert report.score >= 0.95
    assert abs(report.offset_ms) <= 5.0


def test_a_take_two_frames_late_is_out_of_sync(espeak):
    guide = corpus.guide_line("en", 140)
    report = score(guide, corpus.take_line(guide, "en", 140, [0.080] * 9))
    assert report.verdict == OUT_OF_SYNC
    assert report.offset_frames == pytest.approx(2.0, abs=0.15)
    assert report.score < 0.2
    assert "out of sync" in report.message and "+2.0 fr" in report.message


def test_places_named_by_timecode_and_word(espeak):
    rate = RATE_2997DF
    guide = corpus.guide_line("en+m3", 140)
    start = Timecode.parse("01:00:10;00", rate)
    fps = float(rate.fps)
    words = [
        (w, start + int(round(t * fps))) for w, t in zip(corpus.LINE, guide.onsets, strict=True)
    ]
    report = score(
        guide,
        corpus.take_line(guide, "en+m3", 140, WARPS["one late word"]),
        rate=rate,
        start=start,
        words=words,
    )
    assert report.worst_word == "trust"
    expected = start + int(guide.onsets[4] * fps)
    assert abs(Timecode.parse(report.worst_timecode, rate) - expected) <= 1
    assert "'trust'" in report.message and report.worst_timecode in report.message
    data = report.to_dict()
    assert data["worst_word"] == "trust" and data["rate"] == "29.97df"
    assert data["checks"][0]["word"] == "trust"


def test_cannot_judge_silence_or_noise(espeak):
    guide = corpus.guide_line("en", 140)
    n = len(guide.audio)
    silent_take = corpus.room(np.zeros(n), 2)
    assert score_take(silent_take, guide.audio, R, RATE_25).verdict == CANNOT_JUDGE
    noise_guide = corpus.room(np.zeros(n), 3, noise_dbfs=-30)
    take = corpus.room(guide.audio, 4)
    report = score_take(take, noise_guide, R, RATE_25)
    assert report.verdict == CANNOT_JUDGE and report.score is None
    # The take's room noise at the guide's speech level: nothing left to compare.
    drowned = corpus.room(guide.audio, 5, noise_dbfs=-12, gain_db=(-30.0, -30.0))
    assert score_take(drowned, guide.audio, R, RATE_25).verdict == CANNOT_JUDGE
