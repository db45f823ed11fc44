"""`frame.build_frames` (the bulk decoder's fast way to make LTCFrames) against the plain
constructor: the frames must be indistinguishable."""

from __future__ import annotations

import dataclasses

import pytest

from stagebox.ltc.frame import LTCFrame, build_frames

ROWS = [
    (1, 2, 3, 4, False, True, 0x12345678, 5, 100.5, 2020.5, False, -6.0, (0, 1) * 40),
    (23, 59, 59, 29, True, False, 0, 0, 5000.25, 3080.25, True, -42.5, (1,) * 80),
]


def test_same_frames_as_the_constructor():
    built = build_frames([list(column) for column in zip(*ROWS, strict=True)])
    made = [LTCFrame(*row) for row in ROWS]
    assert built == made
    for b, m in zip(built, made, strict=True):
        assert repr(b) == repr(m)
        assert hash(b) == hash(m)
        assert b.bits == m.bits  # not compared by ==
        assert dataclasses.astuple(b) == dataclasses.astuple(m)
        assert (b.label, b.period) == (m.label, m.period)


def test_built_frames_stay_frozen():
    (frame,) = build_frames([[value] for value in ROWS[0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.hours = 2


def test_columns_must_match_the_fields():
    with pytest.raises(ValueError, match="13 columns"):
        build_frames([[1], [2]])
    columns = [list(column) for column in zip(*ROWS, strict=True)]
    columns[3] = columns[3][:1]
    with pytest.raises(ValueError, match="equal length"):
        build_frames(columns)
