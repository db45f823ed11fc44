"""Raw MIDI: the bytes written straight to an ALSA rawmidi device, /dev/snd/midiC<card>D<dev>.

No library: the kernel's rawmidi device is a character file that takes MIDI bytes as they go
down the cable. It reaches every USB MIDI interface (snd-usb-audio gives each port one) but not
software ports (a network MIDI session lives in the ALSA sequencer: use the `alsa` backend).
The port is the device's path, or ALSA's `hw:CARD,DEV` (`hw:1,0`: /dev/snd/midiC1D0), as
`amidi -l` lists them. The file is opened once, unbuffered, so each message goes out whole.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from stagebox.daw.backend import MidiError, MidiOutput

_HW = re.compile(r"^hw:(\d+)(?:,(\d+))?$")


def device_path(port: str) -> Path:
    """The rawmidi device file for `port` (a path or `hw:CARD[,DEV]`)."""
    port = port.strip()
    if not port:
        raise MidiError(
            "MIDI backend 'rawmidi' needs a port: the device, e.g. /dev/snd/midiC1D0 or hw:1,0 "
            "(`amidi -l` lists them)"
        )
    match = _HW.match(port)
    if match:
        return Path(f"/dev/snd/midiC{match.group(1)}D{match.group(2) or 0}")
    return Path(port)


class Backend(MidiOutput):
    name = "rawmidi"

    def __init__(self, port: str = "") -> None:
        path = device_path(port)
        self.port_name = str(path)
        try:
            # Write-only, non-blocking open (a device another program holds answers EBUSY at
            # once instead of hanging), then blocking writes so a message is never cut short.
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            os.set_blocking(fd, True)
        except OSError as exc:
            raise MidiError(f"MIDI port {path}: {exc.strerror or exc}") from None
        self._fd: int | None = fd

    def send(self, message: bytes) -> None:
        if self._fd is None:
            raise MidiError(f"MIDI port {self.port_name}: closed")
        view = memoryview(bytes(message))
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise MidiError(f"MIDI port {self.port_name}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
