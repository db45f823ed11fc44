"""The LTC decoder on impaired LTC (every frame, start within 2 samples) and on signals that
are not LTC (no frame at all). libltc, decoding the same signals, shows what is at stake."""

from __future__ import annotations

import numpy as np
import pytest
from ltc_signals import (
    AMPLITUDE,
    assert_all_decoded,
    ltc,
    match,
    music,
    speech,
    white_noise,
    zero_phase,
)

from stagebox.ltc import decode_all

SR = 48000


def _noisy(sig, snr_db, seed=1):
    rms = AMPLITUDE / 10 ** (snr_db / 20)  # the LTC square wave's RMS is its amplitude
    return sig + white_noise(sig.size / SR, SR, rms, seed)[: sig.size]


def _hum(sig):
    t = np.arange(sig.size) / SR
    return sig + AMPLITUDE * np.sin(2 * np.pi * 50 * t + 0.3)


IMPAIRMENTS = {
    "6 dB SNR": lambda s: _noisy(s, 6),
    "10 dB SNR": lambda s: _noisy(s, 10, seed=4),
    "DC offset": lambda s: s + 0.25,
    "50 Hz hum as loud as the LTC": _hum,
    "inverted": lambda s: -s,
    "3 kHz low-pass": lambda s: zero_phase(s, "low", 3000, SR),
    "800 Hz high-pass": lambda s: zero_phase(s, "high", 800, SR),
}


@pytest.mark.parametrize("rate", ["25", "29.97df"])
@pytest.mark.parametrize("name", list(IMPAIRMENTS))
def test_impaired_ltc_decodes_completely(name, rate):
    sig, truth = ltc(rate, seconds=3.0)
    assert_all_decoded(decode_all(IMPAIRMENTS[name](sig), SR), truth)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rate", ["23.976", "30"])
def test_six_db_snr_every_frame_on_several_noise_draws(rate, seed):
    sig, truth = ltc(rate, seconds=3.0)
    assert_all_decoded(decode_all(_noisy(sig, 6, seed=10 + seed), SR), truth)


def test_minus_42_dbfs():
    sig, truth = ltc("25", seconds=3.0, level_dbfs=-42.0)
    frames = decode_all(sig, SR)
    assert_all_decoded(frames, truth)
    assert frames[0].level == pytest.approx(-42.0, abs=0.2)


@pytest.mark.parametrize("speed", [0.9, 1.1])
def test_steady_off_speed(speed):
    sig, truth = ltc("25", seconds=3.0, speed=speed)
    assert_all_decoded(decode_all(sig, SR), truth)


def test_slow_wobble():
    """+-5 % speed, swinging once every two seconds (a tape transport's wow)."""
    sig, truth = ltc("25", seconds=4.0, speed=lambda at: 1 + 0.05 * np.sin(2 * np.pi * at / SR / 2))
    periods = [t.period for t in truth]
    assert max(periods) / min(periods) > 1.09  # the wobble really swings the rate
    assert_all_decoded(decode_all(sig, SR), truth)


def test_resumes_right_after_a_dropout():
    sig, truth = ltc("25", seconds=3.0)
    lo, hi = 60000, 60000 + int(0.3 * SR)
    sig[lo:hi] = 0.0
    survivors = [t for t in truth if t.end <= lo or t.start >= hi]
    frames = decode_all(sig, SR)
    assert_all_decoded(frames, survivors)
    # The first frame starting after the dropout is found.
    assert min(f.start for f in frames if f.start > hi) < hi + truth[0].period


def test_reverse_playback():
    """Backwards, each frame is reported reverse, with start/end at the stream positions of
    its first bit's leading edge and last bit's trailing edge: start > end."""
    sig, truth = ltc("25", seconds=3.0)
    backwards = sig[::-1].copy()
    frames = decode_all(backwards, SR)
    assert_all_decoded(frames, truth, reverse_length=sig.size, reverse=True)
    assert all(f.start > f.end for f in frames)
    labels = [f.label for f in frames]
    assert labels == [t.label for t in reversed(truth)]


def test_libltc_loses_frames_where_we_do_not(libltc):
    """On the same signals libltc drops frames in noise and loses everything with DC or hum."""
    sig, truth = ltc("25", seconds=3.0)
    for name in ("6 dB SNR", "10 dB SNR", "DC offset", "50 Hz hum as loud as the LTC"):
        impaired = IMPAIRMENTS[name](sig)
        ours = decode_all(impaired, SR)
        ref = libltc.decode(impaired.astype(np.float32), 1920)
        ref_labels = {r.label for r in ref} & {t.label for t in truth}
        assert len(ours) == len(truth), name
        assert len(ref_labels) < len(truth), f"libltc decoded everything with {name}"
    ref = libltc.decode(IMPAIRMENTS["50 Hz hum as loud as the LTC"](sig).astype(np.float32), 1920)
    assert ref == []


NOT_LTC = {
    "white noise": lambda: white_noise(10, SR, 0.1),
    "quiet white noise": lambda: white_noise(10, SR, 0.001, seed=5),
    "1 kHz tone": lambda: 0.3 * np.sin(2 * np.pi * 1000 * np.arange(10 * SR) / SR),
    "2 kHz tone": lambda: 0.3 * np.sin(2 * np.pi * 2000 * np.arange(10 * SR) / SR),
    "1 kHz square": lambda: 0.3 * np.sign(np.sin(2 * np.pi * 1000 * np.arange(10 * SR) / SR + 0.1)),
    "sweep 100 Hz..8 kHz": lambda: (
        0.3 * np.sin(2 * np.pi * np.cumsum(np.geomspace(100, 8000, 10 * SR)) / SR)
    ),
    "music": lambda: music(10, SR),
    "speech": lambda: speech(10, SR),
    "silence": lambda: np.zeros(5 * SR),
}


@pytest.mark.parametrize("name", list(NOT_LTC))
def test_no_frames_from_what_is_not_ltc(name):
    assert decode_all(NOT_LTC[name](), SR) == []


def test_no_frames_from_speech_and_music_over_a_noise_floor():
    x = music(5, SR) + speech(5, SR) + white_noise(5, SR, 0.01)
    assert decode_all(x, SR) == []


def test_clicks_never_move_a_frame():
    """Clicks on the line (20 samples of noise at twice the LTC's level, every other hop):
    a click can cost a frame, never its timing. (The pulse conditioning, for differentiated
    LTC, once filled such gaps with frames a detector width late, 6 samples at 48 kHz.)"""
    sig, truth = ltc("25", seconds=10.0)
    rng = np.random.default_rng(9)
    for k in range(0, sig.size // 1024, 2):
        sig[k * 1024 + 500 : k * 1024 + 520] += rng.normal(0, 2 * AMPLITUDE, 20)
    frames = decode_all(sig, SR)
    missing, false, errors = match(frames, truth)
    assert not false and len(frames) == len({f.label for f in frames})
    assert len(missing) <= 0.05 * len(truth)
    assert errors.max() <= 2.0, f"a frame {errors.max():.2f} samples off"
