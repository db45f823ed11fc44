"""The sync scorer's alignment core against an outside oracle, and its refusals to guess.

The banded DTW must find exactly the path dtw-python finds with the same cost matrix, step
pattern (symmetric2) and Sakoe-Chiba window; with a step penalty (which dtw-python has no
pattern for) it must match the textbook O(n^2) recurrence written out here.
"""

from __future__ import annotations

import numpy as np
import pytest
from dtw import dtw as dtw_python

from stagebox.sync import CANNOT_JUDGE, score_take
from stagebox.sync.dtw import banded_cost, dtw_path
from stagebox.timecode import RATE_25

RATE = 48000


def unit_rows(rng, n, dims=6):
    x = rng.normal(size=(n, dims))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize(("n", "m", "band"), [(60, 60, 80), (70, 55, 90), (80, 80, 7), (40, 40, 1)])
def test_path_is_dtw_pythons(n, m, band):
    rng = np.random.default_rng(n * 1000 + m + band)
    g, t = unit_rows(rng, n), unit_rows(rng, m)
    cost, start = banded_cost(g, t, band)
    gi, tj, total = dtw_path(cost, start, m)
    full = np.maximum(1.0 - g @ t.T, 0.0)
    if band >= max(n, m):
        ref = dtw_python(full, step_pattern="symmetric2")
    else:
        ref = dtw_python(
            full,
            step_pattern="symmetric2",
            window_type="sakoechiba",
            window_args={"window_size": band},
        )
    assert total == pytest.approx(ref.distance, rel=1e-9)
    assert np.array_equal(gi, ref.index1)
    assert np.array_equal(tj, ref.index2)


def textbook_dtw(d: np.ndarray, p: float):
    """D(i,j) = min(D(i-1,j-1)+2d, D(i-1,j)+d+p, D(i,j-1)+d+p), cell by cell; path by argmin."""
    n, m = d.shape
    acc = np.full((n, m), np.inf)
    acc[0, 0] = d[0, 0]
    for i in range(n):
        for j in range(m):
            if i == j == 0:
                continue
            best = np.inf
            if i and j:
                best = min(best, acc[i - 1, j - 1] + 2 * d[i, j])
            if i:
                best = min(best, acc[i - 1, j] + d[i, j] + p)
            if j:
                best = min(best, acc[i, j - 1] + d[i, j] + p)
            acc[i, j] = best
    i, j, path = n - 1, m - 1, [(n - 1, m - 1)]
    while (i, j) != (0, 0):
        moves = []
        if i and j:
            moves.append((acc[i - 1, j - 1] + 2 * d[i, j], (i - 1, j - 1)))
        if i:
            moves.append((acc[i - 1, j] + d[i, j] + p, (i - 1, j)))
        if j:
            moves.append((acc[i, j - 1] + d[i, j] + p, (i, j - 1)))
        i, j = min(moves, key=lambda mv: mv[0])[1]
        path.append((i, j))
    return acc[n - 1, m - 1], path[::-1]


def test_step_penalty_is_the_textbook_recurrence():
    rng = np.random.default_rng(7)
    g, t = unit_rows(rng, 35), unit_rows(rng, 30)
    cost, start = banded_cost(g, t, 40)
    gi, tj, total = dtw_path(cost, start, 30, step_penalty=0.05)
    ref_total, ref_path = textbook_dtw(np.maximum(1.0 - g @ t.T, 0.0), 0.05)
    assert total == pytest.approx(ref_total, rel=1e-9)
    assert list(zip(gi.tolist(), tj.tolist(), strict=True)) == ref_path


def test_step_penalty_keeps_a_flat_stretch_on_the_diagonal():
    # A sustained vowel: every frame alike. Without a penalty the path may wander at no cost.
    same = np.tile([[1.0, 0.0]], (50, 1))
    cost, start = banded_cost(same, same, 20)
    gi, tj, _ = dtw_path(cost, start, 50, step_penalty=0.05)
    assert np.array_equal(gi, tj)


def test_band_follows_the_line_from_corner_to_corner():
    rng = np.random.default_rng(1)
    cost, start = banded_cost(unit_rows(rng, 10), unit_rows(rng, 30), 2)
    # The band follows the straight line from corner to corner, so it still reaches the end.
    gi, tj, _ = dtw_path(cost, start, 30)
    assert (gi[-1], tj[-1]) == (9, 29)


def speechlike_noise(seconds: float, seed: int) -> np.ndarray:
    """Noise bursts shaped like words (loud, quiet, loud): speech's rhythm, no pitch."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    env = np.zeros(n)
    t = 0.3
    while t < seconds - 0.5:
        a, b = int(t * RATE), int((t + 0.3) * RATE)
        env[a:b] = np.hanning(b - a)
        t += 0.5
    return 0.3 * env * rng.normal(size=n)


def test_cannot_judge_without_a_guide_or_speech():
    rng = np.random.default_rng(3)
    voice = np.sin(2 * np.pi * 150 * np.arange(3 * RATE) / RATE) * (
        (np.arange(3 * RATE) // (RATE // 4)) % 2
    )
    quiet = 1e-5 * rng.normal(size=3 * RATE)
    cases = [
        (voice, None, "no guide"),
        (voice, np.zeros(3 * RATE), "no speech in the guide"),
        (voice, quiet, "no speech in the guide"),
        (voice, 0.1 * rng.normal(size=3 * RATE), "no speech in the guide"),
        (voice, speechlike_noise(3.0, 4), "the guide is mostly noise"),
        (quiet, voice, "no speech in the take"),
        (voice[:1000], voice[:1000], "too short"),
    ]
    for take, guide, reason in cases:
        report = score_take(take, guide, RATE, RATE_25)
        assert report.verdict == CANNOT_JUDGE, reason
        assert reason in report.reason
        assert report.message.startswith("cannot judge: ")
        assert report.score is None and report.offset_ms is None
        assert report.to_dict()["verdict"] == "cannot judge"
