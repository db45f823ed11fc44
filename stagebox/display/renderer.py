"""The streamer renderer: one frame of the actor's screen onto any pygame surface.

`StreamerRenderer.render(surface, frames, cue, snapshot)` draws what the actor sees at the
fractional frame count `frames` (the moment the frame is scanned out): the cue number, the
character and the line, the take number, the REC indicator, the countdown, the streamer or the
rhythm band, the punch, and (for the engineer) the timecode and lock state. The surface may be
the HDMI screen, a laptop window or an off-screen surface saved as a PNG; the renderer does not
know which.

Cost per frame: everything that depends only on the cue (header, character, wrapped dialogue)
is drawn once into a cached static layer. Each frame restores from that layer only the
rectangles the previous frame's moving parts covered, then draws the moving parts (streamer,
punch, countdown, footer, REC, band) from cached text surfaces. Positions come from the pure
functions of `stagebox.display.timing`, so they are exact to the pixel and testable.

pygame is imported when a renderer is made, never at module import.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stagebox.cues.cue import Cue
from stagebox.display import timing
from stagebox.display.style import Colour, StreamerStyle, StyleError
from stagebox.display.text import wrap_text
from stagebox.snapshot import StageSnapshot
from stagebox.timecode import Rate, Timecode

if TYPE_CHECKING:
    import pygame

LOCK_COLOURS: dict[str, Colour] = {
    "locked": (60, 220, 100),
    "freewheel": (250, 180, 40),
    "lost": (240, 60, 50),
}
FAULT_COLOUR: Colour = (240, 60, 50)  # takes are not being written
SYNC_COLOURS: dict[str, Colour] = {  # the take line's sync score, by verdict
    "IN SYNC": (60, 220, 100),
    "CHECK WORDS": (250, 180, 40),
    "OUT OF SYNC": (240, 60, 50),
}
_TEXT_CACHE_LIMIT = 512  # rendered strings kept (timecodes change every frame)


def import_pygame() -> Any:
    """pygame, imported on first use and without its banner."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    return pygame


@dataclass(frozen=True)
class Layout:
    """Where things go on a W x H screen, in pixels (derived from the style's fractions)."""

    width: int
    height: int
    margin: int
    bar: int  # streamer width
    header_y: int
    rec_rect: tuple[int, int, int, int]  # x, y, w, h of the REC indicator
    character_y: int  # centre line of the character name
    dialogue_box: tuple[int, int, int, int]  # x, y, w, h the wrapped line is centred in
    band: tuple[int, int, int, int] | None  # rhythm band (rhythm style only)
    sync_x: int  # rhythm sync bar's left edge
    countdown_y: int  # centre line of the countdown
    footer_y: int  # top of the engineer's footer
    punch_centre: tuple[int, int]
    punch_radius: int

    @classmethod
    def for_size(cls, width: int, height: int, style: StreamerStyle) -> Layout:
        r = timing.round_half_up
        margin = r(0.035 * height)
        header_px = r(style.header_size * height)
        rec_h = r(header_px * 1.15)
        rec_w = r(rec_h * 3.0)
        rhythm = style.style == "rhythm"
        side = r(0.06 * width)
        if rhythm:
            dialogue = (side, r(0.26 * height), width - 2 * side, r(0.25 * height))
            band = (0, r(0.55 * height), width, r(0.19 * height))
            countdown_y = r(0.83 * height)
        else:
            dialogue = (side, r(0.27 * height), width - 2 * side, r(0.44 * height))
            band = None
            countdown_y = r(0.795 * height)
        return cls(
            width=width,
            height=height,
            margin=margin,
            bar=timing.bar_width_px(style, width),
            header_y=margin,
            rec_rect=((width - rec_w) // 2, margin, rec_w, rec_h),
            character_y=r(0.195 * height),
            dialogue_box=dialogue,
            band=band,
            sync_x=timing.sync_bar_x(style, width),
            countdown_y=countdown_y,
            footer_y=height - margin - r(style.info_size * height),
            punch_centre=(width // 2, countdown_y),
            punch_radius=r(style.punch_radius * height),
        )


def sync_colour(line: str, style: StreamerStyle) -> Colour:
    """The colour of a sync line ("T3 OUT OF SYNC +3f"): green, amber, red, dim when unjudged."""
    for verdict, colour in SYNC_COLOURS.items():
        if verdict in line:
            return colour
    return style.dim_colour


class StreamerRenderer:
    """Draws frames of one style at one screen size; keeps the caches between frames."""

    def __init__(self, size: tuple[int, int], style: StreamerStyle | None = None) -> None:
        self.pg = import_pygame()
        if not self.pg.font.get_init():
            self.pg.font.init()
        self.style = style or StreamerStyle()
        if self.style.font_path is not None and not os.path.isfile(self.style.font_path):
            raise StyleError(
                f"font_path: {self.style.font_path} is not a file (install the Debian package "
                "fonts-dejavu-core, or set display.style.font_path to a TrueType font)"
            )
        self.width, self.height = size
        if self.width < 64 or self.height < 48:
            raise ValueError(f"screen {self.width}x{self.height} is too small for streamers")
        self.layout = Layout.for_size(self.width, self.height, self.style)
        self._fonts: dict[int, Any] = {}
        self._text_cache: dict[tuple[str, int, Colour, Colour], Any] = {}
        self._static: Any = None  # the cached static layer
        self._static_key: tuple | None = None
        self._target: Any = None  # the surface the previous frame went to
        self._dirty: list[Any] = []  # rects the previous frame's moving parts covered
        self._words_key: tuple | None = None
        self._words: list[tuple[float, Any]] = []  # (offset frames, word surface)
        self._rec: Any = None
        self.take_line = ""  # the take line as last drawn ("T3 IN SYNC 96% +12ms  TAKE 4")

    # -- public -------------------------------------------------------------------------------

    def render(
        self,
        surface: pygame.Surface,
        frames: float | None,
        cue: Cue | None,
        snapshot: StageSnapshot | None = None,
        full: bool = False,
    ) -> list[pygame.Rect]:
        """Draw the frame for fractional frame count `frames` and return the changed rects.

        `frames` counts at the rate of the snapshot's clock when there is one, else at the
        cue's rate; None means no timecode (no streamer, punch or countdown). `full` forces a
        complete redraw (for surfaces whose contents do not persist between presents).
        """
        pg = self.pg
        if surface.get_size() != (self.width, self.height):
            raise ValueError(
                f"surface is {surface.get_width()}x{surface.get_height()}, "
                f"renderer is {self.width}x{self.height}"
            )
        key = self._static_key_for(cue)
        changed: list[Any] = []
        if full or key != self._static_key or surface is not self._target or self._static is None:
            if key != self._static_key or self._static is None:
                self._static = self._build_static(cue, surface)
                self._static_key = key
            surface.blit(self._static, (0, 0))
            changed.append(pg.Rect(0, 0, self.width, self.height))
            self._target = surface
        else:
            for rect in self._dirty:
                surface.blit(self._static, rect, rect)
            changed.extend(self._dirty)
        self._dirty = self._draw_moving(surface, frames, cue, snapshot)
        changed.extend(self._dirty)
        return changed

    # -- static layer -------------------------------------------------------------------------

    def _static_key_for(self, cue: Cue | None) -> tuple:
        return (cue,)

    def _build_static(self, cue: Cue | None, target: pygame.Surface) -> pygame.Surface:
        pg = self.pg
        style, lay = self.style, self.layout
        layer = pg.Surface((self.width, self.height), 0, target)
        layer.fill(style.background)
        if lay.band is not None:
            layer.fill(style.band_colour, pg.Rect(lay.band))
        header_px = self._px(style.header_size)
        info_px = self._px(style.info_size)
        if cue is None:
            text = self._text("NO CUE", self._px(style.dialogue_size), style.dim_colour)
            layer.blit(text, text.get_rect(center=(self.width // 2, self.height // 2)))
            return layer
        number = self._text(f"CUE {cue.number}", header_px, style.text_colour)
        layer.blit(number, (lay.margin, lay.header_y))
        parts = []
        if cue.reel:
            parts.append(f"REEL {cue.reel}")
        if cue.scene:
            parts.append(f"SC {cue.scene}")
        where = "   ".join(parts)
        if where:
            sub = self._text(where, info_px, style.dim_colour)
            layer.blit(sub, (lay.margin, lay.header_y + number.get_height()))
        if cue.character:
            name = self._text(
                cue.character.upper(), self._px(style.character_size), style.character_colour
            )
            layer.blit(name, name.get_rect(center=(self.width // 2, lay.character_y)))
        x, y, w, h = lay.dialogue_box
        if cue.original and style.show_original:
            # Dubbing: the line to record large, the original under it, small and dim.
            line_h = h * 7 // 10
            self._draw_dialogue(layer, cue.dialogue, (x, y, w, line_h))
            self._draw_dialogue(
                layer,
                cue.original,
                (x, y + line_h, w, h - line_h),
                px=self._px(style.dialogue_size * 0.5),
                colour=style.dim_colour,
            )
        else:
            self._draw_dialogue(layer, cue.dialogue, lay.dialogue_box)
        return layer

    def _draw_dialogue(
        self,
        layer: pygame.Surface,
        dialogue: str,
        box: tuple[int, int, int, int],
        px: int | None = None,
        colour: Colour | None = None,
    ) -> None:
        """A line, wrapped and centred in `box` (x, y, w, h); shrinks until it fits."""
        x, y, w, h = box
        px = px or self._px(self.style.dialogue_size)
        colour = colour or self.style.text_colour
        smallest = max(10, px * 2 // 5)
        while True:
            font = self._font(px)
            lines = wrap_text(dialogue, w, lambda s, f=font: f.size(s)[0])
            step = font.get_linesize()
            if len(lines) * step <= h or px <= smallest:
                break
            px = max(smallest, px * 9 // 10)
        lines = lines[: max(1, h // step)]
        top = y + (h - len(lines) * step) // 2
        for i, line in enumerate(lines):
            if not line:
                continue
            text = self._text(line, px, colour)
            layer.blit(text, text.get_rect(midtop=(x + w // 2, top + i * step)))

    # -- moving parts -------------------------------------------------------------------------

    def _draw_moving(
        self,
        surface: pygame.Surface,
        frames: float | None,
        cue: Cue | None,
        snapshot: StageSnapshot | None,
    ) -> list[pygame.Rect]:
        pg = self.pg
        style, lay = self.style, self.layout
        mode = snapshot.mode if snapshot else "safe"
        colour = style.colour_for(mode)
        drawn: list[Any] = []
        clock_rate = snapshot.clock.rate if snapshot and snapshot.clock else None

        if snapshot is not None and snapshot.recording:
            drawn.append(surface.blit(self._rec_pill(), lay.rec_rect[:2]))
        line = []
        if snapshot is not None and snapshot.take is not None:
            px = self._px(style.header_size)
            label = f"TAKE {snapshot.take}"
            if snapshot.mode == "review":  # the take playing back against the picture
                label = f"REVIEW {label}"
            take = self._text(label, px, style.text_colour)
            rect = take.get_rect(topright=(self.width - lay.margin, lay.header_y))
            drawn.append(surface.blit(take, rect))
            line.append(label)
            if style.show_sync and snapshot.sync:
                # The last take's sync, under the take number (`display.show_sync`), clear
                # of the REC pill in the middle of the header.
                info = self._px(style.info_size)
                sync = self._text(snapshot.sync, info, sync_colour(snapshot.sync, style))
                at = sync.get_rect(topright=(self.width - lay.margin, rect.bottom))
                drawn.append(surface.blit(sync, at))
                line.insert(0, snapshot.sync)
        self.take_line = "  ".join(line)

        local = snapshot.local if snapshot is not None else None  # room tone / wild: no LTC
        d = None
        if cue is not None and frames is not None and local is None:
            rate = cue.tc_in.rate
            t = frames
            if clock_rate is not None and clock_rate != rate:
                t = frames / float(clock_rate.fps) * float(rate.fps)
            d = timing.offset_frames(t, cue.tc_in.frame_count, rate)

        if local is not None:
            # The countdown of a local take: the count-in's beats, then the time left.
            text = local.countdown(snapshot.sample)
            count = self._text(
                text if local.kind == "roomtone" else f"WILD {text}",
                self._px(style.countdown_size),
                colour,
            )
            centre = (self.width // 2, lay.countdown_y)
            drawn.append(surface.blit(count, count.get_rect(center=centre)))
        elif d is not None and cue is not None:
            rate = cue.tc_in.rate
            length = timing.streamer_length_frames(style, rate)
            running = timing.streamer_progress(d, length) is not None
            if timing.punch_on(d, style):
                # The punch takes the countdown's place: the count ends in the flash.
                drawn.append(pg.draw.circle(surface, colour, lay.punch_centre, lay.punch_radius))
            else:
                count = self._text(
                    timing.countdown_text(d, rate),
                    self._px(style.countdown_size),
                    colour if running or 0 <= d < cue.duration_frames else style.dim_colour,
                )
                centre = (self.width // 2, lay.countdown_y)
                drawn.append(surface.blit(count, count.get_rect(center=centre)))
            if lay.band is not None:
                drawn.append(self._draw_band(surface, d, cue, colour))
            elif not timing.streamer_hidden_by_flutter(d, style):
                drawn.extend(self._draw_streamer(surface, d, length, colour))
        elif lay.band is not None and cue is not None:
            drawn.append(self._draw_band(surface, None, cue, colour))

        if style.show_engineer_info:
            drawn.extend(
                self._draw_footer(
                    surface,
                    frames,
                    snapshot,
                    clock_rate or (cue.tc_in.rate if cue else None),
                    mode,
                    colour,
                )
            )
        return drawn

    def _draw_streamer(
        self, surface: pygame.Surface, d: float, length: int, colour: Colour
    ) -> list[pygame.Rect]:
        pg = self.pg
        bar = self.layout.bar
        if self.style.wipe == "both":
            xs = timing.both_edges_x(d, length, self.width, bar)
            lefts = list(xs) if xs is not None else []
        else:
            x = timing.streamer_x(d, length, self.width, bar)
            lefts = [x] if x is not None else []
        return [surface.fill(colour, pg.Rect(x, 0, bar, self.height)) for x in lefts]

    def _draw_band(
        self, surface: pygame.Surface, d: float | None, cue: Cue, colour: Colour
    ) -> pygame.Rect:
        """The rhythm band: words scroll right to left and cross the sync bar when spoken."""
        pg = self.pg
        lay = self.layout
        band = pg.Rect(lay.band)
        rate = cue.tc_in.rate
        ppf = timing.rhythm_px_per_frame(self.style, self.width, rate)
        words = self._band_words(cue, ppf)
        if d is not None:
            previous_clip = surface.get_clip()
            surface.set_clip(band)
            for offset, word in words:
                x = timing.rhythm_word_x(offset, d, lay.sync_x, ppf)
                if x >= self.width or x + word.get_width() <= 0:
                    continue
                surface.blit(word, word.get_rect(midleft=(x, band.centery)))
            surface.set_clip(previous_clip)
        surface.fill(colour, pg.Rect(lay.sync_x - lay.bar // 2, band.y, lay.bar, band.height))
        return band

    def _band_words(self, cue: Cue, ppf: float) -> list[tuple[float, Any]]:
        """Word surfaces for the band, condensed where a word would run into the next one."""
        key = (cue, ppf)
        if key == self._words_key:
            return self._words
        pg = self.pg
        band_h = self.layout.band[3] if self.layout.band else self.height
        px = min(self._px(self.style.dialogue_size), band_h * 7 // 10)
        space = self._font(px).size(" ")[0]
        offsets = timing.word_offsets(cue)
        words: list[tuple[float, Any]] = []
        for i, (word, offset) in enumerate(offsets):
            # Rendered with alpha and composed onto an opaque band-coloured surface, so a
            # condensed word's background stays exactly the band's colour.
            glyphs = self._font(px).render(word, True, self.style.text_colour)
            if i + 1 < len(offsets):
                room = (offsets[i + 1][1] - offset) * ppf - space  # pixels to the next word
                if glyphs.get_width() > room:
                    width = max(int(room), glyphs.get_width() * 2 // 5, 1)
                    glyphs = pg.transform.smoothscale(glyphs, (width, glyphs.get_height()))
            text = pg.Surface(glyphs.get_size())
            text.fill(self.style.band_colour)
            text.blit(glyphs, (0, 0))
            words.append((offset, text))
        self._words_key, self._words = key, words
        return words

    def _draw_footer(
        self,
        surface: pygame.Surface,
        frames: float | None,
        snapshot: StageSnapshot | None,
        rate: Rate | None,
        mode: str,
        colour: Colour,
    ) -> list[pygame.Rect]:
        style, lay = self.style, self.layout
        px = self._px(style.info_size)
        if frames is not None and rate is not None:
            label = str(Timecode.from_frames(math.floor(frames), rate))
        else:
            label = "--:--:--:--"
        lock = snapshot.lock if snapshot else "lost"
        drawn = []
        tc = self._text(label, px, style.text_colour)
        drawn.append(surface.blit(tc, (lay.margin, lay.footer_y)))
        state = self._text(lock.upper(), px, LOCK_COLOURS.get(lock, style.dim_colour))
        x = lay.margin + tc.get_width() + px
        drawn.append(surface.blit(state, (x, lay.footer_y)))
        if snapshot is not None and (snapshot.fault or snapshot.warning or snapshot.message):
            # A record fault in red: the booth must know nothing is being recorded.
            text = snapshot.fault or snapshot.warning or snapshot.message
            colour = FAULT_COLOUR if snapshot.fault else style.dim_colour
            msg = self._text(text[:80], px, colour)
            drawn.append(surface.blit(msg, (x + state.get_width() + px, lay.footer_y)))
        name = self._text(mode.upper(), px, colour)
        drawn.append(
            surface.blit(name, name.get_rect(topright=(self.width - lay.margin, lay.footer_y)))
        )
        return drawn

    def _rec_pill(self) -> pygame.Surface:
        """The REC indicator: a red pill with a white dot and REC."""
        if self._rec is None:
            pg = self.pg
            _, _, w, h = self.layout.rec_rect
            pill = pg.Surface((w, h))
            pill.fill(self.style.background)
            pg.draw.rect(pill, self.style.rec_colour, pill.get_rect(), border_radius=h // 2)
            dot = h // 4
            pg.draw.circle(pill, (255, 255, 255), (h // 2 + dot // 2, h // 2), dot)
            text = self._font(h * 3 // 4).render("REC", True, (255, 255, 255))
            pill.blit(text, text.get_rect(midleft=(h + dot // 2, h // 2)))
            self._rec = pill
        return self._rec

    # -- fonts and text -----------------------------------------------------------------------

    def _px(self, fraction: float) -> int:
        return max(8, timing.round_half_up(fraction * self.height))

    def _font(self, px: int) -> Any:
        font = self._fonts.get(px)
        if font is None:
            font = self.pg.font.Font(self.style.font_path, px)
            self._fonts[px] = font
        return font

    def _text(self, text: str, px: int, colour: Colour, bg: Colour | None = None) -> Any:
        """An opaque text surface on the background colour (opaque blits are the fast ones)."""
        bg = bg or self.style.background
        key = (text, px, colour, bg)
        surf = self._text_cache.get(key)
        if surf is None:
            if len(self._text_cache) >= _TEXT_CACHE_LIMIT:
                self._text_cache.clear()
            surf = self._font(px).render(text, True, colour, bg)
            self._text_cache[key] = surf
        return surf
