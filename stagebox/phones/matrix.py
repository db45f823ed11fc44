"""The actor's headphone mix as settings: which source is heard in which mode, and how loud.

Five sources can reach the actor's headphones:

- **beeps**: the ADR countdown (stagebox.beeps), rendered for the sample where it is heard;
- **guide**: the production line from the DAW, on the capture channel `audio.guide_channel`;
- **sidetone**: the actor's own microphone(s), passed straight through (same period);
- **talkback**: the director's microphone on `phones.talkback_channel`, live only while the
  talkback button is held (or `stagebox phones talkback on`), in every mode; while live it
  dims every other source by `talkback_dim_db`;
- **review**: a take played back (another part of the stage renders it into the mix's slot).

The matrix says, per mode (safe, rehearse, record, review), whether each source is in the
mix; each source has one level in dB. A source with no channel (guide or talkback not wired,
no review player) is silence. `PhonesSettings` is immutable: a live change (the control
socket, a reload) makes a new one, so a reader on another thread always sees a whole matrix.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SOURCES = ("beeps", "guide", "sidetone", "talkback", "review")
SWITCHED = ("beeps", "guide", "sidetone", "review")  # in the per-mode matrix
# Talkback is not in the matrix: it is live while held, whatever the mode.
MODES = ("safe", "rehearse", "record", "review")  # "review" whether or not the stage has it yet
LEVEL_RANGE = (-60.0, 12.0)  # dB: a source's level (gain on its signal)
DIM_RANGE = (-60.0, 0.0)  # dB: what talkback takes off the other sources
RAMP_RANGE = (0.5, 100.0)  # ms: gain ramps, long enough not to click, short enough to act

DEFAULT_MODES = {
    "beeps": frozenset({"rehearse", "record", "review"}),
    "guide": frozenset({"rehearse"}),
    "sidetone": frozenset({"rehearse", "record"}),
    "review": frozenset({"review"}),
}
DEFAULT_LEVELS = {"beeps": 0.0, "guide": -6.0, "sidetone": -6.0, "talkback": 0.0, "review": 0.0}


def db_to_gain(db: float) -> float:
    """A level in dB as a linear gain (-6 dB = 0.501)."""
    return 10.0 ** (db / 20.0)


def gain_to_dbfs(peak: float) -> float:
    """A linear peak as dBFS (-inf for silence)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


@dataclass(frozen=True)
class PhonesSettings:
    """The headphone mix: levels, the mode matrix, talkback, and where each source comes from.

    Channels here count from 0 (the config's count from 1); None / () is "not wired".
    """

    levels_db: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    modes: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_MODES))
    talkback_dim_db: float = -20.0  # dB taken off the other sources while talkback is live
    ramp_ms: float = 5.0  # ms over which any gain change (level, mode, talkback) is ramped
    guide_channel: int | None = None  # 0-based capture channel of the guide
    talkback_channel: int | None = None  # 0-based capture channel of the talkback mic
    sidetone_channels: tuple[int, ...] = ()  # 0-based capture channels summed into sidetone

    def __post_init__(self) -> None:
        for source in SOURCES:
            level = self.levels_db.get(source)
            if level is None:
                raise ValueError(f"phones.{source}_level_db: missing")
            _check_range(f"phones.{source}_level_db", level, LEVEL_RANGE, "dB")
        for source in SWITCHED:
            unknown = sorted(set(self.modes.get(source, ())) - set(MODES))
            if unknown:
                raise ValueError(
                    f"phones.{source}_modes: unknown mode {unknown[0]!r} "
                    f"(modes: {', '.join(MODES)})"
                )
        _check_range("phones.talkback_dim_db", self.talkback_dim_db, DIM_RANGE, "dB")
        _check_range("phones.ramp_ms", self.ramp_ms, RAMP_RANGE, "ms")

    # -- reading ------------------------------------------------------------------------------

    def on(self, source: str, mode: str) -> bool:
        """Whether `source` is in the mix in `mode` (talkback: always, while live)."""
        if source == "talkback":
            return True
        return mode in self.modes.get(source, frozenset())

    def wired(self, source: str) -> bool:
        """Whether `source` has a signal to give (a channel, or a renderer for beeps/review)."""
        if source == "guide":
            return self.guide_channel is not None
        if source == "talkback":
            return self.talkback_channel is not None
        if source == "sidetone":
            return bool(self.sidetone_channels)
        return True

    def channels(self) -> Iterable[tuple[str, int]]:
        """(key, 0-based capture channel) of every channel the mix reads."""
        if self.guide_channel is not None:
            yield "audio.guide_channel", self.guide_channel
        if self.talkback_channel is not None:
            yield "phones.talkback_channel", self.talkback_channel
        for ch in self.sidetone_channels:
            yield "phones.sidetone_channels", ch

    def check_channels(self, capture_channels: int) -> None:
        """ValueError naming the key of a channel the capture device does not have."""
        for key, ch in self.channels():
            if not 0 <= ch < capture_channels:
                raise ValueError(
                    f"{key}: channel {ch + 1} does not exist: the capture device has "
                    f"{capture_channels} channels"
                )

    # -- live changes (each returns new settings) ---------------------------------------------

    def with_level(self, source: str, db: float) -> PhonesSettings:
        _source(source)
        return dataclasses.replace(self, levels_db={**self.levels_db, source: float(db)})

    def with_switch(self, source: str, mode: str, on: bool) -> PhonesSettings:
        if source not in SWITCHED:
            raise ValueError(f"{source} is not switched per mode (sources: {', '.join(SWITCHED)})")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (modes: {', '.join(MODES)})")
        modes = set(self.modes.get(source, ()))
        (modes.add if on else modes.discard)(mode)
        return dataclasses.replace(self, modes={**self.modes, source: frozenset(modes)})

    def with_dim(self, db: float) -> PhonesSettings:
        return dataclasses.replace(self, talkback_dim_db=float(db))

    # -- from the config ----------------------------------------------------------------------

    @classmethod
    def from_config(cls, cfg) -> PhonesSettings:
        """The mix from a `stagebox.config.Config`: its [phones] section, the guide channel of
        [sync] and, when phones.sidetone_channels is empty, the mics of [audio]."""
        p = cfg.phones
        sidetone = p.sidetone_channels or cfg.audio.mic_channels
        return cls(
            levels_db={s: getattr(p, f"{s}_level_db") for s in SOURCES},
            modes={s: frozenset(getattr(p, f"{s}_modes")) for s in SWITCHED},
            talkback_dim_db=p.talkback_dim_db,
            ramp_ms=p.ramp_ms,
            guide_channel=cfg.audio.guide_channel - 1 if cfg.audio.guide_channel else None,
            talkback_channel=p.talkback_channel - 1 if p.talkback_channel else None,
            sidetone_channels=tuple(c - 1 for c in sidetone),
        )

    def to_dict(self) -> dict:
        """For the control socket: levels, the matrix (source -> modes), talkback, wiring."""
        return {
            "levels_db": {s: self.levels_db[s] for s in SOURCES},
            "modes": {s: [m for m in MODES if m in self.modes.get(s, ())] for s in SWITCHED},
            "talkback_dim_db": self.talkback_dim_db,
            "ramp_ms": self.ramp_ms,
            "channels": {  # 1-based, as the crew counts them; None: not wired
                "guide": None if self.guide_channel is None else self.guide_channel + 1,
                "talkback": None if self.talkback_channel is None else self.talkback_channel + 1,
                "sidetone": [c + 1 for c in self.sidetone_channels],
            },
        }


def _source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (sources: {', '.join(SOURCES)})")


def _check_range(key: str, value: float, bounds: tuple[float, float], unit: str) -> None:
    lo, hi = bounds
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{key}: {value:g} {unit} is outside {lo:g}..{hi:g} {unit}")
