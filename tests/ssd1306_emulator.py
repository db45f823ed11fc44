"""A fake I2C bus with an SSD1306 behind it, written from the datasheet, for the panel tests.

It records every transaction and keeps the display RAM the way the chip would: commands with
their argument counts (datasheet section 9), horizontal and page addressing, the column and page
windows and the pointer's wrap-around. `image()` decodes the RAM back into 64x128 pixels.
"""

from __future__ import annotations

import numpy as np

# Commands followed by argument bytes (SSD1306 datasheet, command table).
ARGS = {
    0x81: 1,  # contrast
    0x20: 1,  # memory addressing mode
    0x21: 2,  # column address window
    0x22: 2,  # page address window
    0xA8: 1,  # multiplex ratio
    0xD3: 1,  # display offset
    0xD5: 1,  # clock divide / oscillator
    0xD9: 1,  # pre-charge period
    0xDA: 1,  # COM pins configuration
    0xDB: 1,  # VCOMH deselect level
    0x8D: 1,  # charge pump
    0x26: 6,  # horizontal scroll set-up
    0x27: 6,
    0x29: 5,
    0x2A: 5,
    0xA3: 2,  # vertical scroll area
}


class FakeSSD1306Bus:
    def __init__(self, address: int = 0x3C) -> None:
        self.address = address
        self.transactions: list[tuple[int, int, bytes]] = []  # (address, control, payload)
        self.commands: list[tuple[int, ...]] = []  # decoded commands with their arguments
        self.ram = np.zeros((8, 128), dtype=np.uint8)
        self.mode = 2  # page addressing at reset
        self.col_window = (0, 127)
        self.page_window = (0, 7)
        self.col = 0
        self.page = 0
        self.on = False
        self.fail: OSError | None = None
        self.closed = False
        self._pending: list[int] = []

    def write_i2c_block_data(self, address: int, control: int, data: list[int]) -> None:
        if self.fail is not None:
            raise self.fail
        assert len(data) <= 32, "SMBus block writes carry at most 32 bytes"
        assert all(0 <= b <= 255 for b in data)
        self.transactions.append((address, control, bytes(data)))
        if address != self.address:
            raise OSError(121, "Remote I/O error")
        if control == 0x00:
            for byte in data:
                self._command_byte(byte)
        elif control == 0x40:
            for byte in data:
                self._data_byte(byte)
        else:
            raise AssertionError(f"unexpected control byte {control:#04x}")

    def close(self) -> None:
        self.closed = True

    def _command_byte(self, byte: int) -> None:
        self._pending.append(byte)
        head = self._pending[0]
        if len(self._pending) - 1 < ARGS.get(head, 0):
            return
        command = tuple(self._pending)
        self._pending = []
        self.commands.append(command)
        if head == 0x20:
            self.mode = command[1] & 0x03
        elif head == 0x21:
            self.col_window = (command[1] & 0x7F, command[2] & 0x7F)
            self.col = self.col_window[0]
        elif head == 0x22:
            self.page_window = (command[1] & 0x07, command[2] & 0x07)
            self.page = self.page_window[0]
        elif 0xB0 <= head <= 0xB7:
            self.page = head & 0x07
        elif head <= 0x0F:
            self.col = (self.col & 0xF0) | head
        elif 0x10 <= head <= 0x1F:
            self.col = (self.col & 0x0F) | ((head & 0x0F) << 4)
        elif head in (0xAE, 0xAF):
            self.on = head == 0xAF

    def _data_byte(self, byte: int) -> None:
        self.ram[self.page, self.col] = byte
        if self.mode == 0:  # horizontal: column, then page, inside the windows
            if self.col >= self.col_window[1]:
                self.col = self.col_window[0]
                self.page = (
                    self.page + 1 if self.page < self.page_window[1] else self.page_window[0]
                )
            else:
                self.col += 1
        elif self.mode == 2:  # page: column only, wraps within the page
            self.col = (self.col + 1) % 128
        else:
            raise AssertionError("vertical addressing is not used by stagebox")

    def image(self) -> np.ndarray:
        """The RAM as pixels: row r, column c = bit (r % 8) of RAM page r // 8, column c."""
        bits = (self.ram[:, None, :] >> np.arange(8, dtype=np.uint8)[None, :, None]) & 1
        return bits.reshape(64, 128)

    def data_pages_since(self, index: int) -> set[int]:
        """Pages that received data in transactions from `index` on (per the page windows)."""
        pages = set()
        window = None
        for _, control, payload in self.transactions[index:]:
            if control == 0x00 and 0x22 in payload:
                i = payload.index(0x22)
                window = (payload[i + 1], payload[i + 2])
            elif control == 0x40 and window is not None:
                pages.update(range(window[0], window[1] + 1))
        return pages
