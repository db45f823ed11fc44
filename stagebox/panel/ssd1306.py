"""The real front panel: a 128x64 OLED on I2C (SSD1306 or SH1106), through smbus2.

The two controllers are one class with two command sets (`Controller`), the way luma.oled
keeps its devices behind one interface. Both take the same control bytes and keep the same
RAM layout (8 pages, a byte per column, LSB at the top); they differ in how a write is
addressed:

- SSD1306 (0.96-inch modules): 128 columns of RAM. After the init sequence it is in
  horizontal addressing mode, so an update sets a column window (0x21) and a page window
  (0x22) and streams only the bytes inside them (SSD1306 datasheet, Solomon Systech rev 1.5,
  section 10.1).
- SH1106 (most 1.3-inch modules): 132 columns of RAM of which the glass shows columns 2-129,
  and page addressing only: no 0x20/0x21/0x22, so the SSD1306's commands draw garbage. An
  update selects the page (0xB0 + page) and the start column in two nibbles (0x00 + low,
  0x10 + high), shifted by the column offset of 2, then streams that page's bytes (SH1106
  datasheet, Sino Wealth V2.3, commands 1-3 and 12).

smbus2 is imported when the device is opened, and only if no bus object was injected (tests
inject a fake bus that records what is written, the way luma.core's `interface/serial.py`
does). Every I2C write is one transaction starting with a control byte: 0x00 for a stream of
commands, 0x40 for a stream of display RAM data (SSD1306 datasheet 8.1.5.1: Co = 0, D/C#;
the SH1106 reads the same control byte). Writes are SMBus block writes of at most 32 bytes,
which every I2C adapter supports. Each refresh sends just the pages, and within them the
columns, that changed since the last one.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass

from stagebox.panel.framebuffer import PAGES, WIDTH, Framebuffer

DEFAULT_BUS = 1  # /dev/i2c-1: the I2C on header pins 3 and 5 (GPIO 2, 3)
DEFAULT_ADDRESS = 0x3C  # 0x3D when the module's SA0 pad is tied high
CONTROL_COMMANDS = 0x00  # control byte: Co = 0, D/C# = 0
CONTROL_DATA = 0x40  # control byte: Co = 0, D/C# = 1
BLOCK = 32  # bytes: the SMBus block-write limit

# SSD1306 datasheet (Solomon Systech rev 1.5) section 9 and the application note's init flow.
SSD1306_INIT: tuple[tuple[int, ...], ...] = (
    (0xAE,),  # display off while configuring
    (0xD5, 0x80),  # display clock: divide ratio 1, oscillator at the reset value
    (0xA8, 0x3F),  # multiplex ratio: 64 rows (value + 1)
    (0xD3, 0x00),  # display offset: none
    (0x40,),  # display start line 0
    (0x8D, 0x14),  # charge pump on: the modules make the panel voltage from 3.3 V
    (0x20, 0x00),  # horizontal addressing: the RAM pointer runs column, then page
    (0xA1,),  # segment remap: column 127 drives SEG0 (how the modules are mounted)
    (0xC8,),  # COM scan from COM63 to COM0 (with A1: the image is upright)
    (0xDA, 0x12),  # COM pins: alternative configuration, no left/right remap (128x64 glass)
    (0x81, 0xCF),  # contrast
    (0xD9, 0xF1),  # pre-charge: phase 1 = 1 DCLK, phase 2 = 15 DCLK (internal charge pump)
    (0xDB, 0x20),  # VCOMH deselect level ~0.77 x VCC (the reset value)
    (0xA4,),  # display follows the RAM
    (0xA6,),  # normal, not inverted
    (0x2E,),  # scrolling off
    (0xAF,),  # display on
)
INIT_SEQUENCE = SSD1306_INIT  # the name the tests and older code use

# SH1106 datasheet (Sino Wealth V2.3), command table: the same layout, its own commands.
SH1106_INIT: tuple[tuple[int, ...], ...] = (
    (0xAE,),  # display off while configuring
    (0xD5, 0x80),  # display clock: divide ratio 1, oscillator frequency +15 %
    (0xA8, 0x3F),  # multiplex ratio: 64 rows
    (0xD3, 0x00),  # display offset: none
    (0x40,),  # display start line 0
    (0xAD, 0x8B),  # DC-DC converter on (the modules make the panel voltage from 3.3 V)
    (0x32,),  # pump voltage 8.0 V (the reset value)
    (0xA1,),  # segment remap: column 131 drives SEG0 (how the modules are mounted)
    (0xC8,),  # COM scan from COM63 to COM0 (with A1: the image is upright)
    (0xDA, 0x12),  # common pads: alternative configuration (128x64 glass)
    (0x81, 0xCF),  # contrast
    (0xD9, 0x22),  # discharge / pre-charge: 2 DCLK each (the reset value)
    (0xDB, 0x35),  # VCOM deselect level (the reset value)
    (0xA4,),  # display follows the RAM
    (0xA6,),  # normal, not inverted
    (0xAF,),  # display on
)
SH1106_COLUMN_OFFSET = 2  # RAM column shown at the glass's left edge (132-column RAM)


@dataclass(frozen=True)
class Controller:
    """One OLED controller's command set: its init sequence and how a write is addressed."""

    name: str
    init: tuple[tuple[int, ...], ...]
    # (page, first column, last column) -> the commands that put the RAM pointer there
    window: Callable[[int, int, int], tuple[int, ...]]


def _ssd1306_window(page: int, first: int, last: int) -> tuple[int, ...]:
    return (0x21, first, last, 0x22, page, page)


def _sh1106_window(page: int, first: int, last: int) -> tuple[int, ...]:
    column = first + SH1106_COLUMN_OFFSET
    return (0xB0 | page, column & 0x0F, 0x10 | (column >> 4))


CONTROLLERS = {
    "ssd1306": Controller("ssd1306", SSD1306_INIT, _ssd1306_window),
    "sh1106": Controller("sh1106", SH1106_INIT, _sh1106_window),
}


class PanelError(RuntimeError):
    """The front panel cannot be reached or driven; the message names bus and address."""


class DeviceNotFoundError(PanelError):
    """No I2C bus, or nothing answering at the address."""


class DevicePermissionError(PanelError, PermissionError):
    """The I2C bus device exists but this user may not open it."""


class OLED:
    """A 128x64 OLED on I2C. `bus`: an smbus2.SMBus-like object, or None to open one;
    `controller`: "ssd1306" (0.96-inch modules) or "sh1106" (most 1.3-inch modules)."""

    def __init__(
        self,
        bus=None,
        bus_number: int = DEFAULT_BUS,
        address: int = DEFAULT_ADDRESS,
        controller: str = "ssd1306",
    ):
        if not 0x03 <= address <= 0x77:
            raise PanelError(f"I2C address 0x{address:02X} is outside 0x03..0x77")
        if controller not in CONTROLLERS:
            raise PanelError(
                f"unknown OLED controller {controller!r} (controllers: {', '.join(CONTROLLERS)})"
            )
        self.controller = CONTROLLERS[controller]
        self.bus_number = bus_number
        self.address = address
        self._bus = bus
        self._owns_bus = bus is None
        self._shown: bytes | None = None  # what the display RAM holds, as far as we know
        self.ready = False

    @property
    def describe(self) -> str:
        return (
            f"{self.controller.name.upper()} on I2C bus {self.bus_number} "
            f"(/dev/i2c-{self.bus_number}) address 0x{self.address:02X}"
        )

    def _error(self, exc: OSError, action: str) -> PanelError:
        where = self.describe
        if exc.errno == errno.ENOENT:
            return DeviceNotFoundError(
                f"{where}: no such I2C bus (enable I2C: dtparam=i2c_arm=on in config.txt)"
            )
        if exc.errno in (errno.EACCES, errno.EPERM):
            return DevicePermissionError(
                f"{where}: permission denied (add the service user to the 'i2c' group)"
            )
        if exc.errno in (errno.EREMOTEIO, errno.ENXIO, errno.EIO, errno.ETIMEDOUT):
            return DeviceNotFoundError(
                f"{where}: no device answers (check the OLED's wiring and its address, "
                "0x3C or 0x3D)"
            )
        return PanelError(f"{where}: cannot {action}: {exc.strerror or exc}")

    def open(self) -> None:
        """Open the bus if needed and run the init sequence; the next show() sends everything."""
        self.ready = False
        if self._bus is None:
            try:
                import smbus2
            except ImportError:
                raise PanelError(
                    f"{self.describe}: the front panel needs smbus2 (pip install smbus2)"
                ) from None
            try:
                self._bus = smbus2.SMBus(self.bus_number)
            except OSError as exc:
                raise self._error(exc, "open the bus") from None
        self._shown = None
        self.command(*(byte for command in self.controller.init for byte in command))
        self.ready = True

    def command(self, *data: int) -> None:
        self._write(CONTROL_COMMANDS, bytes(data), "send commands")

    def _write(self, control: int, data: bytes, action: str) -> None:
        try:
            for i in range(0, len(data), BLOCK):
                self._bus.write_i2c_block_data(self.address, control, list(data[i : i + BLOCK]))
        except OSError as exc:
            self.ready = False
            raise self._error(exc, action) from None

    def show(self, fb: Framebuffer) -> int:
        """Send what changed since the last show; returns the number of data bytes sent."""
        if not self.ready:
            self.open()
        pages = fb.to_pages()
        sent = 0
        for page in range(PAGES):
            row = pages[page * WIDTH : (page + 1) * WIDTH]
            if self._shown is None:
                first, last = 0, WIDTH - 1
            else:
                old = self._shown[page * WIDTH : (page + 1) * WIDTH]
                changed = [c for c in range(WIDTH) if row[c] != old[c]]
                if not changed:
                    continue
                first, last = changed[0], changed[-1]
            self.command(*self.controller.window(page, first, last))
            self._write(CONTROL_DATA, row[first : last + 1], "write the display")
            sent += last - first + 1
        self._shown = pages
        return sent

    def close(self) -> None:
        """Blank the display (so a stopped service shows nothing stale) and release the bus."""
        try:
            if self.ready:
                self.command(0xAE)
        except PanelError:
            pass  # the panel went away; nothing to blank
        finally:
            self.ready = False
            if self._owns_bus and self._bus is not None:
                self._bus.close()
                self._bus = None


SSD1306 = OLED  # the class's name from before SH1106 support: an OLED with the default controller
