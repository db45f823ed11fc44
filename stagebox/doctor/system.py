"""The computer: which Pi, a 64-bit OS, the kernel, and a GPIO library that works on it."""

from __future__ import annotations

import re

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, WARN, Result

SUPPORTED = (
    "Raspberry Pi 5",
    "Raspberry Pi 4",
    "Raspberry Pi 400",
    "Raspberry Pi Compute Module 4",
)


def check_model(ctx: Context) -> Result:
    # /proc/device-tree/model: a NUL-terminated string ("Raspberry Pi 4 Model B Rev 1.5").
    model = ctx.machine.read("/proc/device-tree/model")
    if model is None:
        return Result(
            "model",
            FAIL,
            "no /proc/device-tree/model: not a Raspberry Pi, or /proc is hidden",
            "run doctor on the stage's Pi itself (not in a container); the unit must not set "
            "ProcSubset=pid",
        )
    model = model.strip()
    if model.startswith(SUPPORTED):
        return Result("model", PASS, model, data={"model": model})
    if model.startswith("Raspberry Pi"):
        return Result(
            "model",
            WARN,
            f"{model}: not a Pi 4 or Pi 5, the models stagebox is measured on",
            "expect less CPU headroom: run `stagebox doctor --bench` and compare with "
            "docs/benchmarks.md",
            {"model": model},
        )
    return Result("model", FAIL, f"{model}: not a Raspberry Pi", "", {"model": model})


def check_os(ctx: Context) -> Result:
    machine, bits = ctx.machine.arch
    release = ctx.machine.read("/etc/os-release") or ""
    codename = re.search(r"^VERSION_CODENAME=(\S+)", release, re.M)
    codename = codename[1].strip('"') if codename else "unknown"
    data = {"machine": machine, "bits": bits, "codename": codename}
    if machine != "aarch64" or bits != 64:
        return Result(
            "64-bit OS",
            FAIL,
            f"{machine}, {bits}-bit userland: stagebox needs 64-bit Raspberry Pi OS",
            "flash Raspberry Pi OS Lite (64-bit) and run install.sh again (pygame-ce has no "
            "32-bit ARM wheel)",
            data,
        )
    if codename != "bookworm":
        return Result(
            "64-bit OS",
            WARN,
            f"aarch64, 64-bit, Debian {codename}: stagebox is built for bookworm",
            "use Raspberry Pi OS Lite (64-bit) bookworm",
            data,
        )
    return Result("64-bit OS", PASS, "aarch64, 64-bit userland, bookworm", data=data)


def kernel_version(release: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", release)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def check_kernel(ctx: Context) -> Result:
    release = (ctx.machine.read("/proc/sys/kernel/osrelease") or "").strip()
    if not release:
        return Result("kernel", FAIL, "cannot read /proc/sys/kernel/osrelease", "")
    version = kernel_version(release)
    data = {"release": release}
    if version < (6, 1):
        return Result(
            "kernel",
            WARN,
            f"{release}: older than bookworm's 6.1",
            "sudo apt full-upgrade",
            data,
        )
    return Result("kernel", PASS, release, data=data)


def check_gpio_library(ctx: Context) -> Result:
    """rpi-lgpio, not the classic RPi.GPIO (no edge detection on kernel 6.6+, no Pi 5)."""
    if ctx.cfg.lights.backend != "rpigpio":
        return Result("gpio library", PASS, f"lights.backend = {ctx.cfg.lights.backend!r}")
    lgpio = ctx.installed("rpi-lgpio")
    classic = ctx.installed("RPi.GPIO")
    release = (ctx.machine.read("/proc/sys/kernel/osrelease") or "").strip()
    if classic:
        why = (
            "it cannot set up edge detection on kernel 6.6+ (raspberrypi/linux#6037): the "
            "buttons fail"
            if kernel_version(release) >= (6, 6)
            else "it stops working at kernel 6.6 and cannot drive a Pi 5"
        )
        return Result(
            "gpio library",
            FAIL,
            f"the classic RPi.GPIO {classic} is installed: {why}",
            "/opt/stagebox/venv/bin/pip uninstall -y RPi.GPIO && "
            "/opt/stagebox/venv/bin/pip install rpi-lgpio (or run install.sh again)",
            {"RPi.GPIO": classic, "rpi-lgpio": lgpio},
        )
    if not lgpio:
        return Result(
            "gpio library",
            FAIL,
            "rpi-lgpio is not installed: the lamps and buttons cannot run",
            "run install.sh again (it installs stagebox[pi])",
        )
    return Result("gpio library", PASS, f"rpi-lgpio {lgpio}", data={"rpi-lgpio": lgpio})
