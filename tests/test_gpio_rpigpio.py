"""The real RPi.GPIO backend's code, run against a stand-in `RPi.GPIO` module.

The stand-in implements the part of the RPi.GPIO API the backend uses and records every call,
so the backend's set-up (initial levels, pulls, edge detection, cleanup of inputs only) and its
error messages are checked here; `tests/test_hardware.py` runs the same code on a Pi.
"""

from __future__ import annotations

import sys
import types

import pytest
from gpio_helpers import pinmap_with

from stagebox.gpio.backend import BackendUnavailable, open_backend
from stagebox.gpio.buttons import Buttons
from stagebox.gpio.lamps import Lamps
from stagebox.gpio.pinmap import load_pinmap


def fake_rpi_gpio() -> types.ModuleType:
    gpio = types.ModuleType("RPi.GPIO")
    gpio.BCM, gpio.BOARD = 11, 10
    gpio.OUT, gpio.IN = 0, 1
    gpio.HIGH, gpio.LOW = 1, 0
    gpio.PUD_OFF, gpio.PUD_DOWN, gpio.PUD_UP = 20, 21, 22
    gpio.BOTH = 33
    gpio.calls = []
    gpio.levels = {}
    gpio.callbacks = {}

    def setup(channel, direction, pull_up_down=20, initial=-1):
        gpio.calls.append(("setup", channel, direction, pull_up_down, initial))
        if direction == gpio.OUT:
            gpio.levels[channel] = initial if initial != -1 else 0
        else:
            gpio.levels[channel] = 1 if pull_up_down == gpio.PUD_UP else 0

    def output(channel, value):
        gpio.calls.append(("output", channel, value))
        gpio.levels[channel] = value

    def add_event_detect(channel, edge, callback=None, bouncetime=None):
        gpio.calls.append(("add_event_detect", channel, edge, bouncetime))
        gpio.callbacks[channel] = callback

    gpio.setwarnings = lambda flag: gpio.calls.append(("setwarnings", flag))
    gpio.setmode = lambda mode: gpio.calls.append(("setmode", mode))
    gpio.setup = setup
    gpio.output = output
    gpio.input = lambda channel: gpio.levels[channel]
    gpio.add_event_detect = add_event_detect
    gpio.remove_event_detect = lambda channel: gpio.calls.append(("remove", channel))
    gpio.cleanup = lambda channels=None: gpio.calls.append(("cleanup", tuple(channels or ())))
    return gpio


@pytest.fixture
def gpio(monkeypatch):
    module = fake_rpi_gpio()
    package = types.ModuleType("RPi")
    package.GPIO = module
    monkeypatch.setitem(sys.modules, "RPi", package)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", module)
    return module


def test_lamps_claimed_dark_with_bcm_numbering(gpio):
    pinmap = pinmap_with("record_light", "active", '"low"')
    backend = open_backend("rpigpio")
    lamps = Lamps(backend, pinmap)
    assert ("setmode", gpio.BCM) in gpio.calls
    setups = {c[1]: c for c in gpio.calls if c[0] == "setup"}
    assert setups[17] == ("setup", 17, gpio.OUT, gpio.PUD_OFF, gpio.LOW)  # active high: low
    assert setups[27] == ("setup", 27, gpio.OUT, gpio.PUD_OFF, gpio.HIGH)  # active low: high
    lamps.set("record_light", True)
    lamps.set("cue_light", True)
    assert gpio.levels[27] == gpio.LOW and gpio.levels[17] == gpio.HIGH
    backend.close()
    assert not [c for c in gpio.calls if c[0] == "cleanup"]  # outputs keep driving


def test_button_edges_reach_the_debouncer_and_cleanup_releases_inputs(gpio):
    sent = []
    backend = open_backend("rpigpio")
    buttons = Buttons(backend, load_pinmap(), sent.append, debounce_ms=20)
    setup = next(c for c in gpio.calls if c[0] == "setup" and c[1] == 26)  # circle
    assert setup[2:4] == (gpio.IN, gpio.PUD_UP)
    assert ("add_event_detect", 26, gpio.BOTH, None) in gpio.calls  # no library debounce
    # A spike: pressed and released within microseconds (the callback stamps real time).
    gpio.levels[6] = gpio.LOW  # SAFE is active low
    gpio.callbacks[6](6)
    gpio.levels[6] = gpio.HIGH
    gpio.callbacks[6](6)
    (edge_time, name, pressed) = buttons._edges[-1]
    assert (name, pressed) == ("safe", False)  # the level was read in the callback
    buttons.service(edge_time + 1.0)
    assert sent == []
    gpio.levels[6] = gpio.LOW
    gpio.callbacks[6](6)
    press_time = buttons._edges[-1][0]
    buttons.service(press_time + 0.05)
    assert sent == ["mode safe"]
    backend.close()
    cleanup = [c for c in gpio.calls if c[0] == "cleanup"]
    assert cleanup == [("cleanup", (5, 6, 13, 12, 16, 26, 24))]  # talkback (24) too


def test_off_a_pi_the_backend_says_why(monkeypatch, tmp_path):
    package = tmp_path / "RPi"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "GPIO.py").write_text(
        "raise RuntimeError('This module can only be run on a Raspberry Pi!')\n"
    )
    monkeypatch.delitem(sys.modules, "RPi", raising=False)
    monkeypatch.delitem(sys.modules, "RPi.GPIO", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(BackendUnavailable, match="cannot run here: This module can only be run"):
        open_backend("rpigpio")


# -- kernel 6.6+: classic RPi.GPIO cannot add edge detection ----------------------------------


def test_a_button_that_cannot_be_watched_leaves_the_stage_running_without_buttons(gpio, caplog):
    from stagebox.gpio.buttons import start_buttons

    # What classic RPi.GPIO raises on kernel 6.6+ (raspberrypi/linux#6037, gpiozero#1136).
    def refuse(channel, edge, callback=None, bouncetime=None):
        if channel == 13:
            raise RuntimeError("Failed to add edge detection")
        gpio.calls.append(("add_event_detect", channel, edge, bouncetime))

    gpio.add_event_detect = refuse
    pinmap = load_pinmap()
    backend = open_backend("rpigpio")
    lamps = Lamps(backend, pinmap)
    with caplog.at_level("ERROR", logger="stagebox.gpio"):
        assert start_buttons(backend, pinmap, print) is None
    assert caplog.messages == [
        "buttons (rpigpio): GPIO 13 (rehearse): cannot watch for presses: Failed to add edge "
        "detection; carrying on without buttons"
    ]
    # the buttons claimed before it are handed back, the failed one too; lamps still switch
    watched = [c[1] for c in gpio.calls if c[0] == "add_event_detect"]
    assert watched == [5, 6]
    assert [c[1] for c in gpio.calls if c[0] == "remove"] == [5, 6]
    assert {c[1] for c in gpio.calls if c[0] == "cleanup"} == {(13,), (5,), (6,)}
    lamps.set("record_light", True)
    assert gpio.levels[27] == gpio.HIGH
    backend.close()
    assert not any(c == ("cleanup", (5,)) for c in gpio.calls[-2:])
