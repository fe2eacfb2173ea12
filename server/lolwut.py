"""LOLWUT's computer art, as Redis 7.0 draws it: VERSION 5 (Georg Nees's "Schotter", rendered in
Braille characters) and VERSION 6 (a skyline in the terminal's four grays).

The geometry follows Redis's C code step by step, including its single-precision `float`
arithmetic (emulated with `_f32`), so the deterministic part of a picture (the top two rows of
Schotter's squares, every size and the captions) is the same as Redis's. The random parts use
Python's generator where Redis uses libc's `rand()`, which Redis seeds from the clock: no two
Redis processes draw those parts alike either.

It must not: know about clients, replies or the command table.
"""

import math
import random
import struct

_FLOAT = struct.Struct("f")
_RAND_MAX = 2147483647  # glibc's RAND_MAX


def _f32(x: float) -> float:
    """`x` rounded to C's float, as a float variable would hold it."""
    return _FLOAT.unpack(_FLOAT.pack(x))[0]


def _c_round(x: float) -> int:
    """C's round(): halves away from zero (Python's round() goes to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _rand() -> int:
    return random.randint(0, _RAND_MAX)


class Canvas:
    """A width x height grid of colors (0 = background dot off / black)."""

    __slots__ = ("width", "height", "pixels")

    def __init__(self, width: int, height: int, background: int = 0):
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham's line, as lwDrawLine."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float, color: int) -> None:
        """A square centred on x,y, rotated by `angle`, as lwDrawSquare: the corners of the
        square inscribed in a circle, one every quarter turn from 45 degrees."""
        size = _f32(_c_round(_f32(size / 1.4142135623)))
        k = _f32(math.pi / 4 + angle)
        px, py = [], []
        for _ in range(4):
            px.append(_c_round(math.sin(k) * size + x))
            py.append(_c_round(math.cos(k) * size + y))
            k = _f32(k + math.pi / 2)
        for j in range(4):
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color)


def _clamp(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


# -- VERSION 5: Schotter --------------------------------------------------------------------------


def schotter(cols: int, per_row: int, per_col: int) -> Canvas:
    """lwDrawSchotter: rows of squares, each row below the second more rotated and displaced."""
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = _f32(_f32(width - padding * 2) / per_row)
    height = int(_f32(_f32(side * per_col) + padding * 2))
    canvas = Canvas(width, height)
    half = _f32(side / 2)
    for y in range(per_col):
        for x in range(per_row):
            sx = int(_f32(_f32(_f32(x * side) + half) + padding))
            sy = int(_f32(_f32(_f32(y * side) + half) + padding))
            angle = 0.0
            if y > 1:
                r1 = _f32(_f32(_f32(_rand() / _RAND_MAX) / per_col) * y)
                r2 = _f32(_f32(_f32(_rand() / _RAND_MAX) / per_col) * y)
                r3 = _f32(_f32(_f32(_rand() / _RAND_MAX) / per_col) * y)
                if _rand() % 2:
                    r1 = -r1
                if _rand() % 2:
                    r2 = -r2
                if _rand() % 2:
                    r3 = -r3
                angle = r1
                sx = int(_f32(sx + _f32(_f32(r2 * side) / 3)))
                sy = int(_f32(sy + _f32(_f32(r3 * side) / 3)))
            canvas.square(sx, sy, side, angle, 1)
    return canvas


def braille(canvas: Canvas) -> str:
    """Each 2x4 block of pixels as one Braille character (U+2800 + the dots' bits)."""
    lines = []
    get = canvas.get
    for y in range(0, canvas.height, 4):
        row = []
        for x in range(0, canvas.width, 2):
            bits = (get(x, y) | get(x, y + 1) << 1 | get(x, y + 2) << 2 | get(x + 1, y) << 3
                    | get(x + 1, y + 1) << 4 | get(x + 1, y + 2) << 5 | get(x, y + 3) << 6
                    | get(x + 1, y + 3) << 7)
            row.append(chr(0x2800 + bits))
        lines.append("".join(row))
    # Redis ends every group of four pixel rows with a newline except when y == height - 1.
    text = ""
    for i, y in enumerate(range(0, canvas.height, 4)):
        text += lines[i]
        if y != canvas.height - 1:
            text += "\n"
    return text


def version5(cols: int = 66, per_row: int = 8, per_col: int = 12, redis_version: str = "") -> str:
    canvas = schotter(_clamp(cols, 1, 1000), _clamp(per_row, 1, 200), _clamp(per_col, 1, 200))
    return (braille(canvas) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
            + redis_version + "\n")


# -- VERSION 6: the skyline -----------------------------------------------------------------------

_GRAYS = {0: "0;30;40m", 1: "0;90;100m", 2: "0;37;47m", 3: "0;97;107m"}


def _skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool, color: int) -> None:
    start = canvas.height - 1
    end = start - height + 1
    for y in range(start, end - 1, -1):
        for x in range(xoff, xoff + width):
            if y == end and (x <= xoff + 1 or x >= xoff + width - 2):
                continue  # the roof is four pixels narrower
            c = color
            if windows and xoff + 1 < x < xoff + width - 2 and end + 1 < y < start - 1:
                relx, rely = x - (xoff + 1), y - (end + 1)
                if (relx // 2) % 2 and rely % 2:
                    while True:
                        c = 1 + _rand() % 2
                        if c != color:
                            break
                    if relx % 2:  # both pixels of a window take one color
                        c = canvas.get(x - 1, y)
            canvas.draw(x, y, c)


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def skyline(cols: int, rows: int) -> Canvas:
    """generateSkyline: two gray background layers, then the black foreground with windows."""
    canvas = Canvas(cols, rows, 3)
    for color in (2, 1):
        offset = -10
        while offset < canvas.width:
            offset += _rand() % 8
            width = 10 + _rand() % 9
            # C parses `rand()%canvas->height/2` as `(rand() % height) / 2`
            if color == 2:
                height = canvas.height // 2 + _c_div(_rand() % canvas.height, 2)
            else:
                height = canvas.height // 2 + _c_div(_rand() % canvas.height, 3)
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += _rand() % 8
        width = 5 + _rand() % 14
        if width % 4:
            width += width % 3
        height = canvas.height // 3 + _c_div(_rand() % canvas.height, 2)
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5
    return canvas


def version6(cols: int = 80, rows: int = 20, redis_version: str = "") -> str:
    canvas = skyline(_clamp(cols, 1, 1000), _clamp(rows, 1, 1000))
    lines = []
    for y in range(canvas.height):
        lines.append("".join(f"\033[{_GRAYS.get(canvas.get(x, y), _GRAYS[0])} \033[0m"
                             for x in range(canvas.width)))
    return ("\n".join(lines) + "\nDedicated to the 8 bit game developers of past and present.\n"
            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. " + redis_version + "\n")
