"""The config schema: one frozen dataclass per `[section]`, one typed field per key.

Each key is declared once, with `setting(type, default, doc)`: the type validates what the
engineer writes, the default is written as it would be in the TOML file (and parsed by the
type when this module is imported, so a bad default fails at once), and the one-line doc
becomes the comment in the default file and the line in docs/configuration.md.

Subsystems read their section: `cfg.audio.sample_rate`, `cfg.stage.mode`, ... The stage's own
sections are here; the sound's (audio, timecode, beeps, phones, sync) are in `config.sound`,
the devices' and the service's (display, lights, buttons, panel, daw, control, log) in
`config.devices`; `Config` puts them together in file order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from stagebox.config.devices import (
    ButtonsConfig,
    ControlConfig,
    DawConfig,
    DisplayConfig,
    LightsConfig,
    LogConfig,
    PanelConfig,
)
from stagebox.config.sound import (
    AudioConfig,
    BeepsConfig,
    PhonesConfig,
    SyncConfig,
    TimecodeConfig,
)
from stagebox.config.types import (
    Boolean,
    Choice,
    Float,
    Integer,
    PathValue,
    String,
    TakeName,
    TextEncoding,
    setting,
)

DEFAULT_PATH = Path("/etc/stagebox/stagebox.toml")


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
