"""What every doctor check gets: the config, the machine, the options and the device seams.

Each seam is a callable with the real device behind it by default and a stand-in in tests:
the GPIO backend by name, the audio backend, the gpiochip line info, the I2C panel, the
display's flip measurement, the installed Python packages, and the engineer at the keyboard
(`ask`, `say`) for the interactive checks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

from stagebox.doctor.machine import Machine


def installed_version(distribution: str) -> str | None:
    """The installed version of a Python distribution, or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _open_gpio(name: str):
    from stagebox.gpio.backend import open_backend

    return open_backend(name)


def _open_audio(cfg, *, playback: bool = True):
    from stagebox.audio.alsa import AlsaBackend

    return AlsaBackend.from_config(cfg.audio, playback=playback)


def _open_panel(cfg):
    from stagebox.panel.ssd1306 import OLED

    p = cfg.panel
    return OLED(bus_number=p.i2c_bus, address=p.address, controller=p.controller)


def _open_midi(backend: str, port: str):
    from stagebox.daw.backend import open_output

    return open_output(backend, port)


def _line_info(machine: Machine) -> dict:
    """Line info of the header's gpiochip: {offset: LineInfo}; OSError when unreadable."""
    from stagebox.doctor.lineinfo import header_chip, read_lines

    chip = header_chip(str(machine.path("/dev")))
    if chip is None:
        raise FileNotFoundError("no /dev/gpiochip* carries the 40-pin header's GPIOs")
    return read_lines(chip)


def _measure_flips(cfg, frames: int):
    from stagebox.doctor.display import measure_flips

    return measure_flips(cfg, frames)


def _ask(prompt: str) -> str:
    return input(prompt)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Context:
    cfg: object  # stagebox.config.Config
    machine: Machine = field(default_factory=Machine)
    interactive: bool = False  # ask the engineer (lamps seen, buttons pressed)
    loopback: int | None = None  # 1-based capture channel a patch cable brings the output to
    write_trim: bool = False  # write the measured latency into the config file
    disk_test_mb: int = 256  # MB written for the takes disk's sustained speed
    button_seconds: float = 10.0  # seconds the crew has to press each button
    ltc_seconds: float = 2.0  # seconds of capture listened to for LTC
    unit_path: str = "/etc/systemd/system/stagebox.service"
    installed: Callable[[str], str | None] = installed_version
    open_gpio: Callable[[str], object] = _open_gpio
    open_audio: Callable[..., object] = _open_audio
    open_panel: Callable[[object], object] = _open_panel
    open_midi: Callable[[str, str], object] = _open_midi
    line_info: Callable[[Machine], dict] = _line_info
    measure_flips: Callable[[object, int], list[float]] = _measure_flips
    ask: Callable[[str], str] = _ask
    say: Callable[[str], None] = _say
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    fdatasync: Callable[[int], None] = os.fdatasync
    statvfs: Callable[[str], os.statvfs_result] = os.statvfs
    # The running service, when one answers on the control socket: `service(cmd, **args)`
    # returns its answer or raises stagebox.control.protocol.ControlError. It holds the sound
    # card, the GPIO lines and the screen, so the checks of those ask it instead.
    service: Callable[..., object] | None = None


def running_service(cfg) -> Callable[..., object] | None:
    """A caller for the service on `cfg`'s control socket, or None when nothing answers."""
    from stagebox.control.client import ControlClient
    from stagebox.control.protocol import ControlError

    path = str(cfg.control.socket)
    try:
        with ControlClient(path, timeout=2.0) as client:
            client.call("status")
    except (ControlError, OSError):
        return None

    def call(cmd: str, **args) -> object:
        with ControlClient(path, timeout=30.0) as client:
            return client.call(cmd, **args)

    return call
