"""The 80-bit LTC frame (SMPTE 12M): its fields, and packing them to and from bits.

Bit 0 is sent first. Timecode digits are BCD, least significant bit first. The last 16 bits
are the sync word 0011 1111 1111 1101, which also tells the direction of play.

Flag bits move with the rate family (SMPTE 12M-1999, as tabled in libltc's ltc.h):

             25 fps   24, 30 fps
    BGF0       27        43
    BGF1       58        58
    BGF2       43        59
    parity     59        27

The parity (biphase mark phase correction) bit makes the count of zeros in the frame even,
so every sync word starts with the same polarity.
"""

from __future__ import annotations

from itertools import repeat
from typing import NamedTuple

import numpy as np

from stagebox.timecode import Rate, Timecode, format_label

FRAME_BITS = 80  # bit cells per frame
SYNC_WORD = (0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1)  # bits 64..79 as sent forward
SYNC_BITS = np.array(SYNC_WORD, dtype=np.uint8)

# (first bit, width) of each BCD field, least significant bit first.
_FIELDS = {
    "frame_units": (0, 4),
    "frame_tens": (8, 2),
    "secs_units": (16, 4),
    "secs_tens": (24, 3),
    "mins_units": (32, 4),
    "mins_tens": (40, 3),
    "hours_units": (48, 4),
    "hours_tens": (56, 2),
}
_USER_GROUPS = (4, 12, 20, 28, 36, 44, 52, 60)  # first bit of binary groups 1..8
DROP_FRAME_BIT = 10
COLOUR_FRAME_BIT = 11


def flag_bits(nominal_fps: int) -> tuple[int, int, int, int]:
    """(bgf0, bgf1, bgf2, parity) bit positions for a rate family (SMPTE 12M: the 25 fps
    family moves them). The one table both the encoder and the decoder read."""
    if nominal_fps == 25:
        return 27, 58, 43, 59
    return 43, 58, 59, 27


class _Fields(NamedTuple):
    hours: int  # 0..23
    minutes: int  # 0..59
    seconds: int  # 0..59
    frames: int  # 0..29
    drop_frame: bool = False  # bit 10
    colour_frame: bool = False  # bit 11
    user_bits: int = 0  # 32 bits: binary group 1 in bits 0..3 .. group 8 in bits 28..31
    binary_group_flags: int = 0  # BGF0 in bit 0, BGF1 in bit 1, BGF2 in bit 2
    start: float = 0.0  # samples: where the first bit's leading edge is (absolute position)
    end: float = 0.0  # samples: where the last bit ends (= the next frame's start)
    reverse: bool = False  # decoded from audio played backwards
    level: float = 0.0  # dBFS: peak level of the signal over this frame
    # The 80 bits as sent, one byte each (0 or 1): bytes index and iterate as ints, and the
    # decoder makes them at C speed. Not compared, hashed or shown.
    bits: bytes = b""


_COMPARED = len(_Fields._fields) - 1  # every field but `bits`


class LTCFrame(_Fields):
    """One decoded (or to-be-encoded) LTC frame and where it sits in the sample stream.

    The label fields are raw, as carried by the bits: they are not checked against a rate
    (use `timecode()` for a checked `Timecode`).

    Immutable, with its fields as attributes. It is a named tuple, not a dataclass, for the
    bulk decoder's sake: `build_frames` makes one in about 0.25 us (a frozen dataclass's
    constructor takes 2 us, and setting its slots one field at a time 1.1 us), and the
    decoder returns a frame every 1920 samples at 25 fps and 48 kHz. Equality, hashing and
    repr leave out `bits`, as the fields say everything they do.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LTCFrame):
            return self[:_COMPARED] == other[:_COMPARED]
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, LTCFrame):
            return self[:_COMPARED] != other[:_COMPARED]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self[:_COMPARED])

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}" for k, v in zip(self._fields[:_COMPARED], self, strict=False)
        )
        return f"LTCFrame({shown})"

    @property
    def label(self) -> str:
        """`HH:MM:SS:FF`, with `;` before the frames when the drop-frame flag is set."""
        return format_label(self.hours, self.minutes, self.seconds, self.frames, self.drop_frame)

    @property
    def period(self) -> float:
        """Length of this frame in samples (end - start): tells 24 from 23.976."""
        return self.end - self.start

    def timecode(self, rate: Rate) -> Timecode:
        """This frame's label as a `Timecode` at `rate` (raises TimecodeError if impossible)."""
        return Timecode(self.hours, self.minutes, self.seconds, self.frames, rate)


def build_frames(columns: list[list]) -> list[LTCFrame]:
    """LTCFrames from one list per field (in field order, each as long as the others).

    The same frames as calling the constructor once per frame, made by `tuple.__new__`
    mapped over the rows: no Python-level call per frame (0.25 us a frame)."""
    if len(columns) != len(_Fields._fields):
        raise ValueError(f"build_frames wants {len(_Fields._fields)} columns, not {len(columns)}")
    n = len(columns[0])
    if any(len(column) != n for column in columns):
        raise ValueError("build_frames wants columns of equal length")
    return list(map(tuple.__new__, repeat(LTCFrame, n), zip(*columns, strict=True)))


def pack_bits(frame: LTCFrame, nominal_fps: int) -> np.ndarray:
    """The 80 bits of `frame` in transmission order, parity bit set (uint8 array)."""
    bits = np.zeros(FRAME_BITS, dtype=np.uint8)
    values = {
        "frame_units": frame.frames % 10,
        "frame_tens": frame.frames // 10,
        "secs_units": frame.seconds % 10,
        "secs_tens": frame.seconds // 10,
        "mins_units": frame.minutes % 10,
        "mins_tens": frame.minutes // 10,
        "hours_units": frame.hours % 10,
        "hours_tens": frame.hours // 10,
    }
    for name, (first, width) in _FIELDS.items():
        value = values[name]
        if value >= 1 << width:
            raise ValueError(f"{name} = {value} does not fit in {width} LTC bits")
        for i in range(width):
            bits[first + i] = (value >> i) & 1
    for group, first in enumerate(_USER_GROUPS):
        nibble = (frame.user_bits >> (4 * group)) & 0xF
        for i in range(4):
            bits[first + i] = (nibble >> i) & 1
    bits[DROP_FRAME_BIT] = frame.drop_frame
    bits[COLOUR_FRAME_BIT] = frame.colour_frame
    bgf0, bgf1, bgf2, parity = flag_bits(nominal_fps)
    bits[bgf0] = frame.binary_group_flags & 1
    bits[bgf1] = (frame.binary_group_flags >> 1) & 1
    bits[bgf2] = (frame.binary_group_flags >> 2) & 1
    bits[64:] = SYNC_BITS
    # Even number of zeros in the whole frame = even number of ones (80 bits in all).
    bits[parity] = 0
    bits[parity] = int(bits.sum()) & 1
    return bits
