"""The lamps and buttons: each line free, each lamp cycled, each button pressed in time."""

from __future__ import annotations

import threading

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, SKIP, WARN, Result
from stagebox.gpio.backend import GPIOError
from stagebox.gpio.pinmap import PinMapError, load_pinmap
from stagebox.hats import pinmap_path

LAMP_SECONDS = 0.5  # seconds each lamp is lit in the cycle


def _pinmap(ctx: Context):
    return load_pinmap(pinmap_path(ctx.cfg))


def check_gpio_lines(ctx: Context) -> Result:
    """No other consumer holds a lamp's or a button's line (the kernel's line info)."""
    if ctx.cfg.lights.backend != "rpigpio":
        return Result("gpio lines", SKIP, f"lights.backend = {ctx.cfg.lights.backend!r}")
    try:
        pinmap = _pinmap(ctx)
        lines = ctx.line_info(ctx.machine)
    except PinMapError as exc:
        return Result("gpio lines", FAIL, str(exc), "fix the pin map (stagebox config check)")
    except OSError as exc:
        why = exc.strerror or str(exc)
        denied = isinstance(exc, PermissionError)
        return Result(
            "gpio lines",
            FAIL,
            f"cannot read the GPIO line info: {why}",
            "add the user to the 'gpio' group (sudo usermod -aG gpio $USER, log in again)"
            if denied
            else "run doctor on the stage's Pi (a bookworm kernel has /dev/gpiochip*)",
        )
    held, ours = [], []
    for pin in pinmap.pins:
        if pin.function == "i2c":
            continue
        info = lines.get(pin.bcm)
        if info is None or not info.used:
            continue
        text = f"GPIO {pin.bcm} ({pin.name}) is held by {info.consumer or 'a kernel driver'!r}"
        (ours if info.consumer == "lg" else held).append(text)
    data = {"held": held, "lgpio": ours}
    if held:
        return Result(
            "gpio lines",
            FAIL,
            "; ".join(held),
            "a HAT driver or another program owns the line: use the HAT's pin map "
            "(audio.hat) or stop that program",
            data,
        )
    if ours and ctx.service is not None:
        wired = sum(p.function != "i2c" for p in pinmap.pins)
        return Result(
            "gpio lines",
            PASS,
            f"all {wired} lamp and button lines held by the running service (lgpio), no other "
            "consumer",
            data=data,
        )
    if ours:
        return Result(
            "gpio lines",
            WARN,
            "; ".join(ours) + " (lgpio: the stagebox service, or another lgpio program)",
            "stop the service first to check the lines: sudo systemctl stop stagebox",
            data,
        )
    wired = sum(p.function != "i2c" for p in pinmap.pins)
    return Result("gpio lines", PASS, f"all {wired} lamp and button lines free", data=data)


def check_lamps(ctx: Context) -> Result:
    """Each lamp lit in turn; its pin read back, and (interactive) seen by the engineer."""
    from stagebox.gpio.lamps import Lamps

    if ctx.service is not None:
        return _lamps_through_service(ctx)
    try:
        pinmap = _pinmap(ctx)
        backend = ctx.open_gpio(ctx.cfg.lights.backend)
    except (PinMapError, GPIOError) as exc:
        return Result("lamps", FAIL, str(exc), "see the gpio library and gpio lines checks")
    failed, unseen = [], []
    try:
        lamps = Lamps(backend, pinmap)
        for name, pin in pinmap.lamps.items():
            lamps.set(name, True)
            follows = backend.read(pin) == pin.level_for(True)
            if ctx.interactive:
                answer = ctx.ask(f"Is the {pin.label} (GPIO {pin.bcm}) lit now? [y/n] ")
                if not answer.strip().lower().startswith("y"):
                    unseen.append(f"{name} (GPIO {pin.bcm})")
            else:
                ctx.sleep(LAMP_SECONDS)
            lamps.set(name, False)
            if not follows or backend.read(pin) != pin.level_for(False):
                failed.append(f"{name} (GPIO {pin.bcm}) did not follow")
    except GPIOError as exc:
        failed.append(str(exc))
    finally:
        backend.close()
    names = ", ".join(pinmap.lamps)
    if failed:
        return Result("lamps", FAIL, "; ".join(failed), "check the pin map against the wiring")
    if unseen:
        return Result(
            "lamps",
            FAIL,
            f"the pins switched but the engineer did not see {', '.join(unseen)} light",
            "check the driver stage, the lamp supply and the lamp (hardware/wiring.md#lamps)",
        )
    how = "seen lit" if ctx.interactive else "pins followed (use --interactive to confirm)"
    return Result("lamps", PASS, f"{names} cycled: {how}", data={"lamps": list(pinmap.lamps)})


def _lamps_through_service(ctx: Context) -> Result:
    """The service's own lamp test (it owns the pins; it runs only in safe mode)."""
    from stagebox.control.protocol import ControlError

    try:
        ctx.service("lights.test")
    except ControlError as exc:
        return Result(
            "lamps",
            FAIL,
            f"the running service's lamp test: {exc}",
            "stagebox mode safe, then run doctor again (or stop the service)",
        )
    return Result("lamps", PASS, "cycled by the running service (stagebox lights test)")


def check_buttons(ctx: Context) -> Result:
    """Each button pressed by the crew within `button_seconds` (interactive only)."""
    if not ctx.interactive:
        return Result("buttons", SKIP, "needs --interactive (someone presses each button)")
    if ctx.service is not None:
        return Result(
            "buttons",
            SKIP,
            "the running service holds the buttons (its journal logs each press)",
            "sudo systemctl stop stagebox to test each button here",
        )
    try:
        pinmap = _pinmap(ctx)
        backend = ctx.open_gpio(ctx.cfg.lights.backend)
    except (PinMapError, GPIOError) as exc:
        return Result("buttons", FAIL, str(exc), "see the gpio library and gpio lines checks")
    missed, times = [], {}
    try:
        for name, pin in pinmap.buttons.items():
            pressed = threading.Event()

            def on_edge(level: bool, t: float, pin=pin, pressed=pressed) -> None:
                if pin.is_on(level):
                    pressed.set()

            try:
                backend.claim_input(pin, on_edge)
            except GPIOError as exc:
                missed.append(str(exc))
                continue
            start = ctx.clock()
            ctx.say(f"press {pin.label} ({name}, GPIO {pin.bcm}) within {ctx.button_seconds:g} s")
            if pressed.wait(ctx.button_seconds) or pin.is_on(backend.read(pin)):
                times[name] = round(ctx.clock() - start, 2)
            else:
                missed.append(f"{name} (GPIO {pin.bcm}) not pressed in {ctx.button_seconds:g} s")
            backend.release_input(pin)
    finally:
        backend.close()
    if missed:
        return Result(
            "buttons",
            FAIL,
            "; ".join(missed),
            "check the button's wiring to GPIO and ground (hardware/wiring.md#crew-buttons)",
            {"pressed": times},
        )
    return Result("buttons", PASS, f"all {len(times)} buttons pressed", data={"pressed": times})
