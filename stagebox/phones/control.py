"""The control socket's `phones.set` request, applied to the mixer on the engine thread.

One request makes one change, which takes effect on the next period boundary and ramps in:

    {"source": "guide", "level_db": -6}          the guide's level (dB)
    {"source": "guide", "on": false}             the guide out of the mix in the stage's mode
    {"source": "guide", "on": true, "mode": "record"}   ... or in the mode named
    {"source": "talkback", "on": true}           talkback live (the button held) / released
    {"dim_db": -15}                              what talkback takes off the other sources

Changes are live only: a restart or a reload (SIGHUP) goes back to the config file's [phones].
"""

from __future__ import annotations

from stagebox.phones.matrix import MODES, SOURCES, SWITCHED

CHANGES = ("level_db", "on", "dim_db")


def check_request(args: dict) -> None:
    """ValueError saying what is wrong with a `phones.set` request (types are checked by the
    control schema; this checks that the request makes one sensible change)."""
    given = [k for k in CHANGES if k in args]
    if len(given) != 1:
        raise ValueError("phones.set: give exactly one of level_db, on or dim_db")
    source, change = args.get("source"), given[0]
    if change == "dim_db":
        if source is not None or "mode" in args:
            raise ValueError("phones.set: dim_db is talkback's dim of every source: no source")
        return
    if source is None:
        raise ValueError(f"phones.set: which source? ({', '.join(SOURCES)})")
    if source not in SOURCES:
        raise ValueError(f"phones.set: unknown source {source!r} ({', '.join(SOURCES)})")
    if "mode" in args and (change != "on" or source not in SWITCHED):
        raise ValueError(
            "phones.set: mode goes with on for a switched source "
            f"({', '.join(SWITCHED)}); talkback is live in every mode while held"
        )
    if "mode" in args and args["mode"] not in MODES:
        raise ValueError(f"phones.set: unknown mode {args['mode']!r} ({', '.join(MODES)})")


def apply_request(mixer, args: dict, mode: str) -> dict:
    """Make the change on `mixer` (engine thread, between periods; `mode` is the stage's);
    returns the mixer's state as the reply."""
    check_request(args)
    source = args.get("source")
    if "dim_db" in args:
        mixer.set_dim(float(args["dim_db"]))
    elif "level_db" in args:
        mixer.set_level(source, float(args["level_db"]))
    elif source == "talkback":
        mixer.talkback(bool(args["on"]))
    else:
        mixer.switch(source, str(args.get("mode", mode)), bool(args["on"]))
    return mixer.state()
