"""`frame.build_frames` (the bulk decoder's fast way to make LTCFrames) against the plain
constructor: the frames must be indistinguishable."""

from __future__ import annotations

import pickle

import pytest

from stagebox.ltc.frame import LTCFrame, build_frames

ROWS = [
    (1, 2, 3, 4, False, True, 0x12345678, 5, 100.5, 2020.5, False, -6.0, bytes((0, 1) * 40)),
    (23, 59, 59, 29, True, False, 0, 0, 5000.25, 3080.25, True, -42.5, bytes((1,) * 80)),
]


def test_same_frames_as_the_constructor():
    built = build_frames([list(column) for column in zip(*ROWS, strict=True)])
    made = [LTCFrame(*row) for row in ROWS]
    assert built == made
    for b, m in zip(built, made, strict=True):
        assert repr(b) == repr(m)
        assert hash(b) == hash(m)
        assert b.bits == m.bits  # not compared by ==
        assert tuple(b) == tuple(m)
        assert (b.label, b.period) == (m.label, m.period)
        assert type(b) is type(m) is LTCFrame
        assert pickle.loads(pickle.dumps(b)) == b


def test_built_frames_stay_frozen():
    (frame,) = build_frames([[value] for value in ROWS[0]])
    with pytest.raises(AttributeError):
        frame.hours = 2
    assert frame.hours == 1


def test_bits_are_left_out_of_equality_hash_and_repr():
    a = LTCFrame(*ROWS[0])
    b = LTCFrame(*ROWS[0][:-1], bits=bytes(80))
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)
    assert "bits=" not in repr(a).replace("user_bits=", "") and "hours=1, minutes=2" in repr(a)
    assert a != LTCFrame(*ROWS[1])
    assert not a.__eq__(LTCFrame(*ROWS[1]))
    assert a != LTCFrame(*ROWS[0][:8], 100.75, *ROWS[0][9:])  # start differs


def test_columns_must_match_the_fields():
    with pytest.raises(ValueError, match="13 columns"):
        build_frames([[1], [2]])
    columns = [list(column) for column in zip(*ROWS, strict=True)]
    columns[3] = columns[3][:1]
    with pytest.raises(ValueError, match="equal length"):
        build_frames(columns)
