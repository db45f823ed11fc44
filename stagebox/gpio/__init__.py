"""Lights and buttons: the stage's cue, record and stand-by lamps and the crew's buttons.

Backends live side by side and are chosen by name, never by a silent fallback:
`rpigpio` (the RPi.GPIO API, which `rpi-lgpio` provides on every bookworm Pi) and `sim`
(simulated pins with a history, for tests and `stagebox demo`). See `backend.GPIOBackend` for
what a backend must implement, `lamps.LampDriver` for sample-timed lamp switching and
`buttons.Buttons` for debounced presses turned into engine commands.
"""
