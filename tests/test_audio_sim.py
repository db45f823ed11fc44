"""The simulated backend: blocks, injected xruns, the time map, pacing and playback capture."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from stagebox.audio import AudioError, EndOfFeed, open_backend
from stagebox.sim.audio import SimBackend
from stagebox.sim.stagefeed import StageFeed
from stagebox.timecode import RATE_25, Timecode
from stagebox.wavfile import read_wav


def feed(**kw):
    rate = RATE_25
    kw.setdefault("passes", 1)
    kw.setdefault("preroll", 0.5)
    kw.setdefault("postroll", 0.2)
    kw.setdefault("lead_in", 0.1)
    kw.setdefault("tail", 0.1)
    return StageFeed(
        [(Timecode.parse("01:00:00:00", rate), Timecode.parse("01:00:00:10", rate))], **kw
    )


def read_all(backend):
    blocks = []
    while True:
        try:
            blocks.append(backend.read())
        except EndOfFeed:
            return blocks


def test_blocks_cover_the_feed_in_order():
    reference = feed().render_all()
    with open_backend("sim", feed=feed(), period=256) as backend:
        assert (backend.sample_rate, backend.capture_channels, backend.period) == (48000, 2, 256)
        blocks = read_all(backend)
    assert [b.position for b in blocks] == list(range(0, reference.shape[0], 256))
    assert all(b.lost == 0 for b in blocks) and backend.xruns == 0
    assert blocks[-1].frames == reference.shape[0] % 256 or blocks[-1].frames == 256
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks]), reference)


def test_injected_xrun_keeps_positions_true(caplog):
    reference = feed().render_all()
    backend = SimBackend(feed(), period=128, drops=[(1280, 700), (5000, 128)])
    with caplog.at_level(logging.WARNING, logger="stagebox.audio"), backend:
        blocks = read_all(backend)
    lossy = [b for b in blocks if b.lost]
    # The second drop hits the first block due at or after sample 5000: 1980 + 24 periods.
    assert [(b.position, b.lost) for b in lossy] == [(1280 + 700, 700), (5052 + 128, 128)]
    assert backend.xruns == 2
    for b in blocks:  # each block is the feed at the position it claims
        np.testing.assert_array_equal(b.samples, reference[b.position : b.end])
    assert sum("overrun" in r.getMessage() for r in caplog.records) == 2


def test_fast_mode_feeds_the_time_map_from_a_virtual_clock():
    clock_now = [500.0]
    slept = []
    backend = SimBackend(feed(), period=480, clock=lambda: clock_now[0], sleep=slept.append)
    with backend:
        for _ in range(20):
            block = backend.read()
    assert not slept  # as fast as the CPU allows
    fit = backend.time_map.fit()
    assert fit.rate == pytest.approx(48000)
    # Sample 0 was at the converter when the backend opened; a block's end 1/48000 s per sample
    # later.
    assert fit.to_monotonic(0) == pytest.approx(500.0)
    assert fit.to_monotonic(block.end) == pytest.approx(500.0 + block.end / 48000)


def test_paced_mode_sleeps_to_each_period_deadline():
    now = [10.0]

    def sleep(s):
        now[0] += s

    with SimBackend(feed(), period=4800, realtime=True, clock=lambda: now[0], sleep=sleep) as b:
        for _ in range(5):
            b.read()
    assert now[0] == pytest.approx(10.0 + 5 * 0.1)


def test_paced_mode_runs_roughly_in_real_time():
    short = StageFeed(
        [(Timecode.parse("01:00:00:00", RATE_25), Timecode.parse("01:00:00:05", RATE_25))],
        passes=1,
        preroll=0.0,
        postroll=0.0,
        lead_in=0.05,
        tail=0.05,
    )
    seconds = short.length / short.sample_rate  # 0.3 s
    start = time.monotonic()
    with SimBackend(short, period=480, realtime=True) as backend:
        read_all(backend)
    elapsed = time.monotonic() - start
    assert 0.8 * seconds <= elapsed <= seconds + 2.0  # a loose bound, not a benchmark


@pytest.mark.parametrize("latency", [0, 100, 512, 1000])
def test_beeps_land_on_their_samples(latency):
    """An engine-like loop places three beeps at chosen capture samples; the recorded playback
    has each beep's first sample exactly there."""
    targets = [3000, 7777, 12345]
    beep = np.sin(2 * np.pi * 1000 * np.arange(480) / 48000).astype(np.float32) * 0.5
    beep[0] = 0.9  # a marker on the first sample
    with SimBackend(feed(), period=256, playback_latency=latency) as backend:
        for _ in range(80):
            backend.read()
            start = backend.playback_position
            out = np.zeros((256, 2), np.float32)
            for s in targets:
                lo, hi = max(s, start), min(s + beep.size, start + 256)
                if lo < hi:
                    out[lo - start : hi - start, :] = beep[lo - s : hi - s, None]
            backend.write(out)
        played = backend.playback()
    assert backend.xruns == 0
    marks = np.flatnonzero(played[:, 0] == np.float32(0.9))
    assert list(marks) == targets
    for s in targets:
        np.testing.assert_array_equal(played[s : s + 480, 1], beep)


def test_playback_underrun_is_counted_and_latency_restored(caplog):
    with SimBackend(feed(), period=256, playback_latency=512) as backend:
        backend.read()
        backend.write(np.zeros((256, 2), np.float32))
        assert backend.playback_position == 256 + 512 + 256
        for _ in range(6):  # the engine stalls: nothing written for 6 periods
            backend.read()
        with caplog.at_level(logging.WARNING, logger="stagebox.audio"):
            backend.write(np.ones((256, 2), np.float32))
        assert backend.xruns == 1
        assert backend.playback_position == 7 * 256 + 512 + 256
        assert backend.playback()[7 * 256 + 512, 0] == 1.0
    assert any("underrun" in r.getMessage() for r in caplog.records)


def test_replay_from_wav_matches_the_feed(tmp_path):
    path = tmp_path / "stage.wav"
    f = feed()
    f.write_wav(path, bits=24)
    reference = read_wav(path).samples
    with open_backend("sim", wav=path, period=300, sample_rate=48000) as backend:
        got = np.concatenate([b.samples for b in read_all(backend)])
    np.testing.assert_array_equal(got, reference)
    assert np.abs(got - f.render_all()).max() < 1e-6


def test_playback_wav(tmp_path):
    with SimBackend(
        samples=np.zeros((4800, 1)),
        sample_rate=48000,
        period=480,
        playback_channels=1,
        playback_latency=0,
    ) as backend:
        backend.read()
        backend.write(np.full((480, 1), 0.25, np.float32))
        backend.write_playback_wav(tmp_path / "phones.wav", bits=16)
    audio = read_wav(tmp_path / "phones.wav")
    assert audio.frames == 960
    np.testing.assert_array_equal(audio.samples[480:, 0], np.float32(0.25))
    assert not audio.samples[:480].any()


def test_bad_sim_setups_are_clear_errors(tmp_path):
    with pytest.raises(AudioError, match="exactly one of"):
        SimBackend()
    with pytest.raises(AudioError, match="exactly one of"):
        SimBackend(feed(), samples=np.zeros(10), sample_rate=48000)
    with pytest.raises(AudioError, match="needs sample_rate"):
        SimBackend(samples=np.zeros(10))
    with pytest.raises(AudioError, match="44100 Hz asked"):
        SimBackend(feed(), sample_rate=44100).open()
    with pytest.raises(AudioError, match="missing.wav"):
        SimBackend(wav=tmp_path / "missing.wav").open()
    with SimBackend(feed(), playback_channels=2) as backend:
        backend.read()
        with pytest.raises(AudioError, match=r"\(frames, 2\)"):
            backend.write(np.zeros((256, 3), np.float32))


def test_playback_kept_is_bounded_and_the_newest_is_exact():
    """A stage day on the sim backend: only the newest `keep_playback` seconds are held."""
    long_feed = feed(passes=6, preroll=1.0)  # about 10 s
    keep = 0.5  # seconds
    with SimBackend(long_feed, period=256, keep_playback=keep) as backend:
        blocks = long_feed.length // 256
        for n in range(blocks):
            backend.read()
            backend.write(np.full((256, 2), n, np.float32))  # each block says which it is
        kept = backend.playback()
        assert kept.shape[0] <= 2 * keep * 48000 + 256  # bounded, not the whole feed
        assert backend.playback_start > 0
        # the newest `keep` seconds are all there, each block at its capture index
        for n in range(blocks - int(keep * 48000 / 256), blocks):
            at = n * 256 + 256 + 512 - backend.playback_start  # latency: two periods
            np.testing.assert_array_equal(kept[at : at + 256, 0], n)
