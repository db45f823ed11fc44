"""Frames out: LTCFrames for the frames the decoder accepted, their fields, flags and level.

The framer and the flywheel give each frame as (t0, half, bits, fields, reverse): where its
first transition is, its half cell, its 80 bits, their 16 fields (`framer.field_values`) and
its direction. This turns them into `LTCFrame`s: the label and user bits from the fields, the
binary group flags where the frame's rate family puts them (`frame.flag_bits`, the one table
the encoder reads too), the start and end in stream order, and the level: the peak of the raw
input over the frame's span, read from the decoder's buffer `buf` (float32 or signed integers,
`samples.scaled`; `buf[0]` at absolute sample `buf_start`, `buf_len` samples valid).
"""

from __future__ import annotations

import math

import numpy as np

from stagebox.ltc.frame import FRAME_BITS, LTCFrame, build_frames, flag_bits
from stagebox.ltc.framer import HALVES, Candidates
from stagebox.ltc.samples import scaled

_BGF_25 = flag_bits(25)[:3]  # bit positions of BGF0..2 at 25 fps
_BGF_30 = flag_bits(30)[:3]  # and at 24 and 30 fps
_NOMINALS = np.array([24.0, 25.0, 30.0])  # frames a second of the three LTC families
_BITS_ROW = np.dtype((np.void, FRAME_BITS))  # a frame's 80 uint8 bits as one bytes item


def family_25(fps, frame_label):
    """Whether a frame's binary group flags sit where the 25 fps family puts them: its nearest
    nominal rate, by its own length, is 25 (24 and 30 share the other layout). Frame labels of
    24 and up rule out 24 fps, 25 and up 25 fps. Scalars or arrays (one value per frame)."""
    if np.ndim(fps) == 0:  # one frame (streaming): the same rule without numpy's overhead
        options = [n for n in (24, 25, 30) if frame_label < n] or [30]
        return min(options, key=lambda n: abs(math.log(max(float(fps), 1e-9) / n))) == 25
    fps = np.asarray(fps, dtype=np.float64)
    label = np.asarray(frame_label)
    d = np.abs(np.log(np.maximum(fps, 1e-9)[..., None] / _NOMINALS))
    d[..., 0] = np.where(label >= 24, np.inf, d[..., 0])
    d[..., 1] = np.where(label >= 25, np.inf, d[..., 1])
    return d.argmin(axis=-1) == 1


def make_frame(
    buf: np.ndarray,
    buf_start: int,
    buf_len: int,
    sample_rate: int,
    t0,
    half,
    bits,
    fields,
    reverse: bool,
) -> LTCFrame:
    """One LTCFrame, as `make_frames` builds many."""
    span = HALVES * half
    lo = max(int(t0) - buf_start, 0)
    hi = min(int(math.ceil(t0 + span)) + 1 - buf_start, buf_len)
    seg = buf[lo:hi]
    if hi > lo:
        top, bottom = scaled(np.array([seg.max(), seg.min()], dtype=buf.dtype)).tolist()
        peak = max(top, -bottom)
    else:
        peak = 0.0
    f = fields.tolist()
    start, end = (t0 + span, t0) if reverse else (t0, t0 + span)
    user = 0
    for g in range(8):
        user |= f[8 + g] << (4 * g)
    bgf = _BGF_25 if family_25(sample_rate / span, f[1] * 10 + f[0]) else _BGF_30
    b = bits.tolist()
    return LTCFrame(
        f[7] * 10 + f[6],
        f[5] * 10 + f[4],
        f[3] * 10 + f[2],
        f[1] * 10 + f[0],
        bool(b[10]),
        bool(b[11]),
        user,
        b[bgf[0]] | (b[bgf[1]] << 1) | (b[bgf[2]] << 2),
        start,
        end,
        reverse,
        dbfs(peak),
        bits.astype(np.uint8).tobytes(),
    )


def make_frames(
    buf: np.ndarray,
    buf_start: int,
    buf_len: int,
    sample_rate: int,
    accepted: list[tuple],
    cand: Candidates | None,
) -> list[LTCFrame]:
    """LTCFrames for the accepted (t0, half, bits, fields, reverse, row), all at once: the
    fields, flags and levels are computed over the whole batch in a few numpy calls
    (`frame_table`), and the objects made by `build_frames` (no constructor call per frame).
    A few frames (streaming) are built one by one, which costs fewer numpy calls; both give
    the same frames. Rows read from `cand` (row >= 0) carry their bits there."""
    if len(accepted) < 4:
        frames = []
        for t0, half, bits, fields, reverse, row in accepted:
            if row >= 0:
                bits, fields = cand.bits[row], cand.fields[row]
            frames.append(
                make_frame(buf, buf_start, buf_len, sample_rate, t0, half, bits, fields, reverse)
            )
        return frames
    table = frame_table(buf, buf_start, buf_len, sample_rate, accepted, cand)
    return build_frames(
        [
            *(table[name].tolist() for name in TABLE_FIELDS[:-2]),
            table["level"],
            # rows as 80-byte items: `tolist` gives each as a bytes object
            np.ascontiguousarray(table["bits"], np.uint8).view(_BITS_ROW).ravel().tolist(),
        ]
    )


# `frame_table`'s columns, in LTCFrame's field order (level a list of floats, bits (n, 80)).
TABLE_FIELDS = (
    "hours",
    "minutes",
    "seconds",
    "frames",
    "drop_frame",
    "colour_frame",
    "user_bits",
    "binary_group_flags",
    "start",
    "end",
    "reverse",
    "level",
    "bits",
)


def frame_table(
    buf: np.ndarray,
    buf_start: int,
    buf_len: int,
    sample_rate: int,
    accepted: list[tuple],
    cand: Candidates | None,
    brief: bool = False,
) -> dict:
    """The accepted frames as columns (`TABLE_FIELDS`: numpy arrays, one row per frame, the
    values the LTCFrames hold; `level` a list of floats). `brief` leaves out (as None) what
    a frame's line does not show, and the work of it: the level (the samples over every
    frame read), the colour flag, the binary group flags and the bits."""
    t0, half, _bits, _fields, rev, rows = zip(*accepted, strict=True)
    t0 = np.array(t0)  # samples
    span = HALVES * np.array(half)  # samples
    rows = np.array(rows)  # index into `cand`, or -1 (read by the flywheel)
    if cand is not None:
        bits = cand.bits[np.maximum(rows, 0)]  # (n, 80) uint8
        fields = cand.fields[np.maximum(rows, 0)]  # (n, 16): BCD digits, user groups
        for i in np.flatnonzero(rows < 0).tolist():
            bits[i] = accepted[i][2]
            fields[i] = accepted[i][3]
    else:
        bits = np.stack(_bits)
        fields = np.stack(_fields)
    rev = np.array(rev, dtype=bool)
    labels = fields[:, [7, 5, 3, 1]] * 10 + fields[:, [6, 4, 2, 0]]  # h, m, s, f
    user = fields[:, 8:16] @ (1 << (4 * np.arange(8, dtype=np.int64)))
    table = {
        "hours": labels[:, 0],
        "minutes": labels[:, 1],
        "seconds": labels[:, 2],
        "frames": labels[:, 3],
        "drop_frame": bits[:, 10].astype(bool),
        "colour_frame": None,
        "user_bits": user,
        "binary_group_flags": None,
        "start": np.where(rev, t0 + span, t0),
        "end": np.where(rev, t0, t0 + span),
        "reverse": rev,
        "level": None,
        "bits": None,
    }
    if brief:
        return table
    nominal25 = family_25(sample_rate / span, labels[:, 3])  # flags move at 25 fps
    # BGF0 | BGF1 << 1 | BGF2 << 2, where `flag_bits` puts them for each rate family
    # (three column picks: numpy's integer matrix product has no BLAS)
    bgf = sum(
        (1 << n) * np.where(nominal25, bits[:, at25], bits[:, at30]).astype(np.int64)
        for n, (at25, at30) in enumerate(zip(_BGF_25, _BGF_30, strict=True))
    )
    table["colour_frame"] = bits[:, 11].astype(bool)
    table["binary_group_flags"] = bgf
    table["level"] = _levels(buf, buf_start, buf_len, t0, span)
    table["bits"] = bits
    return table


def join_tables(tables: list[dict]) -> dict | None:
    """One `frame_table` of several, in their order (None for none)."""
    if len(tables) <= 1:
        return tables[0] if tables else None
    joined = {}
    for name in TABLE_FIELDS:
        parts = [t[name] for t in tables]
        if parts[0] is None:
            joined[name] = None  # (left out: `brief`)
        elif name == "level":
            joined[name] = [v for p in parts for v in p]
        else:
            joined[name] = np.concatenate(parts)
    return joined


def _levels(buf, buf_start, buf_len, t0, span) -> list[float]:
    """dBFS: the peak of the raw input over each frame's span, as buffer indices [lo, hi)."""
    lo = np.maximum(np.trunc(t0).astype(np.int64) - buf_start, 0)
    hi = np.minimum(np.ceil(t0 + span).astype(np.int64) + 1 - buf_start, buf_len)
    hi = np.maximum(hi, lo)
    r0 = int(lo.min())
    r1 = int(hi.max())
    if r1 < buf.size:
        x = buf[r0 : r1 + 1]  # one spare sample: reduceat's last index
    else:
        x = np.append(buf[r0:r1], buf.dtype.type(0))
    pairs = np.empty(2 * t0.size, dtype=np.int64)
    pairs[0::2] = lo - r0
    pairs[1::2] = hi - r0
    top = scaled(np.maximum.reduceat(x, pairs)[0::2])
    bottom = scaled(np.minimum.reduceat(x, pairs)[0::2])
    peak = np.maximum(top, -bottom).astype(np.float64)
    peak[hi == lo] = 0.0
    # `dbfs` (math.log10, as `make_frame`: the same bits), without a call per frame
    # unless a frame is silent
    peaks = peak.tolist()
    if all(peaks):
        return list(map((20.0).__mul__, map(math.log10, peaks)))  # (20.0 * v, no loop)
    return list(map(dbfs, peaks))


def dbfs(peak: float) -> float:
    """Peak level in dBFS (full scale 1.0)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf
