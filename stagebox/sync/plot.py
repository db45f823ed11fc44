"""A picture of the alignment for the editor: the guide above, the take below, and where
each moment of the guide landed in the take.

Drawn with pygame (already the streamer screen's library) onto an off-screen surface and
saved as a PNG; no display is opened. Layout (top to bottom): a title line with the verdict;
the guide's waveform; the alignment path as lines from each guide moment to its match in the
take (green within a frame, amber within two, red beyond), every 40 ms of speech; the take's
waveform; then the deviation over time (ms, + = late) with the +-1 frame band shaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stagebox.sync.score import SyncReport

SIZE = (1400, 720)  # px
BACKGROUND = (18, 18, 22)
WAVE = (150, 170, 200)
GRID = (60, 60, 70)
TEXT = (230, 230, 230)
GOOD = (60, 200, 90)
NEAR = (230, 170, 40)
BAD = (230, 60, 50)
BAND = (40, 70, 45)
LINK_EVERY_S = 0.04  # s of guide between two drawn path lines


def write_plot(
    out: str | os.PathLike,
    take: np.ndarray,
    guide: np.ndarray,
    sample_rate: int,
    report: SyncReport,
    title: str = "",
) -> None:
    """Save the alignment picture of `report` (from these two signals) as a PNG at `out`."""
    from stagebox.display.renderer import import_pygame
    from stagebox.display.style import DEFAULT_FONT

    pg = import_pygame()
    pg.font.init()
    w, h = SIZE
    surface = pg.Surface(SIZE)
    surface.fill(BACKGROUND)
    face = DEFAULT_FONT if os.path.isfile(DEFAULT_FONT) else None  # None: pygame's own
    font = pg.font.Font(face, 18)
    small = pg.font.Font(face, 14)
    left, right = 90, w - 20
    span_s = max(len(guide), len(take)) / sample_rate

    def x_of(t_s):
        return left + (np.asarray(t_s) / max(span_s, 1e-9)) * (right - left)

    heading = title + ("  -  " if title else "") + report.message
    surface.blit(font.render(heading, True, TEXT), (left, 10))

    guide_box = (left, 45, right - left, 150)
    take_box = (left, 345, right - left, 150)
    dev_box = (left, 540, right - left, 150)
    _wave(pg, surface, guide, guide_box)
    _wave(pg, surface, take, take_box)
    surface.blit(small.render("guide", True, TEXT), (10, guide_box[1] + 65))
    surface.blit(small.render("take", True, TEXT), (10, take_box[1] + 65))

    if report.judged and report.path_guide_s is not None:
        frame_s = report.frame_ms / 1000.0
        dev = report.deviation_s
        hop = report.hop_s
        last = -1.0
        for g_s, t_s in zip(report.path_guide_s, report.path_take_s, strict=True):
            if g_s - last < LINK_EVERY_S:
                continue
            k = min(int(round(g_s / hop)), len(dev) - 1)
            off = abs(dev[k])
            colour = GOOD if off <= frame_s else NEAR if off <= 2 * frame_s else BAD
            pg.draw.line(
                surface,
                colour,
                (int(x_of(g_s)), guide_box[1] + guide_box[3]),
                (int(x_of(t_s)), take_box[1]),
            )
            last = g_s
        _deviation(pg, surface, small, report, dev_box, x_of)
        named = ""
        for point in report.points:
            x = int(x_of(point.at_s))
            pg.draw.line(surface, GRID, (x, guide_box[1]), (x, guide_box[1] + guide_box[3]))
            if point.word and point.word != named:  # a word's later syllables stay unnamed
                surface.blit(small.render(point.word, True, TEXT), (x + 2, guide_box[1]))
                named = point.word
    _time_axis(pg, surface, small, span_s, x_of, dev_box[1] + dev_box[3] + 4)
    try:
        pg.image.save(surface, str(Path(out)))
    except (OSError, pg.error) as exc:
        raise OSError(f"{out}: cannot write the plot: {exc}") from None


def _wave(pg, surface, samples: np.ndarray, box) -> None:
    """Min/max envelope of `samples`, one column per pixel, scaled to the box."""
    x0, y0, bw, bh = box
    pg.draw.rect(surface, GRID, box, 1)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if len(x) == 0:
        return
    cols = np.array_split(x, bw)
    peak = max(float(np.max(np.abs(x))), 1e-6)
    mid = y0 + bh // 2
    for i, c in enumerate(cols):
        if len(c) == 0:
            continue
        top = mid - int(float(c.max()) / peak * (bh // 2 - 2))
        bottom = mid - int(float(c.min()) / peak * (bh // 2 - 2))
        pg.draw.line(surface, WAVE, (x0 + i, top), (x0 + i, bottom))


def _deviation(pg, surface, font, report: SyncReport, box, x_of) -> None:
    """The deviation curve (ms) over the guide's time, the +-1 frame band shaded."""
    x0, y0, bw, bh = box
    frame_ms = report.frame_ms
    dev_ms = 1000.0 * report.deviation_s
    reach = max(3 * frame_ms, float(np.max(np.abs(dev_ms))) if len(dev_ms) else 0.0)
    mid = y0 + bh // 2

    def y_of(ms):
        return int(mid - np.clip(ms, -reach, reach) / reach * (bh // 2 - 2))

    band_top, band_bottom = y_of(frame_ms), y_of(-frame_ms)
    pg.draw.rect(surface, BAND, (x0, band_top, bw, band_bottom - band_top))
    pg.draw.rect(surface, GRID, box, 1)
    pg.draw.line(surface, GRID, (x0, mid), (x0 + bw, mid))
    surface.blit(font.render(f"+{reach:.0f} ms", True, TEXT), (10, y0))
    surface.blit(font.render(f"-{reach:.0f} ms", True, TEXT), (10, y0 + bh - 16))
    surface.blit(font.render("late", True, TEXT), (10, mid - 30))
    times = np.arange(len(dev_ms)) * report.hop_s
    pts = [(int(x_of(t)), y_of(d)) for t, d in zip(times, dev_ms, strict=True)]
    if len(pts) > 1:
        pg.draw.lines(surface, WAVE, False, pts)
    for point in report.points:
        off = abs(point.deviation_ms)
        colour = GOOD if off <= frame_ms else NEAR if off <= 2 * frame_ms else BAD
        pg.draw.circle(surface, colour, (int(x_of(point.at_s)), y_of(point.deviation_ms)), 4)


def _time_axis(pg, surface, font, span_s: float, x_of, y: int) -> None:
    step = 0.5 if span_s <= 8 else 1.0 if span_s <= 20 else 5.0
    t = 0.0
    while t <= span_s + 1e-9:
        x = int(x_of(t))
        pg.draw.line(surface, GRID, (x, y - 4), (x, y))
        surface.blit(font.render(f"{t:g}s", True, TEXT), (x - 8, y + 1))
        t += step
