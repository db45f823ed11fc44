"""The doctor's checks in the order an installer works through a stage, and running them."""

from __future__ import annotations

from collections.abc import Callable

from stagebox.doctor import audio, daw, disk, display, gpio, hat, panel, sandbox, system
from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, Result

# name -> check; names are what `--only`/`--skip` take.
CHECKS: dict[str, Callable[[Context], Result]] = {
    "model": system.check_model,
    "os": system.check_os,
    "kernel": system.check_kernel,
    "gpio-library": system.check_gpio_library,
    "overlay": hat.check_overlay,
    "card": hat.check_card,
    "audio": audio.check_audio_open,
    "ltc": audio.check_ltc,
    "latency": audio.check_latency,
    "gpio-lines": gpio.check_gpio_lines,
    "lamps": gpio.check_lamps,
    "buttons": gpio.check_buttons,
    "panel": panel.check_panel,
    "display": display.check_display,
    "daw": daw.check_daw,
    "disk": disk.check_disk,
    "sandbox": sandbox.check_sandbox,
}


def run_checks(
    ctx: Context,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run the chosen checks in order; an unexpected error in one is its FAIL, not a crash."""
    names = [n for n in CHECKS if (not only or n in only) and n not in (skip or [])]
    results = []
    for name in names:
        try:
            result = CHECKS[name](ctx)
        except Exception as exc:  # a check that breaks reports it and the others still run
            result = Result(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
