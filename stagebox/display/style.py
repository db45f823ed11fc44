"""How the actor's screen looks: the streamer style, as plain validated data.

The style is picklable (it travels to the display process) and comes from the `[display.style]`
table of the config. Sizes are fractions of the screen so one style suits a 720p monitor and a
4K projector alike; the pixel values follow from the formulas in `stagebox.display.timing` and
`docs/display.md`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

Colour = tuple[int, int, int]

STYLES = ("streamer", "rhythm")
DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WIPES = ("left", "both")


class StyleError(ValueError):
    """A style value that cannot be used; the message names the key and the reason."""


@dataclass(frozen=True)
class StreamerStyle:
    """Everything about the look of the streamer screen. Defaults are a sensible stage."""

    style: str = "streamer"  # "streamer" (wiping bar) or "rhythm" (scrolling text band)
    length_seconds: float = 2.0  # seconds: streamer travel time, 1..5
    wipe: str = "left"  # "left": one bar left to right; "both": bars from both edges meet
    bar_width: float = 0.0125  # fraction of the screen width (24 px at 1920)
    punch_frames: int = 2  # frames: the punch shows from TC-in for this many frames, 1..12
    punch_radius: float = 0.085  # fraction of the screen height (it replaces the countdown)
    flutter: bool = False  # the streamer flickers (every other frame) in its last frames
    flutter_frames: int = 12  # frames before TC-in in which it flutters (about 0.5 s), 2..25
    show_engineer_info: bool = True  # timecode, lock state and mode in the footer
    show_original: bool = True  # dubbing: the original line, small, under the line to record
    show_sync: bool = False  # the last take's sync score on the take line (actors may not want)
    # Colours (R, G, B), 0..255.
    background: Colour = (12, 12, 16)
    text_colour: Colour = (240, 240, 236)
    character_colour: Colour = (255, 200, 70)
    dim_colour: Colour = (130, 132, 140)
    rehearse_colour: Colour = (60, 220, 100)  # streamer, punch and sync bar in rehearse
    record_colour: Colour = (240, 48, 40)  # ... in record
    safe_colour: Colour = (200, 200, 200)  # ... in safe (nothing will be recorded)
    rec_colour: Colour = (220, 20, 20)  # the REC indicator
    band_colour: Colour = (30, 30, 40)  # the rhythm band's background
    # Font: a TrueType file (DejaVu Sans Bold, Debian package fonts-dejavu-core, installed on
    # Raspberry Pi OS), or None for pygame's bundled freesansbold (cruder spacing).
    font_path: str | None = DEFAULT_FONT
    # Text heights as fractions of the screen height.
    dialogue_size: float = 0.085
    character_size: float = 0.06
    header_size: float = 0.055
    countdown_size: float = 0.075
    info_size: float = 0.038
    # Rhythm band.
    sync_position: float = 0.22  # fraction of the width where the fixed sync bar stands
    rhythm_speed: float = 0.4  # screen widths per second the text scrolls

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise StyleError(problem)

    def problem(self) -> str:
        """Why this style cannot be used, or "" when it can."""
        if self.style not in STYLES:
            return f"style: {self.style!r} is not one of {', '.join(STYLES)}"
        if self.wipe not in WIPES:
            return f"wipe: {self.wipe!r} is not one of {', '.join(WIPES)}"
        checks: list[tuple[str, float, float, float]] = [
            ("length_seconds", self.length_seconds, 1.0, 5.0),
            ("bar_width", self.bar_width, 0.001, 0.1),
            ("punch_frames", self.punch_frames, 1, 12),
            ("punch_radius", self.punch_radius, 0.02, 0.5),
            ("flutter_frames", self.flutter_frames, 2, 25),
            ("sync_position", self.sync_position, 0.05, 0.95),
            ("rhythm_speed", self.rhythm_speed, 0.05, 2.0),
        ]
        for name in ("dialogue_size", "character_size", "header_size", "countdown_size"):
            checks.append((name, getattr(self, name), 0.01, 0.3))
        checks.append(("info_size", self.info_size, 0.01, 0.3))
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{name}: {value!r} is not a number"
            if not math.isfinite(value) or not low <= value <= high:
                return f"{name}: {value} is outside {low}..{high}"
        for name in ("punch_frames", "flutter_frames"):
            if not isinstance(getattr(self, name), int):
                return f"{name}: {getattr(self, name)!r} is not a whole number of frames"
        for name in ("flutter", "show_engineer_info", "show_original", "show_sync"):
            if not isinstance(getattr(self, name), bool):
                return f"{name}: {getattr(self, name)!r} is not true or false"
        for f in fields(self):
            if f.name.endswith("colour") or f.name == "background":
                value = getattr(self, f.name)
                if (
                    not isinstance(value, tuple)
                    or len(value) != 3
                    or not all(isinstance(c, int) and 0 <= c <= 255 for c in value)
                ):
                    return f"{f.name}: {value!r} is not an (R, G, B) colour of 0..255"
        return ""

    def colour_for(self, mode: str) -> Colour:
        """The streamer, punch and sync bar colour in stage mode `mode`."""
        if mode == "record":
            return self.record_colour
        if mode in ("rehearse", "review"):  # review: the take plays against the streamers
            return self.rehearse_colour
        return self.safe_colour

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "display.style") -> StreamerStyle:
        """Build from a config table; unknown keys and bad values name `where.key`."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise StyleError(f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})")
            if (key.endswith("colour") or key == "background") and isinstance(value, list):
                value = tuple(value)
            values[key] = value
        try:
            return cls(**values)
        except StyleError as exc:
            raise StyleError(f"{where}.{exc}") from None
