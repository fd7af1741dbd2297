"""ANSI escape sequences (colours in tracebacks and logs): turned into HTML spans, or removed.

Whatever else a terminal would act on but a page cannot show (window titles, hyperlinks,
control characters) is removed, and text that cannot be written as UTF-8 is repaired.
"""

from __future__ import annotations

import html
import re
from typing import Any

_SGR = re.compile(r"\x1b\[((?:\d+;)*\d*)m")
_NOT_CSI = r"\x1b[()][A-Z0-9]|\x1b[=>]"  # character-set and keypad-mode switches
_OTHER_ESCAPES = re.compile(rf"\x1b\[[0-9;?]*[A-Za-ln-z]|{_NOT_CSI}")  # all but SGR's `m`
_ESCAPES = re.compile(rf"\x1b\[[0-9;?]*[A-Za-z]|{_NOT_CSI}")
# OSC (titles, hyperlinks), DCS, SOS, PM and APC strings: up to BEL or ST, or to the end of
# the text when a program never ended one (a terminal would swallow the rest the same way).
_STRINGS = re.compile(r"\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?")
# C0 controls but tab, newline, form feed, carriage return and ESC (the escapes' own job).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
# A str may hold lone surrogates (JSON "\ud800" reads as one); UTF-8 cannot encode them.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]


def _colour_256(n: int) -> str | None:
    if not 0 <= n <= 255:
        return None
    if n < 16:
        return ""
    if n < 232:
        n -= 16
        r, g, b = (n // 36) % 6, (n // 6) % 6, n % 6
        return "#" + "".join(f"{0 if c == 0 else 55 + c * 40:02x}" for c in (r, g, b))
    level = 8 + (n - 232) * 10
    return f"#{level:02x}{level:02x}{level:02x}"


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fg: str | None = None  # a class name suffix, or a "#rrggbb" colour
        self.bg: str | None = None
        self.bold = self.italic = self.underline = False

    def apply(self, codes: list[int]) -> None:
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 22:
                self.bold = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif 30 <= c <= 37:
                self.fg = _NAMES[c - 30]
            elif 90 <= c <= 97:
                self.fg = "bright-" + _NAMES[c - 90]
            elif 40 <= c <= 47:
                self.bg = _NAMES[c - 40]
            elif 100 <= c <= 107:
                self.bg = "bright-" + _NAMES[c - 100]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                colour, used = self._extended(codes[i + 1 :])
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
                i += used
            i += 1

    @staticmethod
    def _extended(rest: list[int]) -> tuple[str | None, int]:
        if rest[0] == 5 and len(rest) >= 2:
            n = rest[1]
            if not 0 <= n <= 255:
                return None, 2
            if n < 8:
                return _NAMES[n], 2
            if n < 16:
                return "bright-" + _NAMES[n - 8], 2
            return _colour_256(n), 2
        if rest[0] == 2 and len(rest) >= 4:
            return "#" + "".join(f"{max(0, min(255, v)):02x}" for v in rest[1:4]), 4
        return None, len(rest)

    def open_tag(self) -> str:
        classes, styles = [], []
        for value, kind in ((self.fg, "fg"), (self.bg, "bg")):
            if value is None:
                continue
            if value.startswith("#"):
                styles.append(f"{'color' if kind == 'fg' else 'background-color'}:{value}")
            else:
                classes.append(f"ansi-{value}-{kind}")
        if self.bold:
            classes.append("ansi-bold")
        if self.italic:
            classes.append("ansi-italic")
        if self.underline:
            classes.append("ansi-underline")
        if not classes and not styles:
            return ""
        attrs = f' class="{" ".join(classes)}"' if classes else ""
        attrs += f' style="{";".join(styles)}"' if styles else ""
        return f"<span{attrs}>"


def valid_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD and NUL bytes removed: writable as UTF-8."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def valid_strings(value: Any) -> Any:
    """JSON-like data (a notebook) with `valid_text` applied to every string, keys included;
    the very same object when nothing in it needed repair."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        items = [(valid_strings(k), valid_strings(v)) for k, v in value.items()]
        if all(k is k2 and value[k] is v for k, (k2, v) in zip(value, items, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, list):
        new = [valid_strings(v) for v in value]
        return value if all(a is b for a, b in zip(value, new, strict=True)) else new
    return value


def _printable(text: str) -> str:
    return _CONTROLS.sub("", _STRINGS.sub("", valid_text(text)))


def _sgr_codes(params: str) -> list[int]:
    # A parameter too long to be a code (int() refuses over 4300 digits) means nothing.
    return [int(c) if len(c) <= 6 else -1 for c in params.split(";") if c] or [0]


def strip_ansi(text: str) -> str:
    """`text` without its escape sequences and control characters, for plain-text messages."""
    return _ESCAPES.sub("", _printable(text)).replace("\x1b", "")


def _escape(text: str) -> str:
    return html.escape(text.replace("\x1b", ""), quote=False)


def ansi_to_html(text: str) -> str:
    """Escape `text` for HTML and turn its SGR colour codes into `<span class="ansi-...">`."""
    text = _OTHER_ESCAPES.sub("", _printable(text))
    state = _State()
    out: list[str] = []
    is_open = False
    pos = 0
    for m in _SGR.finditer(text):
        out.append(_escape(text[pos : m.start()]))
        pos = m.end()
        if is_open:
            out.append("</span>")
            is_open = False
        state.apply(_sgr_codes(m.group(1)))
        tag = state.open_tag()
        if tag:
            out.append(tag)
            is_open = True
    out.append(_escape(text[pos:]))
    if is_open:
        out.append("</span>")
    return "".join(out)
