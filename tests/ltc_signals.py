"""Test signals for the LTC decoder: LTC from our encoder and from python-ltc, impairments,
and signals that must decode to nothing (noise, tones, music, speech). Plus the checks that
compare decoded frames with the truth."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import signal as sps

from stagebox.ltc.encoder import generate
from stagebox.ltc.frame import LTCFrame
from stagebox.timecode import Rate, Timecode

LEVEL_DBFS = -18.0  # the encoder's default peak level
AMPLITUDE = 10 ** (LEVEL_DBFS / 20)


def ltc(
    rate: str = "25",
    seconds: float = 4.0,
    sample_rate: int = 48000,
    start: str | None = None,
    offset: float = 300.3,
    **options,
) -> tuple[np.ndarray, list[LTCFrame]]:
    """LTC from our encoder (float64) and its truth frames."""
    r = Rate.parse(rate)
    label = start or ("10:00:00;00" if r.drop_frame else "10:00:00:00")
    sig, truth = generate(Timecode.parse(label, r), seconds, sample_rate, offset=offset, **options)
    return sig.astype(np.float64), truth


def pyltc_ltc(fps: float, drop_frame: bool, frames: int, sample_rate: int, lead: int = 100):
    """LTC from python-ltc (an independent encoder), its labels, and where each frame starts.

    python-ltc leaves a NaN at the end of some frames (an interpolation edge): it is replaced
    by the sample before it. Its 29.97 frames are whole samples long (1601 at 48 kHz).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyltc.tcgen import AudioGenerator

        gen = AudioGenerator(
            frame_format={"rate": fps, "drop_frame": drop_frame},
            use_current_time=False,
            sample_rate=sample_rate,
            use_float_samples=True,
            bit_depth=32,
            dtype=np.float32,
            frame={"hours": 1, "minutes": 9, "seconds": 58, "frames": 4},
        )
        labels, starts, chunks = [], [], []
        pos = lead
        for _ in range(frames):
            labels.append(gen.frame.get_tc_string())
            chunk = gen.generate_frame().astype(np.float64)
            gen.incr_frame()
            starts.append(pos)
            pos += chunk.size
            chunks.append(chunk)
    a = np.concatenate(chunks)
    good = ~np.isnan(a)
    a = a[np.maximum.accumulate(np.where(good, np.arange(a.size), 0))]
    sig = np.concatenate([np.zeros(lead), 0.25 * a, np.zeros(lead)])
    return sig, labels, starts


def decode_in_blocks(sig: np.ndarray, size: int, sample_rate: int = 48000) -> list[LTCFrame]:
    """Every frame of `sig`, fed to one streaming decoder `size` samples at a time."""
    from stagebox.ltc import LTCDecoder

    dec = LTCDecoder(sample_rate)
    out = []
    for i in range(0, sig.size, size):
        out.extend(dec.decode(sig[i : i + size]))
    out.extend(dec.flush())
    return out


def match(frames: list[LTCFrame], truth: list[LTCFrame], *, reverse_length: int | None = None):
    """(missing labels, false frames, start errors) of decoded `frames` against `truth`.

    With `reverse_length` (samples), the signal was played backwards: truth's sample t is at
    reverse_length - 1 - t in the decoded stream.
    """
    by_label = {f.label: f for f in truth}
    errors, false = [], []
    for f in frames:
        t = by_label.get(f.label)
        if t is None:
            false.append(f)
            continue
        start = t.start if reverse_length is None else reverse_length - 1 - t.start
        errors.append(f.start - start)
    got = {f.label for f in frames}
    missing = [f.label for f in truth if f.label not in got]
    return missing, false, np.abs(np.array(errors))


def assert_all_decoded(frames, truth, *, reverse_length=None, reverse=False):
    missing, false, errors = match(frames, truth, reverse_length=reverse_length)
    assert not missing, f"{len(missing)} of {len(truth)} frames lost: {missing[:5]}"
    assert not false, f"false frames: {[f.label for f in false[:5]]}"
    assert len(frames) == len(truth), "a frame was reported twice"
    assert errors.max() <= 2.0, f"start off by {errors.max():.2f} samples"
    assert np.median(errors) <= 1.0, f"median start error {np.median(errors):.2f} samples"
    assert all(f.reverse == reverse for f in frames)


def zero_phase(sig: np.ndarray, kind: str, hz: float, sample_rate: int) -> np.ndarray:
    """A 2nd-order Butterworth filter run forwards and backwards: the filter's shape without
    its delay, so the truth's sample positions still hold."""
    sos = sps.butter(2, hz, kind, fs=sample_rate, output="sos")
    return sps.sosfiltfilt(sos, sig)


def white_noise(seconds: float, sample_rate: int, rms: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, rms, int(seconds * sample_rate))


def music(seconds: float, sample_rate: int, seed: int = 2) -> np.ndarray:
    """Chords of harmonic tones with plucked envelopes, a bass line and a hi-hat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    beat = 0.25  # seconds
    for k in range(int(seconds / beat)):
        at = int(k * beat * sample_rate)
        span = slice(at, min(n, at + int(0.6 * sample_rate)))
        tt = t[span] - t[at]
        env = np.exp(-tt * rng.uniform(3, 9))
        root = 110 * 2 ** (rng.integers(0, 12) / 12)
        for ratio in (1, 1.25, 1.5, 2):
            for h in range(1, 7):
                out[span] += env * np.sin(2 * np.pi * root * ratio * h * tt) / (h * 6)
        hat = slice(at, min(n, at + 600))
        out[hat] += 0.3 * rng.normal(size=out[hat].size) * np.exp(-np.arange(out[hat].size) / 80)
    return 0.5 * out / np.abs(out).max()


def speech(seconds: float, sample_rate: int, seed: int = 3) -> np.ndarray:
    """Speech-like sound: a gliding glottal pulse train through moving formant resonators,
    voiced syllables alternating with fricative noise and pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        dur = int(rng.uniform(0.08, 0.3) * sample_rate)
        seg = min(dur, n - pos)
        kind = rng.choice(["voiced", "voiced", "fricative", "pause"])
        if kind == "voiced":
            f0 = rng.uniform(90, 220) * np.linspace(1.0, rng.uniform(0.8, 1.2), seg)
            phase = np.cumsum(f0 / sample_rate)
            pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
            x = pulses
            for formant in rng.uniform([300, 900, 2200], [900, 2200, 3200]):
                b, a = sps.iirpeak(formant, 8, fs=sample_rate)
                x = x + sps.lfilter(b, a, pulses)
            x *= np.hanning(seg)
        elif kind == "fricative":
            b, a = sps.butter(2, rng.uniform(2500, 5000), "high", fs=sample_rate)
            x = 0.2 * sps.lfilter(b, a, rng.normal(size=seg)) * np.hanning(seg)
        else:
            x = np.zeros(seg)
        out[pos : pos + seg] = x
        pos += seg
    return 0.5 * out / np.abs(out).max()
