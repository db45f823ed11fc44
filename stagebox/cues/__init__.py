"""Cue sheets: the cue (what the actor says, and when), the cue list, and its importers.

Other parts of stagebox call `load_cue_sheet(path, rate)` and work with the `CueSheet` it
returns; a file that cannot be loaded raises `CueSheetError` with every problem and its line.
"""

from stagebox.cues.cue import Cue
from stagebox.cues.errors import CueSheetError, Problem
from stagebox.cues.loader import load_cue_sheet
from stagebox.cues.sheet import CueSheet

__all__ = ["Cue", "CueSheet", "CueSheetError", "Problem", "load_cue_sheet"]
