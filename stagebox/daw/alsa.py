"""The ALSA sequencer backend, through python-rtmidi (imported when the backend is opened).

The sequencer reaches every MIDI port the system has: a USB MIDI interface's ports, and the
software ports of a network MIDI session (rtpmidid shares an AppleMIDI/RTP-MIDI session with
the DAW's computer as an ALSA sequencer client), which raw MIDI devices cannot. stagebox opens
its own output port ("stagebox:MMC out") and connects it to the chosen port.

The port is chosen by its name as `aconnect -l` shows it, any part of it, case-insensitive
("UM-ONE", "rtpmidid", "Pro Tools"), or by its number in the list; empty means the one port
there is besides ALSA's "Midi Through". A name that matches no port, or several, is refused
with the list of ports, never guessed.
"""

from __future__ import annotations

from stagebox.daw.backend import BackendUnavailable, MidiError, MidiOutput

CLIENT_NAME = "stagebox"
PORT_NAME = "MMC out"


def _rtmidi():
    try:
        import rtmidi
    except ImportError as exc:
        raise BackendUnavailable(
            f"MIDI backend 'alsa' needs python-rtmidi: pip install python-rtmidi ({exc})"
        ) from None
    return rtmidi


def choose_port(ports: list[str], wanted: str) -> int:
    """The index in `ports` of the port `wanted` names (see the module docstring)."""
    listing = "; ".join(f"{i}: {p}" for i, p in enumerate(ports)) or "none"
    wanted = wanted.strip()
    if wanted.isdigit():
        index = int(wanted)
        if index >= len(ports):
            raise MidiError(f"no MIDI port number {index} (ports: {listing})")
        return index
    if not wanted:
        candidates = [i for i, p in enumerate(ports) if "midi through" not in p.lower()]
        if len(candidates) != 1:
            raise MidiError(
                f"daw.port is empty and there are {len(candidates)} MIDI ports to choose from: "
                f"name one (ports: {listing})"
            )
        return candidates[0]
    matches = [i for i, p in enumerate(ports) if wanted.lower() in p.lower()]
    if len(matches) != 1:
        what = "no MIDI port" if not matches else f"{len(matches)} MIDI ports"
        raise MidiError(f"{what} named like {wanted!r} (ports: {listing})")
    return matches[0]


class Backend(MidiOutput):
    name = "alsa"

    def __init__(self, port: str = "") -> None:
        rtmidi = _rtmidi()
        try:
            out = rtmidi.MidiOut(rtmidi.API_LINUX_ALSA, name=CLIENT_NAME)
        except Exception as exc:  # rtmidi's SystemError: no /dev/snd/seq (no snd-seq module)
            raise MidiError(f"ALSA sequencer: {str(exc).splitlines()[0]}") from None
        try:
            ports = out.get_ports()
            index = choose_port(ports, port)
            out.open_port(index, name=PORT_NAME)
        except MidiError:
            out.delete()
            raise
        except Exception as exc:
            out.delete()
            raise MidiError(f"MIDI port {port!r}: {exc}") from None
        self.port_name = ports[index]
        self._out = out

    def send(self, message: bytes) -> None:
        if self._out is None:
            raise MidiError(f"MIDI port {self.port_name}: closed")
        try:
            self._out.send_message(list(message))
        except Exception as exc:
            raise MidiError(f"MIDI port {self.port_name}: {exc}") from None

    def close(self) -> None:
        if self._out is not None:
            self._out.close_port()
            self._out.delete()
            self._out = None
