"""`stagebox review`: play a take back against picture, chasing the LTC (asks the service).

stagebox review                 what is under review
stagebox review 103 2           cue 103's take 2 (cue 103 made current), review mode
stagebox review 103             cue 103's take as chosen before, else the last
stagebox review --last|--circled   the current cue's last / circled take (and every cue's
                                from now on)
stagebox review next|previous   the current cue's next / previous take
"""

from __future__ import annotations

import argparse

from stagebox.cli import CLIError, remote
from stagebox.termtext import printable

STEPS = ("next", "previous")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review", help="play a take back locked to picture: CUE TAKE, --last, --circled, next"
    )
    p.add_argument(
        "target", nargs="*", metavar="CUE [TAKE] | next | previous", help="the take to review"
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--last", action="store_true", help="the cue's last take (the default)")
    which.add_argument("--circled", action="store_true", help="the cue's circled take")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    remote.add_socket_option(p)
    p.set_defaults(func=run)


def request(args: argparse.Namespace) -> dict:
    """The control request the command line asks for (CLIError for a bad one)."""
    target = list(args.target)
    policy = "last" if args.last else "circled" if args.circled else None
    if len(target) > 2:
        raise CLIError("review takes at most a cue and a take number, e.g. review 103 2")
    if target and target[0] in STEPS:
        if len(target) > 1 or policy:
            raise CLIError(f"review {target[0]} takes nothing else")
        return {"which": target[0]}
    out: dict = {}
    if target:
        out["cue"] = target[0]
    if len(target) == 2:
        if policy:
            raise CLIError("review: give a take number or --last/--circled, not both")
        try:
            take = int(target[1])
        except ValueError:
            raise CLIError(f"review: take must be a number, not {target[1]!r}") from None
        if take < 1:
            raise CLIError(f"review: take must be 1 or more, not {take}")
        out["take"] = take
    elif policy:
        out["which"] = policy
    return out


def run(args: argparse.Namespace) -> int:
    state = remote.call(args, "review", request(args))
    if args.json:
        remote.print_json(state)
        return 0
    shown = state.get("review") or "nothing"
    print(f"review: {printable(shown)} (mode {state.get('mode')}, {state.get('policy')} take)")
    if state.get("file"):
        print(f"file: {printable(state['file'])}, TC-in {state.get('tc_in')}")
    return 0
