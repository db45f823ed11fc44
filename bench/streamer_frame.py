"""Streamer frame time at 1920x1080 on SDL's dummy driver (the display process's render step).

Renders frames the way the display loop does: one renderer and one display surface, the
timecode advancing one refresh (1/60 s) per frame through a cue's streamer, punch and line,
with the text layers cached after the first frame. Reports the time of `render()` per frame
(mean, median, 99th percentile, worst), for each style, with and without the incremental
redraw (a screen whose surface does not persist gets `full=True` every frame).

    .venv/bin/python bench/streamer_frame.py [--frames N] [--size WxH]

Target (DESIGN.md): under 3 ms per frame at 1920x1080 on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from stagebox.display.renderer import import_pygame
from stagebox.display.style import StreamerStyle

# The render loop is shared with `stagebox doctor --bench` (the Pi's own numbers).
from stagebox.doctor.bench import render_times as run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    pg = import_pygame()
    pg.display.init()
    surface = pg.display.set_mode((width, height))
    print(f"{platform.machine()} {platform.python_version()} pygame-ce {pg.version.ver} "
          f"SDL {'.'.join(map(str, pg.get_sdl_version()))}, {width}x{height}, "
          f"{args.frames} frames")  # fmt: skip
    print(f"{'style':34} {'mean':>7} {'median':>7} {'p99':>7} {'worst':>7}  (ms per frame)")
    cases = [
        ("streamer, left wipe", StreamerStyle(), False),
        ("streamer, both edges, flutter", StreamerStyle(wipe="both", flutter=True), False),
        ("rhythm band", StreamerStyle(style="rhythm"), False),
        ("streamer, left wipe, full redraw", StreamerStyle(), True),
        ("rhythm band, full redraw", StreamerStyle(style="rhythm"), True),
    ]
    for name, style, full in cases:
        times = sorted(run(style, surface, args.frames, full))
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        print(
            f"{name:34} {statistics.mean(times):7.3f} {statistics.median(times):7.3f} "
            f"{p99:7.3f} {times[-1]:7.3f}"
        )
    pg.display.quit()


if __name__ == "__main__":
    main()
