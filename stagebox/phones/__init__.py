"""The actor's headphone mix: beeps, guide, sidetone, talkback and review, per mode.

`matrix.py` holds the settings (levels in dB, the per-mode on/off matrix, talkback's dim, the
channels each source comes from) built from the config's [phones] section; `mixer.py` mixes one
period of named mono blocks into the phones feed with ramped gains and clip protection;
`meters.py` keeps the peak of each source and of the output for the monitor. `control.py`
turns the control socket's `phones` requests into live changes. The engine calls the mixer
from `Engine._headphones` once per period.

The names below are imported on first use: the command line reads the matrix without numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagebox.lazy import lazy_names

# name -> the module that defines it
_HOMES = {
    "MODES": "stagebox.phones.matrix",
    "SOURCES": "stagebox.phones.matrix",
    "SWITCHED": "stagebox.phones.matrix",
    "PhonesSettings": "stagebox.phones.matrix",
    "PhoneMixer": "stagebox.phones.mixer",
    "PeakMeters": "stagebox.phones.meters",
}

__all__ = ["MODES", "SOURCES", "SWITCHED", "PeakMeters", "PhoneMixer", "PhonesSettings"]

if TYPE_CHECKING:
    from stagebox.phones.matrix import MODES, SOURCES, SWITCHED, PhonesSettings
    from stagebox.phones.meters import PeakMeters
    from stagebox.phones.mixer import PhoneMixer

__getattr__ = lazy_names(globals(), _HOMES)
