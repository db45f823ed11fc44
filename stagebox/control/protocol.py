"""The control protocol: one JSON object per line, each way.

Request:  {"cmd": "mode", "args": {"mode": "record"}}
Reply:    {"ok": true, "result": ...}   or   {"ok": false, "error": "one line saying why"}

A connection may carry any number of requests; each gets exactly one reply, in order.
"""

from __future__ import annotations

import json

from stagebox.safefile import json_loads

MAX_LINE = 1 << 20  # bytes: a request longer than this is refused (and the connection closed)


class ControlError(Exception):
    """A request the service refused; the message is shown to the engineer as is."""


def encode(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode() + b"\n"


def decode_request(line: bytes) -> tuple[str, dict]:
    """(cmd, args) from one request line; ControlError if it is not a valid request."""
    try:
        obj = json_loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"request is not JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("cmd"), str):
        raise ControlError('request must be an object with a "cmd" string')
    args = obj.get("args", {})
    if not isinstance(args, dict):
        raise ControlError('"args" must be an object')
    return obj["cmd"], args


def reply_ok(result) -> dict:
    return {"ok": True, "result": result}


def reply_error(message: str) -> dict:
    return {"ok": False, "error": message}
