"""The simulated stage feed against independent references: libltc decoding its LTC channel,
frame arithmetic done here, and the encoder's own record of what it sent."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import Dropout, StageFeed
from stagebox.timecode import RATE_25, RATE_30, RATE_2997DF, RATE_23976, Timecode
from stagebox.wavfile import read_wav

SLACK = 6  # samples: how far libltc's off_start may sit from a frame's true start


def tc(text, rate):
    return Timecode.parse(text, rate)


def small_feed(rate=RATE_25, sample_rate=48000, **kw):
    kw.setdefault("passes", 3)
    kw.setdefault("preroll", 1.0)
    kw.setdefault("postroll", 0.5)
    cues = kw.pop("cues", None) or [
        Cue("101", tc("01:00:10:00", rate), tc("01:00:11:00", rate), character="ANNA")
    ]
    return StageFeed(cues, sample_rate=sample_rate, **kw)


def check_against_libltc(libltc, feed, signal):
    """Every frame libltc finds sits on a truth frame and carries its label."""
    spf = float(feed.rate.samples_per_frame(feed.sample_rate))
    decoded = libltc.decode(signal, spf)
    assert decoded, "libltc found no LTC at all"
    starts = np.concatenate([p.frame_starts for p in feed.passes])
    labels = [str(p.first + i) for p in feed.passes for i in range(p.frames)]
    for f in decoded:
        i = int(np.argmin(np.abs(starts - f.start)))
        assert abs(starts[i] - f.start) <= SLACK, f"libltc frame {f.label} at {f.start}"
        assert f.label == labels[i], f"at sample {f.start}: libltc {f.label}, truth {labels[i]}"
    return decoded


@pytest.mark.parametrize(
    ("rate", "sample_rate", "wrap"),
    [
        (RATE_25, 48000, "instant"),
        (RATE_2997DF, 48000, "instant"),
        (RATE_23976, 44100, "relocate"),
        (RATE_30, 96000, "relocate"),
    ],
)
def test_every_libltc_frame_has_the_truth_label(libltc, rate, sample_rate, wrap):
    feed = small_feed(rate, sample_rate, wrap=wrap)
    signal = feed.render_all()[:, feed.ltc_channel]
    decoded = check_against_libltc(libltc, feed, signal)
    # libltc needs a frame or two to lock after each jump; it must find nearly all the rest.
    total = sum(p.frames for p in feed.passes)
    assert len(decoded) >= total - 2 * len(feed.passes)


def test_truth_is_what_the_encoder_emitted():
    feed = small_feed(RATE_2997DF, wrap="relocate", passes=2)
    feed.render_all()
    emitted = feed.encoder.emitted
    starts = np.concatenate([p.frame_starts for p in feed.passes])
    assert [f.start for f in emitted] == list(starts)
    labels = [str(p.first + i) for p in feed.passes for i in range(p.frames)]
    assert [f.label for f in emitted] == labels
    for p in feed.passes:
        k = p.frames - 1
        assert emitted[sum(q.frames for q in feed.passes[: p.index]) + k].end == p.end


def test_loop_wraps_instantly_at_the_frame_boundary(libltc):
    rate = RATE_25  # 1920 samples a frame at 48 kHz: boundaries are whole samples
    feed = small_feed(rate, passes=3, preroll=1.0, postroll=0.5)
    loop_frames = (tc("01:00:11:00", rate) + 12) - (tc("01:00:10:00", rate) + -25)
    assert feed.loop_frames == loop_frames == 25 + 25 + 12
    lead = 0.5 * 48000
    for p in feed.passes:
        assert str(p.first) == "01:00:09:00"
        assert p.start == lead + p.index * loop_frames * 1920  # each wrap right after the end
        assert p.end == p.start + loop_frames * 1920
        assert p.cue_starts["101"] == p.start + 25 * 1920  # TC-in after 1 s of preroll
        assert p.tc_in_sample("101") == int(p.start) + 48000
    # libltc sees the label fall back to the loop start exactly at each wrap.
    decoded = check_against_libltc(libltc, feed, feed.render_all()[:, 1])
    jumps = [b for a, b in zip(decoded, decoded[1:], strict=False) if b.label < a.label]
    assert len(jumps) == 2
    for jump, p in zip(jumps, feed.passes[1:], strict=True):
        assert jump.label == "01:00:09:00"
        assert abs(jump.start - p.start) <= SLACK


def test_relocate_leaves_silence_between_passes():
    feed = small_feed(RATE_25, wrap="relocate", relocate_gap=0.75, passes=2)
    ltc = feed.render_all()[:, feed.ltc_channel]
    first, second = feed.passes
    assert second.start == np.ceil(first.end) + 0.75 * 48000
    gap = ltc[int(first.end) + 2 : int(second.start) - 2]
    assert gap.size > 30000 and not gap.any()  # LTC stopped: exact silence
    assert np.abs(ltc[int(first.start) : int(first.end)]).max() > 0.1


def test_voice_starts_at_tc_in():
    feed = small_feed(RATE_25, passes=2, wrap="relocate", noise_level_dbfs=-70.0)
    mic = feed.render_all()[:, feed.mic_channel].astype(np.float64)
    sr = feed.sample_rate

    def rms_db(x):
        return 20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12)

    for p in feed.passes:
        t_in = p.tc_in_sample("101")
        assert rms_db(mic[t_in - sr // 2 : t_in]) < -65  # room noise before the line
        assert rms_db(mic[t_in : t_in + sr // 2]) > -40  # the actor speaks from TC-in
        a, b = p.lines["101"]
        assert a == t_in and b == p.tc_out_sample("101")
        assert rms_db(mic[b : b + sr // 4]) < -65  # and stops by TC-out


def test_deterministic_for_a_seed_whatever_the_block_size():
    whole = small_feed(seed=3).render_all()
    feed = small_feed(seed=3)
    parts = []
    sizes = [1, 255, 4096, 17, 1000]
    i = 0
    while feed.remaining:
        parts.append(feed.read(sizes[i % len(sizes)]))
        i += 1
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    other = small_feed(seed=4).render_all()
    np.testing.assert_array_equal(other[:, 1], whole[:, 1])  # same LTC
    assert not np.array_equal(other[:, 0], whole[:, 0])  # another take of the line
    assert feed.read(100).shape == (0, 2)  # nothing after the end


def test_dropouts_mute_the_ltc_and_libltc_finds_nothing_there(libltc):
    feed = small_feed(RATE_25, passes=2, dropouts=[Dropout(1, 0.5, 0.4), (0, 1.2, 0.1)])
    ltc = feed.render_all()[:, 1]
    (d0,) = feed.passes[0].dropouts
    (d1,) = feed.passes[1].dropouts
    assert d1 == (round(feed.passes[1].start + 24000), round(feed.passes[1].start + 43200))
    for a, b in (d0, d1):
        assert not ltc[a:b].any()
    decoded = check_against_libltc(libltc, feed, ltc)
    for f in decoded:
        assert not (d1[0] <= f.start and f.end <= d1[1])


def test_varispeed_frames_are_shorter_and_still_decode(libltc):
    feed = small_feed(RATE_25, passes=1, speed=1.05)
    p = feed.passes[0]
    assert np.allclose(np.diff(p.frame_starts), 1920 / 1.05)
    check_against_libltc(libltc, feed, feed.render_all()[:, 1])


def test_two_cues_in_one_loop():
    rate = RATE_25
    cues = [
        Cue("7A", tc("10:00:00:00", rate), tc("10:00:01:00", rate)),
        Cue("7B", tc("10:00:02:00", rate), tc("10:00:03:10", rate)),
    ]
    feed = small_feed(rate, cues=cues, passes=1)
    p = feed.passes[0]
    assert p.cue_starts["7B"] - p.cue_starts["7A"] == 50 * 1920
    assert p.cue_ends["7B"] - p.cue_starts["7B"] == 35 * 1920
    assert p.label_at(p.cue_starts["7B"]) == cues[1].tc_in
    assert p.label_at(p.cue_starts["7B"] - 1) == cues[1].tc_in + -1
    assert p.label_at(p.end) is None


def test_write_wav_roundtrip_and_never_overwrites(tmp_path):
    feed = small_feed(passes=1)
    path = tmp_path / "feed.wav"
    frames = feed.write_wav(path, bits=24)
    assert frames == feed.length and feed.position == 0  # rendered from a fresh copy
    audio = read_wav(path)
    assert (audio.sample_rate, audio.channels, audio.bits) == (48000, 2, 24)
    expected = feed.render_all()
    assert np.abs(audio.samples - expected).max() <= 0.5 / 2**23 + 1e-9
    with pytest.raises(FileExistsError):
        feed.write_wav(path)
    feed.fresh().write_wav(tmp_path / "feed16.wav", bits=16)
    assert read_wav(tmp_path / "feed16.wav").bits == 16


def test_bad_feeds_are_refused():
    rate = RATE_25
    with pytest.raises(ValueError, match="before midnight"):
        StageFeed([(tc("00:00:01:00", rate), tc("00:00:02:00", rate))], preroll=5)
    with pytest.raises(ValueError, match="share a rate"):
        StageFeed([(tc("01:00:00:00", rate), tc("01:00:01:00", RATE_30))])
    with pytest.raises(ValueError, match="not after TC-in"):
        StageFeed([(tc("01:00:02:00", rate), tc("01:00:01:00", rate))])
    with pytest.raises(ValueError, match="must be different channels"):
        small_feed(mic_channel=1, ltc_channel=1)
    with pytest.raises(ValueError, match="wrap must be"):
        small_feed(wrap="bounce")


def test_frame_starts_at_2997_are_fractional_and_exact():
    feed = small_feed(RATE_2997DF, passes=1, lead_in=0.0)
    p = feed.passes[0]
    spf = Fraction(48000) / RATE_2997DF.fps  # 1601.6 samples
    exact = [float(spf * i) for i in range(p.frames)]
    assert np.max(np.abs(p.frame_starts - exact)) < 1e-6
