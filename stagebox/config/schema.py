"""The config schema: one frozen dataclass per `[section]`, one typed field per key.

Each key is declared once, with `setting(type, default, doc)`: the type validates what the
engineer writes, the default is written as it would be in the TOML file (and parsed by the
type when this module is imported, so a bad default fails at once), and the one-line doc
becomes the comment in the default file and the line in docs/configuration.md.

Subsystems read their section: `cfg.audio.sample_rate`, `cfg.stage.mode`, ...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagebox.config.types import (
    Boolean,
    ChannelList,
    Choice,
    ChoiceList,
    FileMode,
    Float,
    FloatOrWord,
    Integer,
    PathValue,
    ScreenSize,
    String,
    TakeName,
    TextEncoding,
    TimecodeRateValue,
    ValueType,
)
from stagebox.phones.matrix import MODES as PHONE_MODES
from stagebox.timecode import Rate

DEFAULT_PATH = Path("/etc/stagebox/stagebox.toml")


def setting(vtype: ValueType, default: Any, doc: str) -> Any:
    """A config key: its type, its default as written in TOML, and a one-line doc."""
    return field(
        default=vtype.parse(default),
        metadata={"type": vtype, "doc": doc},
    )


@dataclass(frozen=True)
class AudioConfig:
    """The audio interface: one capture stream carries the LTC and the microphones."""

    backend: str = setting(
        Choice("alsa", "sim"),
        "alsa",
        "alsa: the audio HAT or interface; sim: a WAV file or generated LTC, no sound card",
    )
    hat: str = setting(
        Choice(
            "hifiberry-dacplusadcpro",
            "hifiberry-dacplusadc",
            "codec-zero",
            "pisound",
            "usb",
            "none",
        ),
        "hifiberry-dacplusadcpro",
        "the audio HAT: its overlay, ALSA card, channels, the GPIOs it claims and its default "
        "pin map (docs/audio.md)",
    )
    capture_device: str = setting(
        String(allow_empty=False),
        "hw:CARD=sndrpihifiberry,DEV=0",
        "ALSA capture device (`arecord -L` lists them); use hw: names, not plughw:",
    )
    playback_device: str = setting(
        String(allow_empty=False),
        "hw:CARD=sndrpihifiberry,DEV=0",
        "ALSA playback device for the beeps into the actor's headphones",
    )
    sample_rate: int = setting(
        Integer(choices=(44100, 48000, 96000)), 48000, "sample rate in Hz, capture and playback"
    )
    sample_format: str = setting(
        Choice("S16_LE", "S24_LE", "S32_LE", "S24_3LE"),
        "S32_LE",
        "ALSA sample format the interface runs at (S24_3LE: packed 3-byte USB interfaces)",
    )
    period_size: int = setting(
        Integer(minimum=32, maximum=8192),
        256,
        "frames per ALSA period: the engine's unit of work (256 = 5.3 ms at 48 kHz)",
    )
    periods: int = setting(
        Integer(minimum=2, maximum=32), 4, "periods in the ALSA buffer (buffer = periods x period)"
    )
    capture_channels: int = setting(
        Integer(minimum=1, maximum=64), 2, "channels opened on the capture device"
    )
    ltc_channel: int = setting(
        Integer(minimum=1, maximum=64),
        2,
        "capture channel carrying LTC from the DAW (1-based: 2 = right input of a stereo HAT)",
    )
    mic_channels: tuple[int, ...] = setting(
        ChannelList(), [1], "capture channels recorded into each take (1-based)"
    )
    guide_channel: int = setting(
        Integer(minimum=0, maximum=64),
        0,
        "capture channel carrying the DAW's guide track, the production line (1-based; "
        "0: none): recorded with each take over exactly its samples and scored against it "
        "after the pass (sync.guide_folder: the fallback); the phones' guide source",
    )
    playback_channels: int = setting(
        Integer(minimum=1, maximum=64), 2, "channels opened on the playback device"
    )
    headphone_channels: tuple[int, ...] = setting(
        ChannelList(), [1, 2], "playback channels of the actor's headphone mix ([phones]; 1-based)"
    )
    playback_latency_trim: int = setting(
        Integer(minimum=-48000, maximum=48000),
        0,
        "samples added to the measured output delay when placing beeps (positive: play earlier)",
    )
    sim_feed: Path | None = setting(
        PathValue(optional=True, must_exist="file"),
        "",
        "sim backend: the stage feed WAV file played as the capture stream (required with it)",
    )
    sim_realtime: bool = setting(
        Boolean(),
        True,
        "sim backend: pace the feed at the sample rate (false: as fast as the CPU allows)",
    )


@dataclass(frozen=True)
class TimecodeConfig:
    """How LTC is read: the rate, how long a dropout is bridged, how soon lock is declared."""

    rate: Rate | None = setting(
        TimecodeRateValue(),
        "auto",
        "auto: measure the rate from the LTC itself; or force one, e.g. 23.976, 25, 29.97df",
    )
    freewheel_frames: int = setting(
        Integer(minimum=0, maximum=250),
        5,
        "frames of missing or garbled LTC bridged by prediction before the clock is lost",
    )
    take_dropout_seconds: float = setting(
        Float(minimum=0.0, maximum=10.0),
        2.0,
        "seconds of LTC dropout bridged while a take records: the take goes on, "
        "sample-continuous, and its note records the dropout; a longer one closes the take "
        "with all the audio it had",
    )
    lock_frames: int = setting(
        Integer(minimum=1, maximum=50),
        1,
        "consecutive frames in sequence needed to lock (1: the first frame that passes the "
        "decoder's sync, BCD and timing checks, so timecode is known within two frames)",
    )


@dataclass(frozen=True)
class StageConfig:
    """The stage itself: project, start mode, cue sheet, and where takes punch in and out."""

    project: str = setting(
        String(), "", "project name written into each take's iXML (empty: the cue sheet's)"
    )
    mode: str = setting(
        Choice("safe", "rehearse", "record", "review"),
        "safe",
        "mode at start: safe (nothing recorded), rehearse (lights, no takes), record or "
        "review (the last take of each cue plays back against picture)",
    )
    follow_timecode: bool = setting(
        Boolean(),
        True,
        "select the current cue from the incoming timecode (false: only the buttons move it)",
    )
    cue_sheet: Path | None = setting(
        PathValue(optional=True, must_exist="file"),
        "",
        "cue sheet file loaded at start (relative paths: from this file's folder)",
    )
    cue_sheet_encoding: str = setting(
        TextEncoding(),
        "auto",
        "text encoding of cue sheets that are not UTF-8 or UTF-16 with a BOM (auto: Mac Roman "
        "for a Pro Tools export, other files refused); `cues load --encoding` forces one",
    )
    record_language: str = setting(
        String(),
        "",
        "dubbing: the language to record when a sheet has lines in several (e.g. FR for a "
        "`Dialogue FR` column; empty: the sheet's only language column)",
    )
    preroll_seconds: float = setting(
        Float(minimum=0.0, maximum=60.0),
        5.0,
        "seconds before TC-in that belong to the cue's pass: streamer and beeps must fit in it",
    )
    postroll_seconds: float = setting(
        Float(minimum=0.0, maximum=60.0),
        1.0,
        "seconds after TC-out before the pass is over and the lights go out",
    )
    handle_before_frames: int = setting(
        Integer(minimum=0, maximum=250),
        0,
        "frames recorded before TC-in (handle); the take's timestamp moves back with it",
    )
    handle_after_frames: int = setting(
        Integer(minimum=0, maximum=250), 0, "frames recorded after TC-out (handle)"
    )
    record_offset_samples: int = setting(
        Integer(minimum=-4800, maximum=4800),
        0,
        "shift every punch by this many samples (positive: later), for converter skew",
    )
    record_light: str = setting(
        Choice("punch", "pass"),
        "punch",
        "punch: record light on from punch in to punch out; pass: for the whole pass",
    )
    cue_light: str = setting(
        Choice("streamer", "line"),
        "streamer",
        "streamer: cue light from the streamer's start to TC-in; line: from TC-in to TC-out",
    )


@dataclass(frozen=True)
class BeepsConfig:
    """ADR beeps into the headphones: the line starts on the silent beep after the last."""

    enabled: bool = setting(Boolean(), True, "play beeps before each cue's TC-in")
    count: int = setting(Integer(minimum=1, maximum=10), 3, "beeps before TC-in")
    spacing_seconds: float = setting(
        Float(minimum=0.1, maximum=5.0), 1.0, "seconds from one beep to the next (and to TC-in)"
    )
    frequency_hz: float = setting(Float(minimum=50.0, maximum=15000.0), 1000.0, "beep pitch in Hz")
    length_frames: int = setting(
        Integer(minimum=1, maximum=25), 1, "length of each beep in timecode frames"
    )
    level_dbfs: float = setting(
        Float(minimum=-60.0, maximum=0.0), -20.0, "beep level in dBFS (peak of the sine)"
    )
    beep_at_tc_in: bool = setting(
        Boolean(), False, "also beep on TC-in itself (most actors prefer it silent)"
    )


def _level(default: float, what: str) -> Any:
    return setting(
        Float(minimum=-60.0, maximum=12.0), default, f"level in dB of {what} (0: unchanged)"
    )


def _modes(default: list[str], what: str) -> Any:
    return setting(ChoiceList(*PHONE_MODES), default, f"modes in which the actor hears {what}")


@dataclass(frozen=True)
class PhonesConfig:
    """The actor's headphone mix: each source's level and the modes it is heard in (docs/phones.md).

    The mix goes to audio.headphone_channels. The guide comes from audio.guide_channel; live
    changes (`stagebox phones guide -6`) last until the service restarts or reloads.
    """

    beeps_level_db: float = _level(0.0, "the beeps (on top of beeps.level_dbfs)")
    beeps_modes: tuple[str, ...] = _modes(["rehearse", "record", "review"], "the beeps")
    guide_level_db: float = _level(-6.0, "the guide track (from audio.guide_channel)")
    guide_modes: tuple[str, ...] = _modes(["rehearse"], "the guide")
    sidetone_level_db: float = _level(-6.0, "the actor's own microphone (sidetone)")
    sidetone_modes: tuple[str, ...] = _modes(["rehearse", "record"], "themselves")
    sidetone_channels: tuple[int, ...] = setting(
        ChannelList(allow_empty=True),
        [],
        "capture channels summed into the sidetone (1-based; empty: audio.mic_channels)",
    )
    talkback_level_db: float = _level(0.0, "the director's talkback")
    talkback_channel: int = setting(
        Integer(minimum=0, maximum=64),
        0,
        "capture channel of the director's talkback mic (1-based; 0: none), heard in every "
        "mode while the talkback button is held or `stagebox phones talkback on`",
    )
    talkback_dim_db: float = setting(
        Float(minimum=-60.0, maximum=0.0),
        -20.0,
        "dB taken off every other source while talkback is live",
    )
    review_level_db: float = _level(0.0, "a take played back (review)")
    review_modes: tuple[str, ...] = _modes(["review"], "a take played back")
    ramp_ms: float = setting(
        Float(minimum=0.5, maximum=100.0),
        5.0,
        "ms over which a level, mode or talkback change fades in, so it never clicks",
    )


@dataclass(frozen=True)
class TakesConfig:
    """Where and how takes are written (Broadcast WAV, never overwritten)."""

    folder: Path = setting(
        PathValue(),
        "/var/lib/stagebox/takes",
        "folder for takes; outside /var/lib/stagebox it needs ReadWritePaths= (docs/install.md)",
    )
    name_template: str = setting(
        TakeName(),
        "<cue>_T<take:03>.wav",
        "take file name: <cue>, <take>, <project>, <character>, <date>, <time>",
    )
    bit_depth: int = setting(Integer(choices=(16, 24, 32)), 24, "bits per sample in the take files")
    disk_reserve_mb: int = setting(
        Integer(minimum=0, maximum=1_000_000),
        500,
        "MB kept free on the takes disk: a take is closed cleanly before it eats into them",
    )
    writer_queue_seconds: float = setting(
        Float(minimum=1.0, maximum=120.0),
        10.0,
        "seconds of audio buffered for the disk writer, to ride out a slow SSD",
    )


@dataclass(frozen=True)
class SyncConfig:
    """The sync score: each take against its guide line (the production dialogue)."""

    guide_folder: Path | None = setting(
        PathValue(optional=True),
        "",
        "folder of guide BWFs (production dialogue with bext TimeReference), cut to each "
        "take's span by timecode (empty: none)",
    )
    guide_file: bool = setting(
        Boolean(),
        True,
        "with audio.guide_channel: keep the guide as a second file beside each take "
        "(<take>.guide.wav with the take's TimeReference, which stagebox sync reads); false: "
        "score it from memory and keep nothing",
    )
    max_offset_ms: float = setting(
        Float(minimum=100.0, maximum=5000.0),
        1000.0,
        "how far the alignment may wander from the guide, in ms (beyond it: out of sync)",
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


@dataclass(frozen=True)
class Config:
    """The whole configuration; `source` is the file it came from (None: built-in defaults)."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    timecode: TimecodeConfig = field(default_factory=TimecodeConfig)
    stage: StageConfig = field(default_factory=StageConfig)
    beeps: BeepsConfig = field(default_factory=BeepsConfig)
    phones: PhonesConfig = field(default_factory=PhonesConfig)
    takes: TakesConfig = field(default_factory=TakesConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    lights: LightsConfig = field(default_factory=LightsConfig)
    buttons: ButtonsConfig = field(default_factory=ButtonsConfig)
    panel: PanelConfig = field(default_factory=PanelConfig)
    daw: DawConfig = field(default_factory=DawConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    log: LogConfig = field(default_factory=LogConfig)
    source: Path | None = field(default=None, compare=False)
    # What the engineer should change but the stage runs with (a renamed key): each names the
    # file, line and key. `config check` prints them; the service logs them when it starts.
    warnings: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Deprecated:
    """A key that was renamed or moved: a config that still says `key` keeps working (its
    value is read as `replacement`'s), with a warning naming the file, the line and the new
    key, so an upgraded stage still starts. Both given at once is an error."""

    key: str  # the old dotted key, e.g. "sync.guide_channel"
    replacement: str  # the dotted key that holds the value now
    since: str  # the stagebox version that renamed it


# Old key -> what it became. Keep entries for at least a year of releases.
DEPRECATED: dict[str, Deprecated] = {
    d.key: d
    for d in (
        # The guide input is a capture channel like the LTC and the mics (and feeds the
        # headphones as well as the sync score): one key, in [audio].
        Deprecated("sync.guide_channel", "audio.guide_channel", "0.2"),
    )
}


def sections() -> dict[str, type]:
    """Section name -> its dataclass, in file order."""
    return {
        f.name: f.default_factory
        for f in dataclasses.fields(Config)
        if f.name not in ("source", "warnings")
    }


def keys(section_cls: type) -> list[dataclasses.Field]:
    """The key fields of a section dataclass, in file order."""
    return list(dataclasses.fields(section_cls))
