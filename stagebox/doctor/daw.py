"""The DAW's MIDI port: the one [daw] names opens (or the running service has it open)."""

from __future__ import annotations

from stagebox.control.protocol import ControlError
from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, SKIP, Result

NAME = "DAW (MMC)"


def _fix(backend: str) -> str:
    if backend == "rawmidi":
        return "`amidi -l` lists the raw MIDI devices: set daw.port to one (hw:1,0)"
    return (
        "`aconnect -l` lists the MIDI ports: set daw.port to part of one's name; plug in the "
        "USB MIDI interface or start the network MIDI session (docs/daw.md)"
    )


def check_daw(ctx: Context) -> Result:
    daw = ctx.cfg.daw
    if not daw.enabled:
        return Result(NAME, SKIP, "daw.enabled = false")
    data = {"backend": daw.backend, "device_id": daw.device_id}
    if ctx.service is not None:  # it holds the port (a raw MIDI device opens only once)
        try:
            status = ctx.service("daw", action="status")
        except ControlError as exc:
            return Result(NAME, FAIL, f"the running service: {exc}", _fix(daw.backend))
        if status.get("error") or not status.get("connected"):
            why = status.get("error") or "its MIDI port is not open"
            return Result(NAME, FAIL, f"the running service: {why}", _fix(daw.backend))
        return Result(
            NAME,
            PASS,
            f"the running service sends MMC to {status['port']} (device id {daw.device_id})",
            data={**data, "port": status["port"]},
        )
    from stagebox.daw.backend import MidiError

    try:
        output = ctx.open_midi(daw.backend, daw.port)
    except MidiError as exc:
        return Result(NAME, FAIL, str(exc), _fix(daw.backend))
    port = output.port_name
    output.close()
    return Result(
        NAME,
        PASS,
        f"MIDI port {port} opens (device id {daw.device_id})",
        data={**data, "port": port},
    )
