"""`stagebox ltc decode`'s lines, built as one byte array per block (`cli/frametext.py`),
against the printf-style format they stand for (`FRAME_LINE`, formatted frame by frame by
Python's `%`), and the process settings of the bulk command (`cli/bulkrun.py`)."""

from __future__ import annotations

import gc
import os
import platform
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagebox.cli.bulkrun import bulk_run, keep_heap
from stagebox.cli.frametext import FRAME_LINE, frame_columns, frame_text
from stagebox.ltc.frame import LTCFrame


def printf_lines(frames: list[LTCFrame]) -> str:
    """The reference: each frame through `FRAME_LINE` with `%`, start and end by `round()`."""
    return "".join(
        FRAME_LINE
        % (
            f.user_bits,
            f.hours,
            f.minutes,
            f.seconds,
            ";" if f.drop_frame else ":",
            f.frames,
            round(f.start),
            round(f.end),
            " R" if f.reverse else "",
        )
        for f in frames
    )


samples = st.one_of(
    st.floats(-1e4, 1e8),  # the usual: a reel's samples
    st.floats(-1e15, 1e15),  # wider than the field: the line grows, as % grows it
    st.sampled_from([0.5, 1.5, 2.5, -0.5, -1.5, 99_999_999.5, 99_999_998.5, -9_999_999.5]),
)
frames = st.builds(
    LTCFrame,
    hours=st.integers(0, 99),
    minutes=st.integers(0, 99),
    seconds=st.integers(0, 99),
    frames=st.integers(0, 99),
    drop_frame=st.booleans(),
    user_bits=st.integers(0, 2**32 - 1),
    start=samples,
    end=samples,
    reverse=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, min_size=1, max_size=40))
def test_lines_are_the_printf_format(found):
    assert frame_text(frame_columns(found)) == printf_lines(found)


def test_a_reel_of_ordinary_frames():
    """Many frames of one width (no mask: the array's bytes as they are) and a few reversed
    (the ` R` picked out line by line)."""
    found = [
        LTCFrame(
            1, m, s, f, user_bits=0x1234ABCD * (f % 2), start=1920.0 * i, end=1920.0 * i + 1919.6
        )
        for i, (m, s, f) in enumerate(
            (m, s, f) for m in range(3) for s in range(60) for f in range(25)
        )
    ]
    assert frame_text(frame_columns(found)) == printf_lines(found)
    found[5] = found[5]._replace(reverse=True)
    assert frame_text(frame_columns(found)) == printf_lines(found)
    assert frame_text(frame_columns(found)).splitlines()[5].endswith(" R")


def test_bulk_run_pauses_the_collector_and_puts_everything_back(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert "numpy" in sys.modules  # numpy is loaded: its thread count is not touched
    assert gc.isenabled()
    with bulk_run():
        assert not gc.isenabled()
        assert "OPENBLAS_NUM_THREADS" not in os.environ
    assert gc.isenabled()
    assert keep_heap() is (platform.libc_ver()[0] == "glibc")  # other C libraries: no-op
    np.zeros(1 << 20).sum()  # and numpy still allocates as before
