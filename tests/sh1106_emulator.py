"""A fake I2C bus with an SH1106 behind it, written from its datasheet, for the panel tests.

The SH1106 (Sino Wealth datasheet V2.3, command table) has 132 columns of display RAM, of
which a 128-pixel glass shows columns 2-129, and page addressing only: the RAM pointer is set
by a page command (0xB0-0xB7) and the column in two nibbles (0x00-0x0F low, 0x10-0x1F high),
and advances one column per data byte. It has no addressing modes and no column or page
windows: the SSD1306's 0x20/0x21/0x22 are not SH1106 commands, so this emulator refuses any
byte that is not in the SH1106's table (a driver sending SSD1306 commands fails here, as it
draws garbage on the glass).
"""

from __future__ import annotations

import numpy as np

RAM_COLUMNS = 132
VISIBLE = slice(2, 130)  # RAM columns the 128-pixel glass shows

# Commands followed by one argument byte (SH1106 datasheet, commands 9, 10, 13, 15, 16-19).
ARGS = {0x81: 1, 0xA8: 1, 0xAD: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1}
SINGLE = {0xA0, 0xA1, 0xA4, 0xA5, 0xA6, 0xA7, 0xAE, 0xAF, 0xC0, 0xC8, 0xE0, 0xE3, 0xEE}


def is_command(byte: int) -> bool:
    return (
        byte <= 0x1F  # column address, low and high nibbles
        or 0x30 <= byte <= 0x33  # pump voltage
        or 0x40 <= byte <= 0x7F  # display start line
        or 0xB0 <= byte <= 0xB7  # page address
        or byte in ARGS
        or byte in SINGLE
    )


class FakeSH1106Bus:
    def __init__(self, address: int = 0x3C) -> None:
        self.address = address
        self.transactions: list[tuple[int, int, bytes]] = []
        self.commands: list[tuple[int, ...]] = []
        self.ram = np.zeros((8, RAM_COLUMNS), dtype=np.uint8)
        self.col = 0
        self.page = 0
        self.on = False
        self.closed = False
        self._pending: list[int] = []

    def write_i2c_block_data(self, address: int, control: int, data: list[int]) -> None:
        assert len(data) <= 32, "SMBus block writes carry at most 32 bytes"
        self.transactions.append((address, control, bytes(data)))
        if address != self.address:
            raise OSError(121, "Remote I/O error")
        if control == 0x00:
            for byte in data:
                self._command_byte(byte)
        elif control == 0x40:
            for byte in data:
                assert self.col < RAM_COLUMNS, "data past the last RAM column"
                self.ram[self.page, self.col] = byte
                self.col += 1
        else:
            raise AssertionError(f"unexpected control byte {control:#04x}")

    def close(self) -> None:
        self.closed = True

    def _command_byte(self, byte: int) -> None:
        if not self._pending:
            assert is_command(byte), f"{byte:#04x} is not an SH1106 command"
        self._pending.append(byte)
        head = self._pending[0]
        if len(self._pending) - 1 < ARGS.get(head, 0):
            return
        command = tuple(self._pending)
        self._pending = []
        self.commands.append(command)
        if 0xB0 <= head <= 0xB7:
            self.page = head & 0x07
        elif head <= 0x0F:
            self.col = (self.col & 0xF0) | head
        elif head <= 0x1F:
            self.col = (self.col & 0x0F) | ((head & 0x0F) << 4)
        elif head in (0xAE, 0xAF):
            self.on = head == 0xAF

    def image(self) -> np.ndarray:
        """What the glass shows: RAM columns 2-129 as 64x128 pixels."""
        ram = self.ram[:, VISIBLE]
        bits = (ram[:, None, :] >> np.arange(8, dtype=np.uint8)[None, :, None]) & 1
        return bits.reshape(64, 128)
