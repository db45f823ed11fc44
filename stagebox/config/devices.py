"""The config's sections for the stage's devices and the service: the actor's screen, the lamps,
the buttons, the front panel, the DAW, the control socket and the log. One frozen dataclass per
`[section]`, one typed key per field (see `schema`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stagebox.config.types import (
    Boolean,
    Choice,
    FileMode,
    Float,
    FloatOrWord,
    Integer,
    PathValue,
    ScreenSize,
    String,
    setting,
)


@dataclass(frozen=True)
class DisplayConfig:
    """The actor's screen on HDMI: streamers, punch, cue text, take number."""

    enabled: bool = setting(Boolean(), True, "draw streamers on the screen")
    backend: str = setting(
        Choice("kmsdrm", "window", "dummy"),
        "kmsdrm",
        "kmsdrm: full screen on HDMI with no desktop; window: a desktop window; dummy: none",
    )
    size: tuple[int, int] | None = setting(
        ScreenSize(), "auto", "screen size: auto (the monitor's mode) or e.g. 1920x1080"
    )
    style: str = setting(
        Choice("streamer", "rhythm"),
        "streamer",
        "streamer: wipe bar and punch; rhythm: a scrolling band with the line's words",
    )
    streamer_seconds: float = setting(
        Float(minimum=1.0, maximum=5.0), 2.0, "length of the streamer's wipe before TC-in"
    )
    wipe: str = setting(
        Choice("left", "both"),
        "left",
        "left: the bar wipes from the left edge to the right; both: from both edges to the middle",
    )
    punch_frames: int = setting(
        Integer(minimum=1, maximum=25), 2, "frames the punch (flash circle) shows at TC-in"
    )
    flutter: bool = setting(
        Boolean(), False, "flicker the streamer bar on alternate frames for its last half second"
    )
    show_timecode: bool = setting(Boolean(), True, "show the running timecode on screen")
    show_original: bool = setting(
        Boolean(),
        True,
        "dubbing: show the original line small under the line to record (when the sheet has one)",
    )
    show_sync: bool = setting(
        Boolean(),
        False,
        "show each take's sync score on the take line after the pass (the front panel and the "
        "monitor always show it; actors may prefer not to see it)",
    )
    latency_trim_ms: float = setting(
        Float(minimum=-500.0, maximum=500.0),
        0.0,
        "display lag in ms: the picture is drawn this much earlier (TV processing delay)",
    )


@dataclass(frozen=True)
class LightsConfig:
    """Cue, record and stand-by lamps on GPIO."""

    backend: str = setting(
        Choice("rpigpio", "sim"), "rpigpio", "rpigpio: the Pi's GPIO; sim: recorded, no hardware"
    )
    pinmap: Path | None = setting(
        PathValue(optional=True, must_exist="file"),
        "",
        "pin map file (empty: the one shipped with stagebox, hardware/pinmap.toml)",
    )
    relay_lag_ms: float = setting(
        Float(minimum=0.0, maximum=500.0),
        0.0,
        "ms from switching the GPIO to the lamp lighting (relays ~10 ms): switched earlier",
    )
    standby_light: bool = setting(
        Boolean(), False, "drive the stand-by lamp (lit while armed and waiting for a cue)"
    )


@dataclass(frozen=True)
class ButtonsConfig:
    """Crew buttons on GPIO."""

    enabled: bool = setting(Boolean(), True, "read the crew buttons")
    debounce_ms: int = setting(
        Integer(minimum=0, maximum=500), 30, "ms a button must stay still to count"
    )
    long_press_ms: int = setting(
        Integer(minimum=100, maximum=10000), 800, "ms held for a long press"
    )


@dataclass(frozen=True)
class PanelConfig:
    """Front-panel status display (a 128x64 OLED on I2C: SSD1306 or SH1106)."""

    enabled: bool = setting(Boolean(), False, "drive the front-panel OLED")
    controller: str = setting(
        Choice("ssd1306", "sh1106"),
        "ssd1306",
        "the OLED's controller: ssd1306 (0.96-inch modules) or sh1106 (most 1.3-inch ones)",
    )
    i2c_bus: int = setting(Integer(minimum=0, maximum=31), 1, "I2C bus number (/dev/i2c-N)")
    address: int = setting(
        Integer(minimum=0x03, maximum=0x77, hex=True), 0x3C, "7-bit I2C address (0x3c or 0x3d)"
    )
    refresh_hz: int = setting(Integer(minimum=5, maximum=10), 5, "panel redraws per second")


@dataclass(frozen=True)
class DawConfig:
    """The DAW's transport driven by MIDI Machine Control (docs/daw.md)."""

    enabled: bool = setting(
        Boolean(),
        False,
        "send MMC to the DAW: cue changes locate it, record/rehearse/review roll it, safe stops it",
    )
    backend: str = setting(
        Choice("alsa", "rawmidi", "sim"),
        "alsa",
        "alsa: ALSA sequencer ports (USB MIDI, network MIDI; needs python-rtmidi); rawmidi: a "
        "/dev/snd/midiC*D* device; sim: no MIDI, messages kept in memory",
    )
    port: str = setting(
        String(),
        "",
        "alsa: part of the port's name as `aconnect -l` shows it, or its number (empty: the "
        "only one); rawmidi: hw:CARD,DEV or the device path",
    )
    device_id: int = setting(
        Integer(minimum=0, maximum=127),
        127,
        "the DAW's MMC ID, 0-126; 127 is all-call (every receiver obeys it)",
    )
    preroll_seconds: float | None = setting(
        FloatOrWord("stage", minimum=0.0, maximum=60.0),
        "stage",
        'seconds before TC-in the DAW is parked at; "stage": stage.preroll_seconds',
    )
    roll_on_record: bool = setting(
        Boolean(),
        True,
        "record, rehearse and review roll a stopped DAW from the cue's pre-roll (deferred play)",
    )
    loop: bool = setting(
        Boolean(),
        False,
        "when a pass's post-roll ends in record, rehearse or review: locate back and roll again",
    )
    stop_after_postroll: bool = setting(
        Boolean(),
        False,
        "when a pass's post-roll ends (and loop is off): stop the DAW and park at the pre-roll",
    )


@dataclass(frozen=True)
class ControlConfig:
    """The control socket that `stagebox` commands over SSH talk to."""

    socket: Path = setting(
        PathValue(), "/run/stagebox/control.sock", "unix socket path (JSON lines)"
    )
    socket_group: str = setting(
        String(allow_empty=False),
        "stagebox",
        "group allowed to use the socket (add engineers to it: usermod -aG stagebox NAME)",
    )
    socket_mode: int = setting(FileMode(), "0660", "permissions of the socket")


@dataclass(frozen=True)
class LogConfig:
    """Logging (to the journal under systemd, else to stderr)."""

    level: str = setting(Choice("debug", "info", "warning", "error"), "info", "lowest level logged")
