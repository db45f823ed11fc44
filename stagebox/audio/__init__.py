"""Audio seam: capture (mics + LTC) and playback (headphones), chosen by name.

`open_backend("alsa", capture_device="hw:CARD=...", ...)` or `open_backend("sim", feed=...)`
returns an unopened `AudioBackend`. An unknown name is an error: there is no silent fallback
from real hardware to the simulator.
"""

from __future__ import annotations

import importlib

from stagebox.audio.base import (
    AudioBackend,
    AudioDeviceError,
    AudioError,
    CaptureBlock,
    EndOfFeed,
)

# Backend name -> "module:class". Modules are imported only when chosen (the ALSA backend
# imports pyalsaaudio only when opened).
BACKENDS = {
    "alsa": "stagebox.audio.alsa:AlsaBackend",
    "sim": "stagebox.sim.audio:SimBackend",
}

__all__ = [
    "BACKENDS",
    "AudioBackend",
    "AudioDeviceError",
    "AudioError",
    "CaptureBlock",
    "EndOfFeed",
    "open_backend",
]


def open_backend(name: str, **params) -> AudioBackend:
    """A new, unopened backend called `name` ("alsa" or "sim") built with `params`."""
    target = BACKENDS.get(str(name).strip().lower())
    if target is None:
        raise AudioError(f"unknown audio backend {name!r} (known: {', '.join(BACKENDS)})")
    module, cls = target.split(":")
    backend_cls = getattr(importlib.import_module(module), cls)
    try:
        return backend_cls(**params)
    except TypeError as exc:
        raise AudioError(f"audio backend {name!r}: {exc}") from None
