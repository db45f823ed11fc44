"""`stagebox lights test` and `stagebox lights off`, through the simulated backend."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stagebox.cli import main
from stagebox.cli.lights import lights_test
from stagebox.gpio import sim
from stagebox.gpio.lamps import Lamps
from stagebox.gpio.pinmap import load_pinmap


def test_lights_test_cycles_each_lamp_then_all_then_none():
    backend = sim.Backend()
    pinmap = load_pinmap()
    lamps = Lamps(backend, pinmap)
    slept: list[float] = []
    out = io.StringIO()
    lights_test(lamps, pinmap, 1.0, out, sleep=slept.append)
    names = list(pinmap.lamps)
    # Each lamp lit alone for a second, in pin-map order, then all together, then all dark.
    assert slept == [1.0] * (len(names) + 1)
    for name in names:
        backend.assert_states(name, [False, True, False, True, False])
    text = out.getvalue()
    positions = [text.index(f"on:  {name}") for name in names]
    assert positions == sorted(positions)
    assert "GPIO 17, header pin 11" in text
    assert text.rstrip().endswith("all off")


def test_lights_test_darkens_lamps_when_interrupted():
    backend = sim.Backend()
    pinmap = load_pinmap()
    lamps = Lamps(backend, pinmap)

    def interrupted(seconds):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lights_test(lamps, pinmap, 1.0, io.StringIO(), sleep=interrupted)
    assert not any(backend.lit(n) for n in pinmap.lamps)


def test_cli_lights_test_and_off_with_sim(capsys):
    assert main(["lights", "test", "--backend", "sim", "--seconds", "0"]) == 0
    out = capsys.readouterr().out
    for name in load_pinmap().lamps:
        assert f"on:  {name}" in out
    assert main(["lights", "off", "--backend", "sim"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines()] == list(load_pinmap().lamps)


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "pins.toml"
    bad.write_text('[[pin]]\nname = "cue_light"\n')
    assert main(["lights", "off", "--backend", "sim", "--pinmap", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stagebox: {bad}:1: pin 'cue_light': missing field")
    assert main(["lights", "off"]) == 2  # rpigpio off a Pi: a clear error, not the simulator
    assert "rpigpio" in capsys.readouterr().err


def test_lights_off_uses_the_configured_pin_map(tmp_path, capsys):
    # A stage wired differently: its config names its own pin map, and ExecStopPost's
    # `stagebox lights off` must darken those pins, not the shipped ones.
    shipped = Path(load_pinmap().path).read_text()
    custom = tmp_path / "pins.toml"
    custom.write_text(shipped.replace("bcm = 17\nheader = 11", "bcm = 23\nheader = 16"))
    config = tmp_path / "stagebox.toml"
    config.write_text(f'[lights]\npinmap = "{custom}"\n')
    assert main(["lights", "off", "--backend", "sim", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "cue_light (Cue light (booth); GPIO 23, header pin 16" in out


def test_lights_off_follows_the_hat_of_the_config(tmp_path, capsys):
    # A Pisound stage: its lamps are on GPIO 22 and 27 (its overlay holds 17)
    config = tmp_path / "stagebox.toml"
    config.write_text(
        '[audio]\nhat = "pisound"\ncapture_device = "hw:CARD=pisound,DEV=0"\n'
        'playback_device = "hw:CARD=pisound,DEV=0"\n'
    )
    assert main(["lights", "off", "--backend", "sim", "--config", str(config)]) == 0
    assert "cue_light (Cue light (booth); GPIO 22, header pin 15" in capsys.readouterr().out
    # the same stage with a bad value elsewhere: still the Pisound's pins, with a warning
    config.write_text(config.read_text() + "[beeps]\ncount = 40\n")
    assert main(["lights", "off", "--backend", "sim", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert "GPIO 22, header pin 15" in out.out
    assert "using the pin map shipped for pisound" in out.err
