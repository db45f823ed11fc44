"""The display's configuration (`[display]` in stagebox.toml), as plain picklable data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from stagebox.display.screen import BACKENDS
from stagebox.display.style import StreamerStyle, StyleError


class DisplayConfigError(ValueError):
    """A bad `[display]` value; the message names the key and the reason."""


@dataclass(frozen=True)
class DisplayConfig:
    backend: str = "kmsdrm"  # one of screen.BACKENDS: kmsdrm, window, dummy, png
    size: tuple[int, int] | None = None  # pixels rendered; None: the monitor's own (kmsdrm)
    style: StreamerStyle = field(default_factory=StreamerStyle)
    latency_ms: float = 0.0  # ms: display latency trim, added to the predicted vsync
    refresh_hz: float = 60.0  # Hz: assumed until the screen reports its own
    retry_seconds: float = 3.0  # s: between attempts to open a missing screen
    max_extrapolation: float = 1.0  # s: past the last snapshot before the streamer freezes
    status_interval: float = 1.0  # s: between status reports to the engine
    png_path: str | None = None  # png backend: the file the latest frame is written to
    png_interval: float = 1.0  # s: between PNG writes
    sysfs_drm: str = "/sys/class/drm"  # kmsdrm: where connector states are read
    sim_fail_opens: int = 0  # dummy backend: the first N set_mode calls fail (no monitor)
    sim_lose_after_frames: int | None = None  # dummy backend: the display is lost once

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise DisplayConfigError(problem)

    def problem(self) -> str:
        if self.backend not in BACKENDS:
            return f"backend: {self.backend!r} is not one of {', '.join(BACKENDS)}"
        if self.size is not None:
            ok = (
                isinstance(self.size, tuple)
                and len(self.size) == 2
                and all(isinstance(v, int) and 64 <= v <= 8192 for v in self.size)
            )
            if not ok:
                return f"size: {self.size!r} is not [width, height] in pixels of 64..8192"
        ranges = {
            "latency_ms": (-500.0, 500.0),
            "refresh_hz": (10.0, 500.0),
            "retry_seconds": (0.01, 600.0),
            "max_extrapolation": (0.0, 10.0),
            "status_interval": (0.05, 60.0),
            "png_interval": (0.0, 3600.0),
        }
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{name}: {value!r} is not a number"
            if not math.isfinite(value) or not low <= value <= high:
                return f"{name}: {value} is outside {low}..{high}"
        if self.backend == "png" and not self.png_path:
            return "png_path: the png backend needs a file to write"
        if not isinstance(self.sim_fail_opens, int) or self.sim_fail_opens < 0:
            return f"sim_fail_opens: {self.sim_fail_opens!r} is not a count"
        lose = self.sim_lose_after_frames
        if lose is not None and (not isinstance(lose, int) or lose < 1):
            return f"sim_lose_after_frames: {lose!r} is not a positive count"
        return ""

    @classmethod
    def from_config(cls, section: Any, style: StreamerStyle | None = None) -> DisplayConfig:
        """The display's configuration from the `[display]` section of stagebox.toml.

        `section` is the config loader's display section (attributes backend, size, style,
        streamer_seconds, wipe, punch_frames, flutter, show_timecode, show_original,
        latency_trim_ms; all already validated there). `style` supplies the look the section does
        not cover (colours, fonts).
        """
        base = style or StreamerStyle()
        look = replace(
            base,
            style=section.style,
            length_seconds=float(section.streamer_seconds),
            wipe=section.wipe,
            punch_frames=int(section.punch_frames),
            flutter=bool(section.flutter),
            show_engineer_info=bool(section.show_timecode),
            show_original=bool(section.show_original),
            show_sync=bool(getattr(section, "show_sync", False)),
        )
        size = tuple(section.size) if section.size else None
        return cls(
            backend=section.backend,
            size=size,
            style=look,
            latency_ms=float(section.latency_trim_ms),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "display") -> DisplayConfig:
        """Build from the `[display]` table; errors name `where.key`."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise DisplayConfigError(
                    f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})"
                )
            if key == "style":
                if not isinstance(value, dict):
                    raise DisplayConfigError(f"{where}.style: expected a table")
                try:
                    value = StreamerStyle.from_dict(value, f"{where}.style")
                except StyleError as exc:
                    raise DisplayConfigError(str(exc)) from None
            elif key == "size" and isinstance(value, list):
                value = tuple(value)
            values[key] = value
        try:
            return cls(**values)
        except DisplayConfigError as exc:
            raise DisplayConfigError(f"{where}.{exc}") from None
