"""Reference frames for the streamer renderer (tests/data/display/*.png).

The frames were generated once with `python tests/display_refs.py --write`, looked at, and
committed; tests/test_display_render.py renders the same scenes and compares with a tolerance
(font rasterisation may differ by a shade between FreeType builds). Regenerate only after a
deliberate change of the look, and look at the new files before committing them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from stagebox.cues.cue import Cue
from stagebox.display.style import StreamerStyle
from stagebox.snapshot import ClockFit, StageSnapshot
from stagebox.timecode import RATE_25, Timecode

REF_DIR = Path(__file__).resolve().parent / "data" / "display"
SIZE = (480, 270)


def _tc(text: str) -> Timecode:
    return Timecode.parse(text, RATE_25)


CUE = Cue(
    "103",
    _tc("01:00:31:00"),
    _tc("01:00:35:12"),
    character="John",
    dialogue="The car's outside. We said eight o'clock, and it's twenty past.",
    reel="1",
    scene="4",
)


def snapshot(cue=CUE, mode="rehearse", recording=False, take=1, rate=RATE_25) -> StageSnapshot:
    """A locked stage at sample 0, frame 0 of the clock (one frame is 1920 samples)."""
    return StageSnapshot(
        sample=0,
        sample_rate=48000,
        mode=mode,
        lock="locked",
        clock=ClockFit(0.0, 0, 1920.0, rate),
        cue=cue,
        take=take,
        recording=recording,
    )


# name -> (style, frames from TC-in, snapshot)
SCENES = {
    "streamer_rehearse": (StreamerStyle(), -20.0, snapshot(mode="rehearse", take=2)),
    "both_record_punch": (
        StreamerStyle(wipe="both"),
        0.0,
        snapshot(mode="record", recording=True, take=3),
    ),
    "rhythm_record": (
        StreamerStyle(style="rhythm"),
        12.0,
        snapshot(mode="record", recording=True, take=3),
    ),
}


def render_scene(name: str):
    """The scene's frame as a pygame surface."""
    from stagebox.display.renderer import StreamerRenderer, import_pygame

    pg = import_pygame()
    style, d, snapshot = SCENES[name]
    surface = pg.Surface(SIZE)
    StreamerRenderer(SIZE, style).render(surface, CUE.tc_in.frame_count + d, CUE, snapshot)
    return surface


def write_all() -> None:
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    REF_DIR.mkdir(parents=True, exist_ok=True)
    for name in SCENES:
        path = REF_DIR / f"{name}.png"
        pg.image.save(render_scene(name), str(path))
        print(path)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/display_refs.py --write")
    write_all()
