"""A synthetic actor's line: speech-like audio for the simulated stage's microphone.

Not speech, but shaped like it where it matters to a take and to the eye on a waveform:
syllables of 120-260 ms with attacks and decays, grouped into words with gaps, a voiced pitch
around an actor's register that falls across the phrase (declination) with a small vibrato,
harmonics shaped by moving vowel formants, and short noise bursts for consonants. It is
deterministic for a given random generator, so a simulated take is reproducible.
"""

from __future__ import annotations

import numpy as np

# (F1, F2, F3) in Hz for five vowels (Peterson and Barney's averages, rounded).
VOWELS = (
    (730.0, 1090.0, 2440.0),  # a
    (530.0, 1840.0, 2480.0),  # e
    (270.0, 2290.0, 3010.0),  # i
    (570.0, 840.0, 2410.0),  # o
    (300.0, 870.0, 2240.0),  # u
)
FORMANT_BANDWIDTHS = np.array([90.0, 110.0, 170.0])  # Hz
CONTROL = 64  # samples between control points (pitch, formants, harmonic amplitudes)
TOP_HARMONIC_HZ = 4000.0  # voiced energy above this is negligible for the purpose


def syllable_plan(length: int, sample_rate: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """[start, end) sample spans of syllables filling about 90 % of `length` samples."""
    spans: list[tuple[int, int]] = []
    t = int(0.01 * sample_rate)  # the actor starts on the punch, within 10 ms
    limit = int(length * 0.92)
    while True:
        for _ in range(int(rng.integers(1, 4))):  # syllables in this word
            dur = int(rng.uniform(0.12, 0.26) * sample_rate)
            if t + dur > limit:
                return spans
            spans.append((t, t + dur))
            t += dur
        t += int(rng.uniform(0.04, 0.16) * sample_rate)  # gap between words


def synth_line(
    length: int,  # samples
    sample_rate: int,  # Hz
    rng: np.random.Generator,
    *,
    peak: float = 0.12,  # full scale 1.0 (-18 dBFS)
) -> np.ndarray:
    """`length` samples of a line spoken from sample 0 (float32, mono)."""
    if length <= 0:
        return np.zeros(0, dtype=np.float32)
    spans = syllable_plan(length, sample_rate, rng)
    out = np.zeros(length, dtype=np.float64)
    if not spans:
        return out.astype(np.float32)
    n_ctl = length // CONTROL + 2
    ctl_t = np.arange(n_ctl) * CONTROL  # samples
    # Pitch: the actor's register, falling 20 % over the phrase, accent on some syllables.
    base = rng.uniform(95.0, 190.0)  # Hz
    f0 = base * (1.0 - 0.2 * ctl_t / length)
    f0 *= 1.0 + 0.012 * np.sin(2 * np.pi * 5.3 * ctl_t / sample_rate)  # vibrato
    formants = np.tile(np.array(VOWELS[0]), (n_ctl, 1))
    env = np.zeros(n_ctl)
    attack, release = 0.02 * sample_rate, 0.05 * sample_rate  # samples
    for start, end in spans:
        a, b = start // CONTROL, min(n_ctl, end // CONTROL + 1)
        formants[a:] = VOWELS[int(rng.integers(len(VOWELS)))]
        accent = rng.uniform(0.9, 1.15)
        f0[a:b] *= accent
        t = ctl_t[a:b] - start
        rise = np.clip(t / attack, 0.0, 1.0)
        fall = np.clip((end - ctl_t[a:b]) / release, 0.0, 1.0)
        env[a:b] = np.maximum(env[a:b], np.sin(0.5 * np.pi * np.minimum(rise, fall)) ** 2)
    # Glide between vowels over ~30 ms rather than jumping.
    kernel = np.ones(max(1, int(0.03 * sample_rate / CONTROL)))
    kernel /= kernel.sum()
    for j in range(3):
        formants[:, j] = np.convolve(formants[:, j], kernel, mode="same")
    t_all = np.arange(length)
    f0_s = np.interp(t_all, ctl_t, f0)
    phase = 2 * np.pi * np.cumsum(f0_s) / sample_rate
    env_s = np.interp(t_all, ctl_t, env)
    harmonics = int(TOP_HARMONIC_HZ // f0.min())
    for k in range(1, harmonics + 1):
        freq = k * f0[:, None]  # Hz at each control point
        # Sum of three resonances, with the glottal source's -6 dB/octave tilt.
        gain = (1.0 / (1.0 + ((freq - formants) / FORMANT_BANDWIDTHS) ** 2)).sum(axis=1) / k
        gain = np.where(k * f0 < TOP_HARMONIC_HZ, gain, 0.0)
        out += np.interp(t_all, ctl_t, gain) * np.sin(k * phase)
    out *= env_s
    # Consonants: 25 ms of bright noise at some syllable onsets.
    burst = int(0.025 * sample_rate)
    for start, _ in spans:
        if rng.random() < 0.5 and start + burst < length:
            noise = np.diff(rng.standard_normal(burst + 1))
            out[start : start + burst] += 0.15 * noise * np.hanning(burst)
    top = np.abs(out).max()
    if top > 0:
        out *= peak / top
    return out.astype(np.float32)
