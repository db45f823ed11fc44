"""Speech features for matching a take to its guide: spectra, cepstra, voice activity.

Both performances are cut into 25 ms Hann windows every 10 ms (the hop: one feature frame is
10 ms, a quarter of a video frame at 25 fps). From each window's power spectrum come:

- **cepstra** (MFCC 1..13 of a 40-band log-mel spectrum, 80 Hz to 7.6 kHz): the shape of the
  vocal tract, which two voices saying the same words share and which a level change leaves
  alone. Coefficient 0 (loudness) is left out and each coefficient's mean over the take is
  removed, so a quieter take or another microphone does not look like other words.
- **level** (dB re full scale) and a **voice-activity** gate: a frame is speech when it stands
  clear of the take's own noise floor and within reach of its loudest speech.
- **harmonicity**: the peak of the window's normalised autocorrelation at pitch lags (70 to
  400 Hz), corrected for the window's own autocorrelation (Boersma 1993). Speech has voiced
  stretches near 1; room noise, hiss and hum-free rumble stay low. It tells a guide that is
  mostly noise from one that is speech.

A finer **onset envelope** (level every 1 ms) lets the matcher place a word to the
millisecond once dynamic time warping has found it to the nearest 10 ms.

Pure numpy, no state: the functions take a mono float array and the sample rate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

HOP_S = 0.010  # s between feature frames
WINDOW_S = 0.025  # s of audio in each feature frame
MEL_BANDS = 40
MEL_LO_HZ = 80.0
MEL_HI_HZ = 7600.0
CEPSTRA = 13  # MFCC 1..13 (0 left out: it is the level)
PITCH_LO_HZ = 70.0
PITCH_HI_HZ = 400.0
FINE_HOP_S = 0.001  # s between onset-envelope points
FINE_WINDOW_S = 0.004  # s of audio averaged into each onset-envelope point
SILENCE_DBFS = -65.0  # a frame quieter than this is never speech
FLOOR_MARGIN_DB = 12.0  # speech stands at least this far above the noise floor
SPEECH_RANGE_DB = 45.0  # and within this of the loudest speech
NOISE_MARGIN_DB = 6.0  # dB above the noise floor where matched spectra are floored
LEVEL_WEIGHT = 1.0  # weight of the loudness contour beside the unit-length cepstra
RISE_WEIGHT = 4.0  # weight of its rise per 10 ms
HARMONIC = 0.45  # harmonicity above which a frame is voiced (pitched)
_EPS = 1e-10


@dataclass(frozen=True)
class SpeechFeatures:
    """One performance as feature frames (frame k covers the window centred on k x hop)."""

    sample_rate: int  # Hz of the audio they came from
    hop: int  # samples between frames
    log_mel: np.ndarray  # (frames, MEL_BANDS) float32 dB: the spectrum on the mel scale
    level_db: np.ndarray  # (frames,) dBFS of each window
    harmonicity: np.ndarray  # (frames,) 0..1
    active: np.ndarray  # (frames,) bool: speech (voice activity)
    floor_db: float  # the noise floor: 10th percentile of level_db
    peak_db: float  # the loudest speech: 98th percentile of level_db

    @property
    def frames(self) -> int:
        return len(self.level_db)

    @property
    def hop_s(self) -> float:
        return self.hop / self.sample_rate

    @property
    def active_s(self) -> float:
        """Seconds of speech."""
        return float(self.active.sum()) * self.hop_s

    @property
    def voiced_share(self) -> float:
        """Share of the speech frames that are pitched: near 0 for noise, about 0.5+ for speech."""
        n = int(self.active.sum())
        if n == 0:
            return 0.0
        return float((self.active & (self.harmonicity > HARMONIC)).sum()) / n


def hop_samples(sample_rate: int) -> int:
    """Samples in one 10 ms hop (480 at 48 kHz, 441 at 44.1 kHz)."""
    return max(1, round(sample_rate * HOP_S))


def speech_features(audio: np.ndarray, sample_rate: int) -> SpeechFeatures:
    """Feature frames of a mono performance (float samples, full scale 1.0)."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = hop_samples(sample_rate)
    win = round(sample_rate * WINDOW_S)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))  # room for the autocorrelation without wrap
    n_frames = max(1, -(-len(x) // hop))
    padded = np.zeros(n_frames * hop + win, dtype=np.float32)
    padded[win // 2 : win // 2 + len(x)] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_frames]
    window = _hann(win)
    spec = np.fft.rfft(frames * window, n=nfft, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)  # (frames, nfft/2+1)

    # Level: mean square of the windowed frame, re a full-scale sine through the same window.
    energy = power.sum(axis=1) / nfft
    ref = 0.5 * float((window**2).sum())
    level_db = 10.0 * np.log10(energy / ref + _EPS)

    log_mel = 10.0 * np.log10(power @ _mel_bank(sample_rate, nfft) / ref + _EPS)
    floor_db = float(np.percentile(level_db, 10))
    peak_db = float(np.percentile(level_db, 98))
    active = (
        (level_db > SILENCE_DBFS)
        & (level_db > floor_db + FLOOR_MARGIN_DB)
        & (level_db > peak_db - SPEECH_RANGE_DB)
    )
    active = _close_gaps(active, 3)
    harmonicity = _harmonicity(power, nfft, win, sample_rate)
    return SpeechFeatures(
        sample_rate=sample_rate,
        hop=hop,
        log_mel=log_mel.astype(np.float32),
        level_db=level_db.astype(np.float32),
        harmonicity=harmonicity,
        active=active,
        floor_db=floor_db,
        peak_db=peak_db,
    )


def matched_cepstra(a: SpeechFeatures, b: SpeechFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Cepstra of two performances made comparable: (frames, CEPSTRA) rows of unit length.

    Where speech fades into noise the two differ most: a clean take's word tail is still
    there while a noisy guide's is under its room tone (or the other way round). So each
    mel band of both is floored at the worse of the two noise floors, each taken relative to
    its own speech level (its 98th percentile), never lower than 45 dB under it. Then both
    fade into the same flat floor. The mean of each coefficient over the speech is removed
    (not over silence, whose share differs between performances).
    """
    rel_a = np.percentile(a.log_mel, 10, axis=0) - a.peak_db
    rel_b = np.percentile(b.log_mel, 10, axis=0) - b.peak_db
    rel = np.maximum(np.maximum(rel_a, rel_b) + NOISE_MARGIN_DB, -SPEECH_RANGE_DB)
    level_rel = max(a.floor_db - a.peak_db, b.floor_db - b.peak_db) + NOISE_MARGIN_DB
    level_rel = max(level_rel, -SPEECH_RANGE_DB)
    return _cepstra(a, rel, level_rel), _cepstra(b, rel, level_rel)


def _cepstra(f: SpeechFeatures, floor_rel_db: np.ndarray, level_rel_db: float) -> np.ndarray:
    floored = np.maximum(f.log_mel, f.peak_db + floor_rel_db)
    cep = floored @ _dct(MEL_BANDS)[:, 1 : CEPSTRA + 1]
    basis = cep[f.active] if f.active.sum() >= 10 else cep
    cep = cep - basis.mean(axis=0)
    cep /= np.linalg.norm(cep, axis=1, keepdims=True) + 1e-6
    # The loudness contour (0 at the common floor, 1 at the speech peak) and its rise: word
    # onsets and ends, which any two voices saying the same words share.
    lvl = np.clip((f.level_db - f.peak_db - level_rel_db) / -level_rel_db, 0.0, 1.2)
    rise = np.gradient(lvl)
    extra = np.stack([LEVEL_WEIGHT * (lvl - 0.5), RISE_WEIGHT * rise], axis=1)
    out = np.concatenate([cep, extra], axis=1)
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-6
    return out.astype(np.float32)


def onset_envelope(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Level in dB every 1 ms (4 ms mean square), point k centred on sample k x 1 ms."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    step = max(1, round(sample_rate * FINE_HOP_S))
    width = max(1, round(sample_rate * FINE_WINDOW_S))
    csum = np.concatenate(([0.0], np.cumsum(x * x)))
    centres = np.arange(0, len(x), step)
    lo = np.clip(centres - width // 2, 0, len(x))
    hi = np.clip(centres + width - width // 2, 0, len(x))
    ms = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return (10.0 * np.log10(ms + 1e-9)).astype(np.float32)


def _harmonicity(power: np.ndarray, nfft: int, win: int, sample_rate: int) -> np.ndarray:
    lag_lo = max(1, int(sample_rate / PITCH_HI_HZ))
    lag_hi = min(win - 1, int(np.ceil(sample_rate / PITCH_LO_HZ)))
    ac = np.fft.irfft(power, n=nfft, axis=1)[:, : lag_hi + 1]
    ac_w = _window_autocorrelation(win, nfft)[: lag_hi + 1]
    r = ac / (ac[:, :1] + _EPS) / ac_w
    return np.clip(r[:, lag_lo:].max(axis=1), 0.0, 1.0).astype(np.float32)


def _close_gaps(mask: np.ndarray, gap: int) -> np.ndarray:
    """Fill runs of False no longer than `gap` between two Trues (stops inside a word)."""
    out = mask.copy()
    idx = np.flatnonzero(mask)
    if len(idx) < 2:
        return out
    jumps = np.flatnonzero((np.diff(idx) > 1) & (np.diff(idx) <= gap + 1))
    for k in jumps:
        out[idx[k] : idx[k + 1]] = True
    return out


@functools.lru_cache(maxsize=8)
def _hann(win: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(win) + 0.5) / win)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _window_autocorrelation(win: int, nfft: int) -> np.ndarray:
    w = np.fft.rfft(_hann(win).astype(np.float64), n=nfft)
    ac = np.fft.irfft(np.abs(w) ** 2, n=nfft)
    return np.maximum(ac / ac[0], 1e-3)


@functools.lru_cache(maxsize=8)
def _mel_bank(sample_rate: int, nfft: int) -> np.ndarray:
    """Triangular mel filters, (nfft/2+1, MEL_BANDS), each of unit area."""

    def mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    hi = min(MEL_HI_HZ, sample_rate / 2 * 0.95)
    edges = hz(np.linspace(mel(MEL_LO_HZ), mel(hi), MEL_BANDS + 2))
    bins = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    bank = np.zeros((len(bins), MEL_BANDS), dtype=np.float32)
    for b in range(MEL_BANDS):
        lo, mid, top = edges[b : b + 3]
        rise = (bins - lo) / (mid - lo)
        fall = (top - bins) / (top - mid)
        tri = np.clip(np.minimum(rise, fall), 0.0, None)
        bank[:, b] = tri / max(tri.sum(), _EPS)
    return bank


@functools.lru_cache(maxsize=2)
def _dct(n: int) -> np.ndarray:
    """DCT-II basis as an (n, n) matrix: log-mel (.., n) @ basis -> cepstra."""
    k = np.arange(n)
    return np.cos(np.pi / n * (k[:, None] + 0.5) * k[None, :]).astype(np.float32)
