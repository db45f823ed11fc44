"""The display backends off a Pi: chosen by name, KMSDRM's connector check, PNG writing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from stagebox.display.config import DisplayConfig
from stagebox.display.kmsdrm import KMSDRMScreen, connected_problem, connector_states
from stagebox.display.screen import BACKENDS, ScreenUnavailable, make_screen
from stagebox.display.style import StreamerStyle


def fake_drm(root, **connectors):
    """A /sys/class/drm tree: card1-HDMI-A-1/status etc."""
    (root / "card1").mkdir(parents=True)  # a card without a status file: not a connector
    (root / "version").write_text("drm 1.1.0\n")
    for name, state in connectors.items():
        (root / name.replace("_", "-")).mkdir()
        (root / name.replace("_", "-") / "status").write_text(state + "\n")
    return root


def test_backends_are_chosen_by_name_without_fallback():
    assert set(BACKENDS) == {"kmsdrm", "window", "dummy", "png"}
    assert make_screen(DisplayConfig(backend="dummy")).name == "dummy"
    config = DisplayConfig(backend="dummy")
    object.__setattr__(config, "backend", "hdmi")  # bypass validation: make_screen checks too
    with pytest.raises(ValueError, match="unknown backend 'hdmi'"):
        make_screen(config)


def test_connector_states_read_from_sysfs(tmp_path):
    root = fake_drm(tmp_path, card1_HDMI_A_1="disconnected", card1_HDMI_A_2="connected")
    assert connector_states(root) == {
        "card1-HDMI-A-1": "disconnected",
        "card1-HDMI-A-2": "connected",
    }
    assert connected_problem(connector_states(root)) == ""
    assert connector_states(tmp_path / "absent") == {}


def test_kmsdrm_reports_a_missing_monitor_before_touching_sdl(tmp_path):
    root = fake_drm(tmp_path, card1_HDMI_A_1="disconnected", card1_HDMI_A_2="disconnected")
    screen = KMSDRMScreen(DisplayConfig(backend="kmsdrm", sysfs_drm=str(root)))
    with pytest.raises(ScreenUnavailable) as err:
        screen.open()
    assert str(err.value) == (
        "kmsdrm: no monitor connected (card1-HDMI-A-1: disconnected, card1-HDMI-A-2: disconnected)"
    )


def test_kmsdrm_without_drm_device_is_unavailable_not_a_crash(tmp_path):
    # This machine has no KMS device the dummy test run may use: SDL refuses the driver.
    root = fake_drm(tmp_path, card0_HDMI_A_1="connected")
    screen = KMSDRMScreen(DisplayConfig(backend="kmsdrm", sysfs_drm=str(root)))
    try:
        with pytest.raises(ScreenUnavailable, match="kmsdrm"):
            screen.open()
    finally:
        screen.close()


def test_window_needs_a_desktop(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    screen = make_screen(DisplayConfig(backend="window"))
    try:
        with pytest.raises(ScreenUnavailable, match="no desktop"):
            screen.open()
    finally:
        screen.close()


def test_png_screen_writes_the_frame_atomically(tmp_path):
    out = tmp_path / "screen.png"
    screen = make_screen(DisplayConfig(backend="png", size=(320, 180), png_path=str(out)))
    surface = screen.open()
    surface.fill((1, 2, 3))
    screen.present()
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    assert tuple(pg.image.load(str(out)).get_at((5, 5)))[:3] == (1, 2, 3)
    assert not list(tmp_path.glob("*.partial.png"))
    screen.close()
    unwritable = DisplayConfig(backend="png", png_path=str(tmp_path / "no" / "x.png"))
    screen = make_screen(unwritable)
    screen.open()
    with pytest.raises(ScreenUnavailable, match="png: cannot write"):
        screen.present()


def test_config_section_maps_onto_the_display():
    section = SimpleNamespace(
        enabled=True,
        backend="window",
        size=(1280, 720),
        style="rhythm",
        streamer_seconds=3.0,
        wipe="both",
        punch_frames=4,
        flutter=True,
        show_timecode=False,
        show_original=False,
        latency_trim_ms=42.0,
    )
    config = DisplayConfig.from_config(section, StreamerStyle(record_colour=(255, 0, 0)))
    assert config.backend == "window" and config.size == (1280, 720)
    assert config.latency_ms == 42.0
    style = config.style
    assert (style.style, style.length_seconds, style.wipe) == ("rhythm", 3.0, "both")
    assert (style.punch_frames, style.flutter, style.show_engineer_info) == (4, True, False)
    assert style.show_original is False
    assert style.record_colour == (255, 0, 0)  # the look the section does not cover is kept
    auto = DisplayConfig.from_config(SimpleNamespace(**{**vars(section), "size": None}))
    assert auto.size is None
