"""Sync scoring: how closely a take follows its guide line in time.

`score_take(take, guide, sample_rate, rate)` returns a `SyncReport` (overall offset, the
alignment path's worst local deviation and where, the sync score, a plain verdict, or
"cannot judge"). `guide.py` finds and cuts the guide; `plot.py` draws the alignment.
"""

from stagebox.sync.score import (
    CANNOT_JUDGE,
    CHECK,
    IN_SYNC,
    OUT_OF_SYNC,
    SyncPoint,
    SyncReport,
    cannot_judge,
    score_take,
)

__all__ = [
    "CANNOT_JUDGE",
    "CHECK",
    "IN_SYNC",
    "OUT_OF_SYNC",
    "SyncPoint",
    "SyncReport",
    "cannot_judge",
    "score_take",
]
