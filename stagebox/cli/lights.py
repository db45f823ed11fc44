"""`stagebox lights test|off`: check the lamp wiring, and darken every lamp.

`lights test` is for the installer: each lamp on for a second in pin-map order, then all on,
then all off, saying what it does. The running service owns the GPIO, so `lights test` asks it
first (it refuses unless the stage is in safe mode); only when nothing answers on the control
socket does it drive the pins itself, and it says which it did. `--backend` names a backend to
drive directly: `sim` always, `rpigpio` only while the service is stopped.

`lights off` is what the service unit runs as ExecStopPost: after a process death that
skipped every `finally` (SIGKILL, OOM), the pins would otherwise stay as last set.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from stagebox.cli import CLIError, remote
from stagebox.cli.argtypes import number
from stagebox.control.client import ControlClient, NotRunning
from stagebox.control.protocol import ControlError
from stagebox.signals import sigterm_exits

if TYPE_CHECKING:
    from stagebox.gpio.backend import GPIOBackend
    from stagebox.gpio.lamps import Lamps
    from stagebox.gpio.pinmap import PinMap

# The GPIO backends by name (gpio.backend.BACKENDS; a test checks they agree). Named here so
# that `lights test` answered by the running service imports no GPIO code at all.
BACKEND_NAMES = ("rpigpio", "sim")


def register(sub: argparse._SubParsersAction) -> None:
    lights = sub.add_parser("lights", help="test the cue/record lamps, or switch them all off")
    cmds = lights.add_subparsers(dest="lights_command", metavar="ACTION")
    cmds.required = True

    def common(p: argparse.ArgumentParser, default: str | None = "rpigpio") -> None:
        p.add_argument(
            "--backend",
            default=default,
            choices=BACKEND_NAMES,
            help="GPIO backend to drive directly (default rpigpio; sim runs anywhere)",
        )
        p.add_argument(
            "--pinmap", metavar="FILE", help="pin map TOML (default: the config's [lights] pinmap)"
        )
        p.add_argument(
            "--config", metavar="FILE", help="config whose [lights] to use (default: the service's)"
        )

    test = cmds.add_parser(
        "test",
        help="light each lamp in turn, then all, then none (through the service if it runs)",
    )
    common(test, default=None)
    test.add_argument(
        "--seconds",
        type=number,
        default=1.0,
        metavar="S",
        help="time each step is held when driving the pins directly",
    )
    remote.add_socket_option(test)
    test.set_defaults(func=run_test)

    off = cmds.add_parser("off", help="switch every lamp off (the service's ExecStopPost)")
    common(off)
    off.set_defaults(func=run_off)


def _configured_pinmap(args: argparse.Namespace) -> str | None:
    """The pin map the service uses: `--pinmap`, else the config's `[lights] pinmap`, else
    the default pin map of the config's audio HAT (`audio.hat`).

    `lights off` runs after the service stopped, possibly because its config is bad: then the
    pin map shipped for the HAT the file names (when it names a known one) is used, with a
    warning, rather than leaving the lamps as they were; on a Pisound the default map's pins
    are the HAT's own.
    """
    if args.pinmap:
        return args.pinmap
    from stagebox.config import ConfigError, load_config
    from stagebox.config.loader import config_path
    from stagebox.hats import DEFAULT_HAT, PROFILES, default_pinmap_path, pinmap_path

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        hat = _hat_named_in(config_path(args.config)[0])
        hat = hat if hat in PROFILES else DEFAULT_HAT
        shipped = default_pinmap_path(hat)
        print(f"warning: {exc}\nusing the pin map shipped for {hat}: {shipped}", file=sys.stderr)
        return str(shipped)
    return str(pinmap_path(cfg))


def _hat_named_in(path) -> str | None:
    """`[audio] hat` as written in a config file that may be invalid elsewhere."""
    import tomllib

    try:
        hat = tomllib.loads(path.read_text(encoding="utf-8")).get("audio", {}).get("hat")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return hat if isinstance(hat, str) else None


def _open(args: argparse.Namespace) -> tuple[PinMap, GPIOBackend]:
    from stagebox.gpio.backend import GPIOError, open_backend
    from stagebox.gpio.pinmap import PinMapError, load_pinmap

    try:
        pinmap = load_pinmap(_configured_pinmap(args))
    except PinMapError as exc:
        raise CLIError(str(exc)) from None
    try:
        backend = open_backend(args.backend)
    except GPIOError as exc:
        raise CLIError(str(exc)) from None
    return pinmap, backend


def _describe(pinmap: PinMap, name: str) -> str:
    pin = pinmap.lamps[name]
    return f"{name} ({pin.label}; GPIO {pin.bcm}, header pin {pin.header}, active {pin.active})"


def lights_test(
    lamps: Lamps,
    pinmap: PinMap,
    seconds: float,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Each lamp on for `seconds` in order, then all on, then all off; printed as it goes."""
    try:
        for name in lamps.names:
            print(f"on:  {_describe(pinmap, name)}", file=out, flush=True)
            lamps.set(name, True)
            sleep(seconds)
            lamps.set(name, False)
            print(f"off: {name}", file=out, flush=True)
        print(f"all on: {', '.join(lamps.names)}", file=out, flush=True)
        for name in lamps.names:
            lamps.set(name, True)
        sleep(seconds)
    finally:
        lamps.all_off()
        print("all off", file=out, flush=True)


SERVICE_TEST_TIMEOUT = 60.0  # seconds: the service holds each lamp for a while before answering


def run_test(args: argparse.Namespace) -> int:
    if not 0 <= args.seconds <= 60:
        raise CLIError(f"--seconds {args.seconds} is outside 0..60")
    if args.backend != "sim" and _service_ran_test(args):
        return 0
    if args.backend is None:
        args.backend = "rpigpio"
    from stagebox.gpio.backend import GPIOError
    from stagebox.gpio.lamps import Lamps

    pinmap, backend = _open(args)
    with backend, sigterm_exits():
        try:
            lamps = Lamps(backend, pinmap)
            lights_test(lamps, pinmap, args.seconds, sys.stdout)
        except GPIOError as exc:
            raise CLIError(str(exc)) from None
    return 0


def _service_ran_test(args: argparse.Namespace) -> bool:
    """Ask the running service to cycle its lamps; False when no service answers.

    With `--backend rpigpio` a running service is an error: two owners of the same pins.
    """
    client = ControlClient(remote.socket_path(args), timeout=SERVICE_TEST_TIMEOUT)
    try:
        try:
            client.connect()
        except NotRunning:
            if args.backend is None:
                print(
                    f"stagebox is not running (nothing answers at {client.path}): "
                    "driving the lamps directly (rpigpio)",
                    flush=True,
                )
            return False
        except ControlError as exc:
            raise CLIError(str(exc)) from None
        if args.backend is not None:
            raise CLIError(
                f"stagebox is running and owns the GPIO: drop --backend {args.backend} to "
                "test through it, or stop it first (sudo systemctl stop stagebox)"
            )
        print(f"stagebox is running ({client.path}): the service cycles its lamps", flush=True)
        result = remote.ask(client, "lights.test")
    finally:
        client.close()
    for step in result.get("steps", []) if isinstance(result, dict) else []:
        print(step)
    return True


def run_off(args: argparse.Namespace) -> int:
    from stagebox.gpio.backend import GPIOError
    from stagebox.gpio.lamps import Lamps

    pinmap, backend = _open(args)
    with backend:
        try:
            # Claiming each lamp drives it dark from the first instant; then say so again.
            lamps = Lamps(backend, pinmap)
            lamps.all_off()
        except GPIOError as exc:
            raise CLIError(str(exc)) from None
    for name in lamps.names:
        print(f"off: {_describe(pinmap, name)}")
    return 0
