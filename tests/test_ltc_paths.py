"""The LTC decoder takes some steps two ways for speed; each pair gives the same answer.

- the step detector's per-hop maxima: one reshape for a few hops, pairwise halving for many;
- the framer's acceptance of candidates: a run that follows on is taken whole, the rest one by
  one (`FrameSequencer._simple_runs`);
- the transitions of clean LTC: zero crossings (the fast path) or the step detector;
- the samples: signed integers kept as they come and scaled where read, or float32 from the
  start (`samples.py`);
- the frames out: LTCFrames (`decode`) or columns (`decode_table`, what the CLI prints).
And one table of the flag bits (BGF0-2, the parity bit) serves the encoder and the decoder.
"""

from __future__ import annotations

import numpy as np
import pytest
from ltc_signals import AMPLITUDE, decode_in_blocks, ltc, white_noise, zero_phase

from stagebox.ltc import decoder as decoder_module
from stagebox.ltc import edges
from stagebox.ltc import framer as framer_module
from stagebox.ltc.decoder import LTCDecoder, decode_all
from stagebox.ltc.frame import LTCFrame, flag_bits, pack_bits
from stagebox.ltc.samples import to_float
from stagebox.ltc.sequencer import FrameSequencer
from stagebox.timecode import Rate

SR = 48000


def frames_of(frames: list[LTCFrame]) -> list[tuple]:
    return [(f.label, f.start, f.end, f.user_bits, f.binary_group_flags) for f in frames]


@pytest.mark.parametrize("block", [2, 4, 8, 16, 64])
def test_block_max_by_halving_is_the_reshape_max(block):
    rng = np.random.default_rng(block)
    a = rng.normal(size=block * 37)
    np.testing.assert_array_equal(edges._block_max(a, block), a.reshape(-1, block).max(axis=1))


def test_few_and_many_hops_give_the_same_frames(monkeypatch):
    """Decoding in small blocks (few hops a call: reshape) and whole (many: halving)."""
    clean, _ = ltc("25", 2.0, SR)
    sig = clean + white_noise(2.0, SR, 0.05)[: len(clean)]
    whole = decode_all(sig.astype(np.float32), SR)
    dec = LTCDecoder(SR)
    small: list[LTCFrame] = []
    for pos in range(0, len(sig), 2048):
        small.extend(dec.decode(sig[pos : pos + 2048].astype(np.float32), pos))
    small.extend(dec.flush())
    assert len(whole) >= 45
    assert frames_of(whole) == frames_of(small)


def test_runs_taken_whole_give_the_frames_of_the_one_by_one_loop(monkeypatch):
    sig = ltc("29.97df", 3.0, SR)[0].astype(np.float32)
    bulk = decode_all(sig, SR)
    monkeypatch.setattr(FrameSequencer, "_simple_runs", staticmethod(lambda c: None))
    loop = decode_all(sig, SR)
    assert len(bulk) >= 85
    assert frames_of(bulk) == frames_of(loop)


def test_zero_crossings_and_the_step_detector_find_the_same_frames(monkeypatch):
    """The fast path is only a shortcut: with it turned off, clean LTC decodes the same to
    within a twentieth of a sample (the detector interpolates steps, not crossings)."""
    sig = ltc("25", 2.0, SR)[0].astype(np.float32)
    fast = decode_all(sig, SR)
    monkeypatch.setattr(decoder_module, "CLEAN_STREAK", 10**9)
    slow = decode_all(sig, SR)
    assert [f.label for f in fast] == [f.label for f in slow] and len(fast) >= 45
    assert max(abs(a.start - b.start) for a, b in zip(fast, slow, strict=True)) < 2.0


@pytest.mark.parametrize("nominal", [24, 25, 30])
def test_one_flag_bit_table_for_encoder_and_decoder(nominal):
    """Every binary-group-flag value the encoder packs comes back from the decoder (at 24 fps
    the decoder read the 25 fps places, 1 fps away: it took the parity bit for BGF0)."""
    rate = Rate.parse(str(nominal))
    for bgf in range(8):
        sig = ltc(rate.name, 0.5, SR, binary_group_flags=bgf)[0].astype(np.float32)
        frames = decode_all(sig, SR)
        assert frames and {f.binary_group_flags for f in frames} == {bgf}
        streamed = decode_in_blocks(sig, 256, SR)  # frame by frame: the decoder's other path
        assert streamed and {f.binary_group_flags for f in streamed} == {bgf}
    bgf0, bgf1, bgf2, parity = flag_bits(nominal)
    bits = pack_bits(LTCFrame(1, 0, 0, 0, binary_group_flags=0b101), nominal)
    assert (bits[bgf0], bits[bgf1], bits[bgf2]) == (1, 0, 1)
    assert int(bits.sum()) % 2 == 0  # the parity bit makes the count of zeros (and ones) even


def _every_path(seconds: float = 6.0) -> np.ndarray:
    """25 fps LTC that takes every path: clean (crossings), 6 dB SNR (the step detector, the
    flywheel), differentiated (the pulse conditioning), a dropout, played backwards, loud
    enough to clip at full scale."""
    sig = ltc("25", seconds, SR)[0]
    n = sig.size // 6
    sig[n : 2 * n] += white_noise(n / SR, SR, AMPLITUDE / 2)[:n]
    sig[2 * n : 3 * n] = 20 * np.diff(zero_phase(sig, "high", 300, SR), prepend=0)[2 * n : 3 * n]
    sig[3 * n + 1000 : 3 * n + 4000] = 0.0
    sig[4 * n : 5 * n] = sig[4 * n : 5 * n][::-1]
    sig[5 * n :] *= 1 / AMPLITUDE
    return np.clip(sig, -1.0, 1.0)


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
@pytest.mark.parametrize("block", [1 << 20, 1000])
def test_integers_kept_as_they_come_give_the_frames_of_float32(dtype, block):
    """The decoder keeps signed integer samples as they come and scales them where it reads
    them; float32 samples are scaled on the way in. The same samples give the same frames to
    the last bit either way, levels included."""
    sig = _every_path()
    full = np.iinfo(dtype).max + 1
    ints = np.clip(np.round(sig * full), -full, full - 1).astype(dtype)
    floats = to_float(ints)  # exactly the values the decoder reads from `ints`
    kept = decode_in_blocks(ints, block, SR)
    scaled = decode_in_blocks(floats, block, SR)
    assert len(kept) >= 100
    assert [tuple(f) for f in kept] == [tuple(f) for f in scaled]  # bits and level too
    assert max(f.level for f in kept) > -0.1  # the loud part: full scale reached


def test_a_type_change_mid_stream_gives_the_same_frames():
    """int16, then float32, then int16 again in one stream (the kept samples become float32
    when the type changes): the frames of the whole stream as float32."""
    sig = _every_path()
    ints = np.round(np.clip(sig, -1.0, 1.0 - 2**-15) * 32768).astype(np.int16)
    floats = to_float(ints)
    dec = LTCDecoder(SR)
    third = sig.size // 3
    mixed = dec.decode(ints[:third], 0)
    mixed += dec.decode(floats[third : 2 * third])
    mixed += dec.decode(ints[2 * third :])
    mixed += dec.flush()
    assert [tuple(f) for f in mixed] == [tuple(f) for f in decode_all(floats, SR)]


def _table_rows(table: dict | None, names=LTCFrame._fields) -> list[tuple]:
    """A `decode_table` table as tuples of these LTCFrame fields (bits as bytes), by row."""
    if table is None:
        return []
    columns = []
    for name in names:
        column = table[name]
        if name == "bits":
            column = [bytes(row) for row in column.tolist()]
        columns.append(column if isinstance(column, list) else column.tolist())
    return list(zip(*columns, strict=True))


# What a brief table holds: the fields a frame's line shows.
BRIEF = (
    "hours",
    "minutes",
    "seconds",
    "frames",
    "drop_frame",
    "user_bits",
    "start",
    "end",
    "reverse",
)


@pytest.mark.parametrize("block", [1000, 1 << 16, 1 << 22])
def test_frames_as_columns_are_the_frames_as_objects(block):
    """`decode_table` (the CLI's columns, no LTCFrame made) gives the values `decode` puts in
    its LTCFrames, field for field and to the bit (levels too), through every path (clean,
    noisy, reversed, a jump in position), in blocks of any size; a brief table the same
    values of the fields it holds, and None for the others."""
    sig = _every_path()
    ints = np.round(np.clip(sig, -1.0, 1.0 - 2**-15) * 32768).astype(np.int16)
    jump = ints.size // 2
    as_frames = LTCDecoder(SR)
    as_table = LTCDecoder(SR)
    as_brief = LTCDecoder(SR)
    frames: list[LTCFrame] = []
    rows: list[tuple] = []
    brief: list[tuple] = []
    tables = []
    shown = BRIEF
    for pos in range(0, ints.size, block):
        at = pos if pos < jump else pos + 10 * SR  # a jump: a new stream from there
        chunk = ints[pos : pos + block]
        frames += as_frames.decode(chunk, at)
        rows += _table_rows(as_table.decode_table(chunk, at))
        tables.append(as_brief.decode_table(chunk, at, brief=True))
    frames += as_frames.flush()
    rows += _table_rows(as_table.flush_table())
    tables.append(as_brief.flush_table(brief=True))
    for table in tables:
        brief += _table_rows(table, shown)
        if table is not None:
            assert all(table[k] is None for k in LTCFrame._fields if k not in shown)
    assert len(frames) >= 100 and any(f.reverse for f in frames)
    assert rows == [tuple(f) for f in frames]
    assert brief == [tuple(getattr(f, k) for k in shown) for f in frames]


def test_a_long_block_read_in_place_gives_the_frames_of_copied_blocks(monkeypatch):
    """A block of kept samples longer than the decoder's buffer is read where it lies (its
    head and tail copied); in short blocks every sample goes through the buffer. The same
    frames to the last bit, levels included, through every path, and across blocks that
    follow one another (the tail kept from the one read in place)."""
    sig = _every_path(48.0)
    ints = np.round(np.clip(sig, -1.0, 1.0 - 2**-15) * 32768).astype(np.int16)
    used = []
    real = LTCDecoder._in_place
    monkeypatch.setattr(LTCDecoder, "_in_place", lambda self, *a: used.append(1) or real(self, *a))
    copied = decode_in_blocks(ints, 4096, SR)
    assert not used
    whole = decode_in_blocks(ints, ints.size, SR)
    assert len(used) == 1
    halves = decode_in_blocks(ints, ints.size // 2 + 1, SR)  # two blocks, both in place
    assert len(used) == 3
    assert len(copied) >= 1000 and any(f.reverse for f in copied)
    assert [tuple(f) for f in whole] == [tuple(f) for f in copied]
    assert [tuple(f) for f in halves] == [tuple(f) for f in copied]
    # read-only, as a file's memory map is: never written to
    frozen = ints.copy()
    frozen.flags.writeable = False
    assert [tuple(f) for f in decode_in_blocks(frozen, ints.size, SR)] == [tuple(f) for f in copied]
    assert len(used) == 4
    # a strided block (a channel of a stereo file) is copied, as any short one
    stereo = np.stack([ints, ints], axis=1)
    assert [tuple(f) for f in decode_in_blocks(stereo[:, 0], ints.size, SR)] == [
        tuple(f) for f in copied
    ]
    assert len(used) == 4


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 161, 54_321])
def test_running_half_cells_by_words_are_the_cumulative_sum(n):
    """The framer's half-cell counts, summed eight classes a word, are numpy's cumulative
    sum to the last count (classes 0, 1, 2: bad, half, whole; runs of whole cells too)."""
    rng = np.random.default_rng(n)
    for cls in (rng.integers(0, 3, n), np.full(n, 2)):
        cls = cls.astype(np.uint8)
        expected = np.concatenate([[0], np.cumsum(cls, dtype=np.int64)])
        got = framer_module._running_halves(cls)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, expected)
