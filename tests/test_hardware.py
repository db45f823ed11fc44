"""Real-hardware tests: the RPi.GPIO backend on the Pi's pins and the OLED on real I2C.

Run on the stage's Pi with the lamps and front panel wired (`pytest -m hardware`). Everywhere
else they are skipped with the reason. They switch the real lamps briefly.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stagebox.gpio.pinmap import load_pinmap


def _pi_model() -> str:
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\x00")
    except OSError:
        return ""


ON_PI = "Raspberry Pi" in _pi_model()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(
        not ON_PI, reason="needs a Raspberry Pi with the stage's lamps and OLED wired"
    ),
]


def test_rpigpio_lamps_follow_their_active_level():
    from stagebox.gpio.backend import open_backend
    from stagebox.gpio.lamps import Lamps

    pinmap = load_pinmap()
    backend = open_backend("rpigpio")
    try:
        lamps = Lamps(backend, pinmap)
        for name, pin in pinmap.lamps.items():
            assert backend.read(pin) == pin.level_for(False)
            lamps.set(name, True)
            time.sleep(0.2)
            assert backend.read(pin) == pin.level_for(True)
            lamps.set(name, False)
            assert backend.read(pin) == pin.level_for(False)
    finally:
        backend.close()


def test_rpigpio_buttons_rest_released():
    from stagebox.gpio.backend import open_backend
    from stagebox.gpio.buttons import Buttons

    pinmap = load_pinmap()
    backend = open_backend("rpigpio")
    try:
        Buttons(backend, pinmap, print)
        for pin in pinmap.buttons.values():
            assert not pin.is_on(backend.read(pin)), f"{pin.name} reads pressed at rest"
    finally:
        backend.close()


def test_oled_on_real_i2c():
    from stagebox.panel.framebuffer import Framebuffer
    from stagebox.panel.ssd1306 import SSD1306

    device = SSD1306()
    device.open()
    fb = Framebuffer()
    fb.draw_text(0, 0, "STAGEBOX HW TEST", scale=1)
    assert device.show(fb) == 8 * 128  # the first frame is sent whole
    assert device.show(fb) == 0  # nothing changed
    device.close()
