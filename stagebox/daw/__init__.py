"""The DAW from the crew's buttons: MIDI Machine Control out to Pro Tools, Reaper, Nuendo.

`mmc` builds the sysex messages (STOP, PLAY, DEFERRED PLAY, RECORD STROBE/EXIT, LOCATE);
`backend` is the MIDI output seam, its backends side by side and chosen by name, never by a
silent fallback: `alsa` (the ALSA sequencer through python-rtmidi: a USB MIDI interface, or the
DAW's network MIDI session through rtpmidid), `rawmidi` (a /dev/snd/midiC*D* device written as
a file, no library) and `sim` (messages kept with their times, for tests and the demo).
`control.DawControl` is the behaviour: cue changes locate the DAW to the cue's pre-roll,
record and rehearse roll it, safe stops it (docs/daw.md).
"""
