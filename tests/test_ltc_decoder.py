"""The LTC decoder on clean LTC: every rate and sample rate, an independent encoder
(python-ltc), libltc as the reference decoder, and the streaming contract (block sizes,
positions, dtypes, promptness, flush)."""

from __future__ import annotations

import numpy as np
import pytest
from ltc_signals import AMPLITUDE, assert_all_decoded, decode_in_blocks, ltc, match, pyltc_ltc

from stagebox.ltc import LTCDecoder, decode_all
from stagebox.ltc.samples import to_float
from stagebox.timecode import RATES

SAMPLE_RATES = (44100, 48000, 96000)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("rate", [r.name for r in RATES])
def test_round_trip_every_rate(rate, sample_rate):
    sig, truth = ltc(rate, seconds=2.0, sample_rate=sample_rate)
    frames = decode_all(sig, sample_rate)
    assert_all_decoded(frames, truth)
    for f, t in zip(frames, truth, strict=True):
        assert f.drop_frame == t.drop_frame
        assert f.user_bits == t.user_bits
        # The period tells 24 from 23.976 and 30 from 29.97 (0.1 % apart).
        assert f.period == pytest.approx(t.period, abs=0.25 * 1e-3 * t.period)
        assert f.level == pytest.approx(-18.0, abs=0.1)


def test_user_bits_flags_and_colour_frame_are_read():
    sig, truth = ltc(
        "25", seconds=1.0, user_bits=0xA5C3E781, binary_group_flags=0b101, colour_frame=True
    )
    frames = decode_all(sig, 48000)
    assert_all_decoded(frames, truth)
    assert {(f.user_bits, f.binary_group_flags, f.colour_frame) for f in frames} == {
        (0xA5C3E781, 0b101, True)
    }


@pytest.mark.parametrize("sample_rate", (44100, 48000, 96000))
@pytest.mark.parametrize(("fps", "df"), [(24, False), (25, False), (30, False), (29.97, True)])
def test_python_ltc_encoder(fps, df, sample_rate):
    """An independent encoder's LTC, with its own frame boundaries as the truth."""
    sig, labels, starts = pyltc_ltc(fps, df, 30, sample_rate)
    frames = decode_all(sig, sample_rate)
    assert [f.label for f in frames] == labels
    # python-ltc's first sample of a frame holds the new level: the edge is half a sample before.
    err = np.abs(np.array([f.start for f in frames]) - (np.array(starts) - 0.5))
    assert err.max() <= 1.0


def test_agrees_with_libltc(libltc):
    """libltc, the field's reference decoder, reads the same labels from the same signal,
    and its (whole-sample) frame starts agree with ours."""
    sig, truth = ltc("29.97df", seconds=4.0)
    ours = decode_all(sig, 48000)
    ref = libltc.decode(sig.astype(np.float32), 1601.6)
    assert len(ref) >= len(truth) - 1
    by_label = {f.label: f for f in ours}
    for r in ref:
        assert r.label in by_label
        assert abs(by_label[r.label].start - r.start) <= 3


def _noisy_mixed_signal():
    """Forward LTC with noise, a dropout, a relocate, and a reversed stretch: every path of
    the decoder (framer, flywheel, lookback, reverse) is exercised."""
    rng = np.random.default_rng(7)
    a, _ = ltc("25", seconds=1.2)
    b, _ = ltc("30", seconds=0.8, start="03:00:00:00", offset=0)
    c, _ = ltc("25", seconds=1.0, start="05:00:00:00", offset=0)
    sig = np.concatenate([a, np.zeros(4800), b, c[::-1]])
    return sig + rng.normal(0, AMPLITUDE / 2, sig.size)


def test_same_frames_whatever_the_block_size():
    sig = _noisy_mixed_signal()
    whole = decode_all(sig, 48000)
    assert len(whole) > 60
    assert any(f.reverse for f in whole) and any(not f.reverse for f in whole)
    for size in (7, 256, 4096):
        assert decode_in_blocks(sig, size) == whole, f"block size {size}"
    short = sig[: 48000 // 2]
    assert decode_in_blocks(short, 1) == decode_all(short, 48000)


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "float32"])
def test_integer_and_float_blocks_are_scaled_by_full_scale(dtype):
    sig, truth = ltc("25", seconds=1.0)
    if dtype == "int16":
        block = np.round(sig * 32767).astype(np.int16)
    elif dtype == "int32":
        block = np.round(sig * (2**31 - 1)).astype(np.int32)
    elif dtype == "uint8":
        block = np.round(sig * 127 + 128).astype(np.uint8)
    else:
        block = sig.astype(np.float32)
    assert np.abs(to_float(block) - sig).max() < 1 / 100
    frames = decode_all(block, 48000)
    assert_all_decoded(frames, truth)
    assert frames[0].level == pytest.approx(-18.0, abs=0.5)


def test_positions_are_absolute():
    sig, truth = ltc("25", seconds=1.0)
    dec = LTCDecoder(48000)
    frames = dec.decode(sig, position=10_000_000) + dec.flush()
    assert [f.label for f in frames] == [t.label for t in truth]
    for f, t in zip(frames, truth, strict=True):
        assert f.start - 10_000_000 == pytest.approx(t.start, abs=1.0)


def test_a_jump_in_position_starts_a_new_stream():
    sig, truth = ltc("25", seconds=1.0)
    dec = LTCDecoder(48000)
    first = dec.decode(sig[:30000], 0)
    # The rest arrives 5 s later in the stream (a gap in capture): the frame cut by the
    # gap must not be made up, the others are found at their new positions.
    second = dec.decode(sig[30000:], 240000 + 30000) + dec.flush()
    labels = [f.label for f in first + second]
    cut = [t.label for t in truth if t.start < 30000 < t.end]
    assert not set(cut) & set(labels)
    assert len(labels) == len(truth) - len(cut)
    assert all(f.start > 240000 for f in second)


def test_frames_are_returned_promptly_and_lock_is_fast():
    """Streaming in 256-sample blocks: each frame comes back within one hop (about 21 ms)
    and a bit cell of its end, and the first within two frames of LTC appearing."""
    sr = 48000
    sig, truth = ltc("30", seconds=1.5, offset=4800)
    dec = LTCDecoder(sr)
    seen_at = {}
    for i in range(0, sig.size, 256):
        for f in dec.decode(sig[i : i + 256]):
            seen_at[f.label] = i + 256
    frame_len = sr / 30
    due = [t for t in truth if t.end + 0.03 * sr < sig.size]  # the last waits for flush
    assert set(seen_at) == {t.label for t in due}
    for t in due:
        assert seen_at[t.label] - t.end < 0.021 * sr + 256 + 2 * frame_len / 80
    first = min(seen_at.values())
    assert first - 4800 <= 2 * frame_len


def test_flush_returns_a_frame_that_ends_with_the_stream():
    sig, truth = ltc("25", seconds=1.0, offset=0)  # 25 whole frames, the last ends at 48000
    assert truth[-1].end == pytest.approx(48000)
    dec = LTCDecoder(48000)
    frames = dec.decode(sig)
    pending = dec.flush()
    assert [f.label for f in frames + pending] == [t.label for t in truth]
    assert dec.position is None  # flushed: the next block starts a new stream


def test_reset_forgets_the_stream():
    sig, truth = ltc("25", seconds=1.0)
    dec = LTCDecoder(48000)
    dec.decode(sig[:20000])
    dec.reset()
    frames = dec.decode(sig[20000:], 20000) + dec.flush()
    missing, false, _ = match(frames, truth)
    assert not false
    assert all(t.end > 20000 for t in truth if t.label not in missing)


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="mono"):
        LTCDecoder(48000).decode(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="sample rate"):
        LTCDecoder(0)
    with pytest.raises(ValueError, match="numeric"):
        LTCDecoder(48000).decode(np.array(["a", "b"]))


def test_fps_hint_narrows_the_search():
    sig, truth = ltc("25", seconds=1.0)
    dec = LTCDecoder(48000, fps_hint=25)
    frames = dec.decode(sig) + dec.flush()
    assert_all_decoded(frames, truth)
    dec = LTCDecoder(48000, fps_hint=30)  # 25 fps is 17 % slow for 30: outside +-15 %
    assert dec.decode(sig) + dec.flush() == []


@pytest.mark.parametrize("sample_rate", [8000, 11025, 16000])
def test_low_sample_rates(sample_rate):
    """From 11.025 kHz every frame; at 8 kHz (a half cell of 25 fps LTC is 2 samples, at
    the Nyquist limit) some, never a false one, and never an error, whatever the block size
    (the detector's blocks of history are shortest there)."""
    sig, truth = ltc("25", seconds=2.0, sample_rate=sample_rate, offset=0.0)
    whole = decode_all(sig, sample_rate)
    labels = {f.label for f in truth}
    assert all(f.label in labels for f in whole)
    if sample_rate > 8000:
        assert_all_decoded(whole, truth)
    for size in (1, 7, 256):
        assert decode_in_blocks(sig, size, sample_rate) == whole, f"block size {size}"


@pytest.mark.filterwarnings("error")
def test_nan_and_infinite_samples_are_silence():
    """A corrupt float file: NaN and infinite samples neither warn nor spoil the frames
    away from them (they count as silence)."""
    sig, truth = ltc("25", seconds=3.0)
    bad = sig.astype(np.float32)
    bad[50000:50010] = np.nan
    bad[90000] = np.inf
    bad[90001] = -np.inf
    frames = decode_all(bad, 48000)
    missing, false, _errors = match(frames, truth)
    hit = [f.label for f in truth if f.start - 100 < 50010 and f.end + 100 > 50000]
    hit += [f.label for f in truth if f.start - 100 < 90002 and f.end + 100 > 90000]
    assert set(missing) <= set(hit) and len(missing) <= 2 and not false
    assert to_float(bad)[50005] == 0.0 and to_float(bad)[90001] == 0.0
