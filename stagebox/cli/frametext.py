"""The lines `stagebox ltc decode` prints, built for a whole block of frames at once.

One line per frame, as libltc's ltcdump prints it: user bits, timecode (`;` before the frames
when the drop-frame flag is set), start and end sample (rounded half to even, as `round()`
does), ` R` when played backwards. `FRAME_LINE` is the format, printf-style:

    00000000   01:00:00:00 |        0     1919

A 30-minute reel is 45 000 frames; formatting them one `%` at a time took a tenth of the
command's time. Here each field is turned into its characters as columns of one byte array
(a digit per column, all frames at once) and the lines are that array's bytes: a few dozen
numpy calls a block, whatever its frames. Fields wider than their width (a start past
99 999 999 samples, a negative one) and the ` R` make lines of different lengths: those
characters are then picked out with a mask, as `%` would have widened the line.
"""

from __future__ import annotations

import numpy as np

# One frame as text (the reference the byte array matches, field for field).
FRAME_LINE = "%08x   %02d:%02d:%02d%s%02d | %8d %8d%s\n"

_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SPACE, _MINUS = ord(" "), ord("-")


def frame_columns(frames) -> dict[str, np.ndarray]:
    """The fields of `frames` (LTCFrames) that the lines and the summary read, as arrays by
    field name: taken out column by column, in one pass over the frames."""
    # The named tuple's fields in order: hours .. reverse, then level and bits (not shown).
    (h, m, s, f, df, _colour, user, _flags, start, end, rev, *_) = zip(*frames, strict=True)
    return {
        "hours": np.array(h, dtype=np.int64),
        "minutes": np.array(m, dtype=np.int64),
        "seconds": np.array(s, dtype=np.int64),
        "frames": np.array(f, dtype=np.int64),
        "drop_frame": np.array(df, dtype=bool),
        "user_bits": np.array(user, dtype=np.int64),
        "start": np.array(start, dtype=np.float64),  # samples (fractional)
        "end": np.array(end, dtype=np.float64),
        "reverse": np.array(rev, dtype=bool),
    }


def frame_text(cols: dict[str, np.ndarray]) -> str:
    """The lines (`FRAME_LINE`) of the frames in `cols` (`frame_columns`), as one string."""
    n = cols["hours"].size
    if n == 0:
        return ""
    start = np.rint(cols["start"]).astype(np.int64)  # half to even, as round() does
    end = np.rint(cols["end"]).astype(np.int64)
    sep = np.where(cols["drop_frame"], ord(";"), ord(":")).astype(np.uint8)[:, None]
    mark = np.frombuffer(b" R", dtype=np.uint8)
    pieces = [
        _integers(cols["user_bits"], 8, base=16, zero=True),
        _text(b"   ", n),
        _integers(cols["hours"], 2, zero=True),
        _text(b":", n),
        _integers(cols["minutes"], 2, zero=True),
        _text(b":", n),
        _integers(cols["seconds"], 2, zero=True),
        (sep, None),
        _integers(cols["frames"], 2, zero=True),
        _text(b" | ", n),
        _integers(start, 8),
        _text(b" ", n),
        _integers(end, 8),
        (np.broadcast_to(mark, (n, 2)), np.broadcast_to(cols["reverse"][:, None], (n, 2))),
        _text(b"\n", n),
    ]
    width = sum(chars.shape[1] for chars, _ in pieces)
    out = np.empty((n, width), dtype=np.uint8)
    keep = None
    at = 0
    for chars, shown in pieces:
        w = chars.shape[1]
        out[:, at : at + w] = chars
        if shown is not None:
            if keep is None:
                keep = np.ones((n, width), dtype=bool)
            keep[:, at : at + w] = shown
        at += w
    data = out.tobytes() if keep is None else out[keep].tobytes()
    return data.decode("ascii")


def _text(chars: bytes, n: int) -> tuple[np.ndarray, None]:
    """The same characters on every line."""
    return np.broadcast_to(np.frombuffer(chars, dtype=np.uint8), (n, len(chars))), None


def _integers(
    values: np.ndarray, width: int, *, base: int = 10, zero: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Integers as `%{width}d` (base 10) or `%0{width}x` (base 16) would print them: right
    aligned in at least `width` characters, padded with spaces or (`zero`) zeros, a `-` before
    a negative one (before its zeros). Returns the characters, a column each (as many as the
    widest value needs), and which of them each line shows (None: all, every value fits)."""
    v = np.asarray(values, dtype=np.int64)
    negative = v < 0
    size = np.abs(v)
    top = int(size.max())
    places = 1  # digits of the largest value
    while base**places <= top:
        places += 1
    signed = bool(negative.any())
    cols = max(width, places + signed)
    digits = np.empty((v.size, cols), dtype=np.int64)  # least significant in the last column
    rest = size
    for j in range(cols - 1, -1, -1):
        below = rest // base  # (twice as fast as np.divmod)
        digits[:, j] = rest - below * base
        rest = below
    chars = _DIGITS[digits]
    from_right = np.arange(cols - 1, -1, -1)  # each column's place: 0 for the units
    count = np.ones(v.size, dtype=np.int64)  # digits of each value
    for k in range(1, places):
        count += size >= base**k
    length = np.maximum(count + negative, width)  # characters of each value
    if zero:
        sign_at = length - 1
    else:
        chars[from_right >= count[:, None]] = _SPACE
        sign_at = count
    if signed:
        chars[negative[:, None] & (from_right == sign_at[:, None])] = _MINUS
    if cols == width:
        return chars, None
    return chars, from_right < length[:, None]
