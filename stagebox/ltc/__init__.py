"""LTC (SMPTE 12M linear timecode): the frame, the encoder and the decoder.

A small signal core in the manner of libltc: numpy blocks in with their absolute sample
position, frames out with theirs. Nothing here knows of ALSA, files or threads.
"""

from stagebox.ltc.decoder import LTCDecoder, decode_all
from stagebox.ltc.encoder import LTCEncoder, generate
from stagebox.ltc.frame import LTCFrame

__all__ = ["LTCDecoder", "LTCEncoder", "LTCFrame", "decode_all", "generate"]
