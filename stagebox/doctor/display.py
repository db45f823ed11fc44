"""The actor's screen: a connected HDMI monitor, its mode, and the measured flip interval."""

from __future__ import annotations

import statistics
import time

from stagebox.display.kmsdrm import connector_states
from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, SKIP, WARN, Result

FLIP_FRAMES = 120  # page flips measured (2 s at 60 Hz)


def measure_flips(cfg, frames: int = FLIP_FRAMES) -> list[float]:
    """Seconds between `frames` page flips on the real screen (KMS/DRM, vsync)."""
    from stagebox.display.config import DisplayConfig
    from stagebox.display.screen import make_screen

    screen = make_screen(DisplayConfig.from_config(cfg.display))
    surface = screen.open()
    try:
        stamps = []
        for i in range(frames + 1):
            surface.fill((i % 2 * 40, 0, 0))
            screen.present()  # returns at the flip
            stamps.append(time.monotonic())
    finally:
        screen.close()
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


def check_display(ctx: Context) -> Result:
    d = ctx.cfg.display
    if not d.enabled or d.backend != "kmsdrm":
        return Result("display", SKIP, f"display.backend = {d.backend!r}, enabled = {d.enabled}")
    states = connector_states(ctx.machine.path("/sys/class/drm"))
    if not states:
        return Result(
            "display",
            FAIL,
            "no DRM connectors in /sys/class/drm: the KMS driver is not loaded",
            "keep dtoverlay=vc4-kms-v3d,noaudio in config.txt (not vc4-fkms-v3d) and reboot",
        )
    connected = [name for name, state in states.items() if state == "connected"]
    if not connected:
        listed = ", ".join(f"{n}: {s}" for n, s in states.items())
        return Result(
            "display",
            FAIL,
            f"no monitor connected ({listed})",
            "connect the actor's monitor to HDMI 0 (next to the power socket) and switch it "
            "on; video=HDMI-A-1:1920x1080@60D in cmdline.txt forces the output on",
        )
    connector = connected[0]
    modes = (ctx.machine.read(f"/sys/class/drm/{connector}/modes") or "").split()
    mode = modes[0] if modes else "unknown"
    if ctx.service is not None:
        return Result(
            "display",
            PASS,
            f"{connector} {mode} (the running service shows the streamers; stop it to measure "
            "the flip interval)",
            data={"connector": connector, "mode": mode, "through_service": True},
        )
    try:
        intervals = ctx.measure_flips(ctx.cfg, FLIP_FRAMES)
    except Exception as exc:  # the SDL/KMS error is the finding
        return Result(
            "display",
            FAIL,
            f"{connector} {mode}: cannot open the screen: {exc}",
            "stop the service (it owns the screen) and check the video and render groups",
        )
    median = statistics.median(intervals) * 1000  # ms
    slow = sum(i * 1000 > 1.5 * median for i in intervals)
    data = {"connector": connector, "mode": mode, "flip_ms": round(median, 3), "missed": slow}
    detail = f"{connector} {mode}, page flip every {median:.2f} ms ({1000 / median:.2f} Hz)"
    if median < 5 or median > 45:
        return Result(
            "display",
            FAIL,
            f"{detail}: no vsync (a flip should take one refresh, 16.7 ms at 60 Hz)",
            "use display.backend = kmsdrm on the HDMI console, no desktop running",
            data,
        )
    if slow > len(intervals) // 20:
        return Result(
            "display",
            WARN,
            f"{detail}, {slow} of {len(intervals)} flips late",
            "the CPU is busy or the GPU clock low: run doctor --bench",
            data,
        )
    return Result("display", PASS, detail, data=data)
