"""`stagebox daw locate TC|CUE`, `stagebox daw play|stop|status`: the DAW's transport by MMC.

Asks the service, which owns the MIDI port ([daw] in the config, docs/daw.md). `locate CUE`
parks the DAW at the cue's pre-roll (TC-in minus daw.preroll_seconds), as the NEXT/PREVIOUS
buttons do; `locate 01:00:10:00` goes to that timecode, read at the cue sheet's rate (else
timecode.rate, else the LTC's). `play` and `stop` are the DAW's own play and stop; `status`
shows the port and the last messages sent.
"""

from __future__ import annotations

import argparse
import time

from stagebox.cli import remote


def register(sub: argparse._SubParsersAction) -> None:
    daw = sub.add_parser("daw", help="drive the DAW's transport by MIDI Machine Control")
    actions = daw.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    locate = actions.add_parser("locate", help="park the DAW at a timecode or a cue's pre-roll")
    locate.add_argument("to", metavar="TC|CUE", help="HH:MM:SS:FF, or a cue number")
    actions.add_parser("play", help="roll the DAW")
    actions.add_parser("stop", help="stop the DAW")
    status = actions.add_parser("status", help="the MIDI port and the last messages sent")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    for parser in (locate, *(actions.choices[a] for a in ("play", "stop")), status):
        remote.add_socket_option(parser)
    daw.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = {"action": args.action}
    if args.action == "locate":
        request["to"] = args.to
    result = remote.call(args, "daw", request)
    if args.action == "status":
        if args.json:
            remote.print_json(result)
            return 0
        state = "open" if result.get("connected") else "not open"
        print(f"port: {result.get('port') or '-'} ({state}), MMC device id {result['device_id']}")
        if result.get("error"):
            print(f"error: {result['error']}")
        for sent in result.get("sent", []):
            stamp = time.strftime("%H:%M:%S", time.localtime(sent["time"]))
            print(f"{stamp}  {sent['message']}  ({sent['why']})")
        return 0
    for message in result.get("sent", []):
        print(f"sent {message} to {result.get('port')}")
    return 0
