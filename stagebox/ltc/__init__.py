"""LTC (SMPTE 12M linear timecode): the frame, the encoder and the decoder.

A small signal core in the manner of libltc: numpy blocks in with their absolute sample
position, frames out with theirs. Nothing here knows of ALSA, files or threads.

The names below are imported on first use: `stagebox ltc decode` loads the decoder, not the
encoder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagebox.lazy import lazy_names

# name -> the module that defines it
_HOMES = {
    "LTCDecoder": "stagebox.ltc.decoder",
    "decode_all": "stagebox.ltc.decoder",
    "LTCEncoder": "stagebox.ltc.encoder",
    "generate": "stagebox.ltc.encoder",
    "LTCFrame": "stagebox.ltc.frame",
}

__all__ = ["LTCDecoder", "LTCEncoder", "LTCFrame", "decode_all", "generate"]

if TYPE_CHECKING:
    from stagebox.ltc.decoder import LTCDecoder, decode_all
    from stagebox.ltc.encoder import LTCEncoder, generate
    from stagebox.ltc.frame import LTCFrame


__getattr__ = lazy_names(globals(), _HOMES)
