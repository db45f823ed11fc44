"""Who holds each GPIO line: the kernel's line info from /dev/gpiochipN (GPIO chardev v2).

`GPIO_V2_GET_LINEINFO_IOCTL` (include/uapi/linux/gpio.h) fills a `struct gpio_v2_line_info`:
name[32], consumer[32], offset u32, num_attrs u32, flags u64, attrs[10] (16 bytes each),
padding[4] u32: 256 bytes. `GPIO_V2_LINE_FLAG_USED` (bit 0) says the line is requested by a
driver or a program; `consumer` says who ("lg" for lgpio, "pisound_button", a kernel driver's
name). `GPIO_GET_CHIPINFO_IOCTL` fills a `struct gpiochip_info`: name[32], label[32], lines
u32 (68 bytes); the label tells the header's chip ("pinctrl-bcm2711" on a Pi 4,
"pinctrl-rp1" on a Pi 5) from the others (the firmware's expander, a HAT's).
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass

_IOC_WRITE, _IOC_READ = 1, 2


def _ioc(direction: int, number: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xB4 << 8) | number


LINE_INFO_SIZE = 256
CHIP_INFO_SIZE = 68
GPIO_GET_CHIPINFO_IOCTL = _ioc(_IOC_READ, 0x01, CHIP_INFO_SIZE)
GPIO_V2_GET_LINEINFO_IOCTL = _ioc(_IOC_READ | _IOC_WRITE, 0x05, LINE_INFO_SIZE)
FLAG_USED = 1 << 0
FLAG_OUTPUT = 1 << 3
HEADER_CHIPS = ("pinctrl-bcm2711", "pinctrl-bcm2835", "pinctrl-rp1")


@dataclass(frozen=True)
class LineInfo:
    offset: int
    name: str
    consumer: str  # "" when free
    used: bool
    output: bool


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def chip_label(path: str) -> tuple[str, int]:
    """(label, number of lines) of the chip at `path`."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        buf = bytearray(CHIP_INFO_SIZE)
        fcntl.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, buf, True)
    finally:
        os.close(fd)
    return _cstr(bytes(buf[32:64])), struct.unpack_from("<I", buf, 64)[0]


def parse_line_info(buf: bytes) -> LineInfo:
    offset, _attrs, flags = struct.unpack_from("<IIQ", buf, 64)
    return LineInfo(
        offset,
        _cstr(buf[0:32]),
        _cstr(buf[32:64]),
        bool(flags & FLAG_USED),
        bool(flags & FLAG_OUTPUT),
    )


def read_lines(path: str, offsets: list[int] | None = None) -> dict[int, LineInfo]:
    """Line info of `offsets` (all lines when None) of the chip at `path`."""
    _label, count = chip_label(path)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        out = {}
        for offset in offsets if offsets is not None else range(count):
            buf = bytearray(LINE_INFO_SIZE)
            struct.pack_into("<I", buf, 64, offset)
            fcntl.ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, buf, True)
            out[offset] = parse_line_info(bytes(buf))
        return out
    finally:
        os.close(fd)


def header_chip(dev: str = "/dev") -> str | None:
    """The /dev/gpiochipN that carries the 40-pin header's GPIOs, or None."""
    chips = sorted(p for p in os.listdir(dev) if p.startswith("gpiochip"))
    for chip in chips:
        try:
            if chip_label(os.path.join(dev, chip))[0] in HEADER_CHIPS:
                return os.path.join(dev, chip)
        except OSError:
            continue
    return None
