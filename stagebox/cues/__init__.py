"""Cue sheets: the cue (what the actor says, and when), importers, and the take report."""

from stagebox.cues.cue import Cue

__all__ = ["Cue"]
