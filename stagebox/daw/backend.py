"""What a MIDI output backend must implement, and how one is chosen by name.

A backend sends complete MIDI messages (here MMC sysex, F0 .. F7) to one output port.

- `send(message)`: send the whole message, or raise `MidiError` naming the port. It may
  block for as long as the MIDI link takes to carry it (a 13-byte LOCATE is 4 ms at 31250
  baud), so it is never called on the audio thread: `DawControl` sends from its own thread.
- `close()`: release the port; sending after it is an error.
- `port_name`: the port as the engineer would recognise it (logs, `stagebox daw status`).

Backends: `alsa` (ALSA sequencer, python-rtmidi imported when opened), `rawmidi` (a raw MIDI
device file), `sim` (records `(monotonic time, bytes)`).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod

# Backend name -> module under stagebox.daw holding a class named `Backend`.
BACKENDS = {
    "alsa": "stagebox.daw.alsa",
    "rawmidi": "stagebox.daw.rawmidi",
    "sim": "stagebox.daw.sim",
}


class MidiError(RuntimeError):
    """A MIDI port could not be opened or written; the message names the port and why."""


class BackendUnavailable(MidiError, ImportError):
    """The chosen backend's library is missing or cannot run on this machine."""


class MidiOutput(ABC):
    """One MIDI output port. See the module docstring."""

    name: str = ""
    port_name: str = ""

    @abstractmethod
    def send(self, message: bytes) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> MidiOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_output(name: str, port: str = "") -> MidiOutput:
    """The output of backend `name` ("alsa", "rawmidi" or "sim") on `port`; no fallback."""
    module_name = BACKENDS.get(name)
    if module_name is None:
        raise MidiError(f"unknown MIDI backend {name!r} (backends: {', '.join(BACKENDS)})")
    module = importlib.import_module(module_name)
    return module.Backend(port)
