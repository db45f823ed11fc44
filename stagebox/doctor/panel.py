"""The front panel: the OLED answering on its I2C bus at its address."""

from __future__ import annotations

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, SKIP, Result


def check_panel(ctx: Context) -> Result:
    p = ctx.cfg.panel
    if not p.enabled:
        return Result("front panel", SKIP, "panel.enabled = false")
    from stagebox.panel.ssd1306 import PanelError

    node = f"/dev/i2c-{p.i2c_bus}"
    if not ctx.machine.path(node).exists():
        return Result(
            "front panel",
            FAIL,
            f"no {node}: I2C is off",
            "dtparam=i2c_arm=on in config.txt and the i2c-dev module "
            "(/etc/modules-load.d/stagebox-i2c.conf, install.sh), then reboot",
        )
    device = ctx.open_panel(ctx.cfg)
    try:
        device.open()  # the init sequence: every byte acknowledged, or an error
        from stagebox.panel.framebuffer import Framebuffer

        fb = Framebuffer()
        fb.draw_text(0, 0, "STAGEBOX DOCTOR", scale=1)
        device.show(fb)
    except PanelError as exc:
        return Result(
            "front panel",
            FAIL,
            str(exc),
            "check SDA/SCL/3.3 V/GND and the address (i2cdetect -y 1), and panel.controller",
        )
    finally:
        device.close()
    return Result(
        "front panel",
        PASS,
        f"{p.controller.upper()} answers on {node} at 0x{p.address:02X}",
        data={"bus": p.i2c_bus, "address": p.address, "controller": p.controller},
    )
