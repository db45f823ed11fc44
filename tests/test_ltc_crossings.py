"""The decoder's fast path for clean LTC (`stagebox.ltc.crossings`): zero crossings where
they prove a hop clean, the step detector everywhere else, and the two joined without a
transition lost or doubled."""

from __future__ import annotations

import numpy as np
import pytest
from ltc_signals import (
    AMPLITUDE,
    assert_all_decoded,
    decode_in_blocks,
    ltc,
    match,
    music,
    speech,
    white_noise,
)

from stagebox.ltc import LTCDecoder, decode_all
from stagebox.ltc import decoder as decoder_module
from stagebox.ltc.crossings import CrossingFinder
from stagebox.ltc.frame import pack_bits

SR = 48000
HOP = 1024


def _true_transitions(truth, nominal_fps):
    """Every transition of the encoder's frames (samples): each cell boundary, and the
    middle of each cell holding a 1."""
    times = []
    for f in truth:
        half = (f.end - f.start) / 160
        bits = pack_bits(f, nominal_fps)
        for k in range(80):
            times.append(f.start + 2 * k * half)
            if bits[k]:
                times.append(f.start + (2 * k + 1) * half)
    return np.array(times)


def _crossings(sig, sample_rate=SR, hop=HOP):
    """All crossings and clean flags of a whole signal, one hop per call as when streaming."""
    finder = CrossingFinder(sample_rate, hop, 17.0, 30.0)
    pad = finder.pad
    x = np.concatenate([np.zeros(pad), sig, np.zeros(pad)]).astype(np.float32)
    ts, clean = [], []
    for k in range(sig.size // hop):
        t, _s, _hop, c = finder.find(x[k * hop : (k + 1) * hop + 2 * pad], k * hop, 1)
        ts.append(t)
        clean.append(bool(c[0]))
    return np.concatenate(ts), np.array(clean)


@pytest.mark.parametrize(("rate", "sample_rate"), [("25", 48000), ("29.97df", 44100)])
def test_crossings_of_clean_ltc_are_its_transitions(rate, sample_rate):
    sig, truth = ltc(rate, seconds=1.0, sample_rate=sample_rate)
    t, clean = _crossings(sig, sample_rate)
    true = _true_transitions(truth, 25 if rate == "25" else 30)
    # From the second hop (the first holds the step out of silence) to the last whole frame.
    span = (HOP, truth[-1].end - 1)
    t = t[(t >= span[0]) & (t < span[1])]
    true = true[(true >= span[0]) & (true < span[1])]
    assert t.size == true.size > 1000
    assert np.abs(t - true).max() < 0.1  # samples
    # Every hop is clean but the first (its first crossing has no interval before it).
    assert not clean[0] and clean[1:].all()


@pytest.mark.parametrize(
    "name",
    ["6 dB noise", "DC offset", "hum", "silence", "white noise", "speech", "music", "tone"],
)
def test_no_clean_hop_in_impaired_ltc_or_in_what_is_not_ltc(name):
    sig, _truth = ltc("25", seconds=1.0)
    t = np.arange(sig.size) / SR
    rng = np.random.default_rng(3)
    signals = {
        "6 dB noise": lambda: sig + rng.normal(0, AMPLITUDE / 2, sig.size),
        "DC offset": lambda: sig + 0.25,
        "hum": lambda: sig + AMPLITUDE * np.sin(2 * np.pi * 50 * t + 0.3),
        "silence": lambda: np.zeros(sig.size),
        "white noise": lambda: white_noise(1.0, SR, 0.1),
        "speech": lambda: speech(1.0, SR),
        "music": lambda: music(1.0, SR),
        "tone": lambda: 0.3 * np.sin(2 * np.pi * 1000 * t),
    }
    _t, clean = _crossings(signals[name]()[: sig.size])
    assert not clean.any()


def _with_detector_only(monkeypatch):
    real = CrossingFinder.find

    def never_clean(self, x, first, hops):
        t, s, hop, clean = real(self, x, first, hops)
        return t, s, hop, np.zeros_like(clean)

    monkeypatch.setattr(CrossingFinder, "find", never_clean)


@pytest.mark.parametrize(
    ("rate", "sample_rate"), [("25", 48000), ("29.97df", 44100), ("30", 96000)]
)
def test_fast_path_gives_the_step_detectors_frames(rate, sample_rate, monkeypatch):
    sig, truth = ltc(rate, seconds=3.0, sample_rate=sample_rate)
    fast = decode_all(sig, sample_rate)
    assert_all_decoded(fast, truth)
    _with_detector_only(monkeypatch)
    slow = decode_all(sig, sample_rate)
    assert [f.label for f in fast] == [f.label for f in slow]
    starts = np.array([f.start for f in fast]) - np.array([f.start for f in slow])
    assert np.abs(starts).max() < 0.1  # samples


def _spy_clean(monkeypatch):
    seen = []
    real = CrossingFinder.find

    def spy(self, x, first, hops):
        out = real(self, x, first, hops)
        seen.extend(out[3].tolist())
        return out

    monkeypatch.setattr(CrossingFinder, "find", spy)
    return seen


def _decode_with_transitions(sig):
    """Frames, and every transition the step conditioning handed its framer (t, s)."""
    dec = LTCDecoder(SR)
    framer = dec._paths[0][1]
    pushed = []
    real = framer.push

    def push(t, s):  # (arrays, or lists of consecutive parts)
        pushed.append(tuple(np.concatenate(a if isinstance(a, list) else [a]) for a in (t, s)))
        real(t, s)

    framer.push = push
    frames = dec.decode(sig, 0) + dec.flush()
    t = np.concatenate([p[0] for p in pushed])
    s = np.concatenate([p[1] for p in pushed])
    return frames, t, s


@pytest.mark.parametrize("offset", [0.0, 3.0, 4.0, 4.5, 5.0, 7.02, 7.1, 7.25, 8.0, 11.0, 11.5])
def test_no_transition_lost_or_doubled_where_the_paths_meet(offset, monkeypatch):
    """Noise bursts send some hops to the step detector. Every transition on either side of
    every border between the two paths reaches the framer exactly once, wherever it falls
    on the border (at 25 fps and 48 kHz a half cell is 12 samples and a hop 1024: the
    offsets put transitions on, just before and just after hop borders)."""
    seen = _spy_clean(monkeypatch)
    sig, truth = ltc("25", seconds=3.0, offset=offset)
    rng = np.random.default_rng(int(offset * 4))
    noisy = sig.copy()
    bursts = [
        (20 * HOP + 300, 20 * HOP + 420),
        (60 * HOP + 10, 61 * HOP + 900),
        (100 * HOP, 100 * HOP + 40),
    ]
    for lo, hi in bursts:
        noisy[lo:hi] += rng.normal(0, 2 * AMPLITUDE, hi - lo)
    frames, t, s = _decode_with_transitions(noisy)
    clean = np.array(seen)
    assert clean[5:].mean() > 0.9 and not clean[[20, 60, 61, 100]].any()  # both paths ran
    # Outside the bursts (and the LTC's first hop and last frame), the transitions are the
    # true ones, one each, alternating.
    true = _true_transitions(truth, 25)
    keep = (true > HOP) & (true < truth[-1].end - 24)
    for lo, hi in bursts:
        keep &= (true < lo - 30) | (true > hi + 30)
    near = np.abs(t[:, None] - true[keep][None, :]) < 1.0
    assert (near.sum(axis=0) == 1).all(), "a transition lost or found twice"
    inside = near.any(axis=1)
    i = np.flatnonzero(inside[:-1] & inside[1:])
    assert (s[i] != s[i + 1]).all()
    # And the frames: all but those the bursts hit, none false, none twice.
    # (the last frame, cut a few samples short by the signal's end, is not in the truth)
    frames = [f for f in frames if f.end <= sig.size]
    missing, false, errors = match(frames, truth)
    hit = [
        f.label for f in truth if any(lo < f.end + 50 and f.start - 50 < hi for lo, hi in bursts)
    ]
    assert set(missing) <= set(hit), f"lost outside the bursts: {set(missing) - set(hit)}"
    assert not false and len(frames) == len({f.label for f in frames})
    assert errors.max() <= 2.0


def test_same_frames_whatever_the_block_size_across_both_paths(monkeypatch):
    seen = _spy_clean(monkeypatch)
    sig, _truth = ltc("29.97df", seconds=2.5, offset=17.4)
    rng = np.random.default_rng(5)
    sig[30000:32000] += rng.normal(0, AMPLITUDE, 2000)
    sig[70000:71000] += 0.3  # a DC step
    sig[90000:100000] = 0.0  # a dropout
    whole = decode_all(sig, SR)
    assert any(seen) and not all(seen)
    assert len(whole) > 60
    for size in (1, 7, 256, 4096):
        assert decode_in_blocks(sig, size) == whole, f"block size {size}"


def _spy_detector(monkeypatch):
    """The number of hops of each call of the step conditioning's detector, as they come."""
    calls = []
    real = decoder_module.EdgeFinder.find

    def spy(self, x, first, n, final=False, reach=0):
        if self.mode == "step":
            calls.append(n)
        return real(self, x, first, n, final=final, reach=reach)

    monkeypatch.setattr(decoder_module.EdgeFinder, "find", spy)
    return calls


def test_the_decoder_uses_the_fast_path_on_clean_ltc(monkeypatch):
    """Bulk decoding of clean LTC runs the step detector on the first hops (until
    CLEAN_STREAK of them in a row are clean) and the last only (a spy on `EdgeFinder.find`
    counts the hops it is given)."""
    hops = _spy_detector(monkeypatch)
    sig, truth = ltc("25", seconds=10.0)
    assert_all_decoded(decode_all(sig, SR), truth)
    assert sum(hops) <= decoder_module.CLEAN_STREAK + 1


def test_noisy_code_does_not_switch_paths_hop_by_hop(monkeypatch):
    """Noise in every other hop: the hops between prove clean, but seldom CLEAN_STREAK in
    a row, so the detector runs over the stretch in long runs (switching would cost a
    detector call per hop), and every frame still decodes."""
    calls = _spy_detector(monkeypatch)
    seen = _spy_clean(monkeypatch)
    sig, truth = ltc("25", seconds=10.0)
    rng = np.random.default_rng(9)
    for k in range(0, sig.size // HOP, 2):
        sig[k * HOP + 500 : k * HOP + 520] += rng.normal(0, AMPLITUDE, 20)
    frames = decode_all(sig, SR)
    assert_all_decoded(frames, truth)
    assert 0.3 < np.mean(seen) < 0.7  # about every other hop proves clean
    hops = sig.size // HOP
    assert sum(calls) >= 0.9 * hops  # the detector took nearly every hop
    assert len(calls) <= hops // 16  # in long runs, not hop by hop


@pytest.mark.parametrize("hops", [1, 128])
def test_crossing_signs_are_the_steps_across_them(hops):
    """`find` gives each crossing's sign as a slice of +1, -1, ... (crossings alternate):
    it must be the sign of the step between the crossing's two samples, on noise (tens of
    thousands of crossings a call: the table grows) as on LTC."""
    rng = np.random.default_rng(hops)
    finder = CrossingFinder(SR, HOP, 17.0, 30.0)
    pad = finder.pad
    for sig in (rng.normal(size=hops * HOP + 2 * pad), ltc("25", 3.0, SR)[0]):
        x = sig[: hops * HOP + 2 * pad].astype(np.float32)
        finder.reset()
        t, s, _hop, _clean = finder.find(x, 0, hops)
        assert t.size > 10
        pair = np.floor(t).astype(np.int64) + pad  # x index of each crossing's first sample
        np.testing.assert_array_equal(s, np.sign(x[pair + 1] - x[pair]).astype(np.int8))
