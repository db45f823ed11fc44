"""Cue sheets: the cue (what the actor says, and when), the cue list, and its importers.

Other parts of stagebox call `load_cue_sheet(path, rate)` and work with the `CueSheet` it
returns; a file that cannot be loaded raises `CueSheetError` with every problem and its line.

The names below are imported on first use, so that `stagebox.cues.cue` (the one a status line
needs) comes without the importers (CSV, VSLink, Pro Tools text) it does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagebox.lazy import lazy_names

# name -> the module that defines it
_HOMES = {
    "Cue": "stagebox.cues.cue",
    "CueSheet": "stagebox.cues.sheet",
    "CueSheetError": "stagebox.cues.errors",
    "Problem": "stagebox.cues.errors",
    "load_cue_sheet": "stagebox.cues.loader",
}

__all__ = ["Cue", "CueSheet", "CueSheetError", "Problem", "load_cue_sheet"]

if TYPE_CHECKING:
    from stagebox.cues.cue import Cue
    from stagebox.cues.errors import CueSheetError, Problem
    from stagebox.cues.loader import load_cue_sheet
    from stagebox.cues.sheet import CueSheet


__getattr__ = lazy_names(globals(), _HOMES)
