"""Characters no name may hold, and how to print text that may hold them.

Names people give things (display names, workspace and token names) are shown to others, in
browsers and terminals. Control characters rewrite a terminal (ESC sequences, CR, backspace) and
format characters hide or reorder text (bidi overrides and isolates, zero-width spaces, tag
characters), so the gateway and identity refuse them in names, and the CLI prints any it gets
escaped. Unicode categories Cc, Cf, Cs, Zl and Zp, except ZWNJ and ZWJ, which Persian and Indic
scripts and emoji sequences need.
"""

from __future__ import annotations

import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
JOINERS = frozenset({"\u200c", "\u200d"})


def is_unsafe(ch: str) -> bool:
    return ch not in JOINERS and unicodedata.category(ch) in UNSAFE_CATEGORIES


def first_unsafe(text: str) -> str | None:
    """The first character of `text` a name may not hold, or None."""
    return next((ch for ch in text if is_unsafe(ch)), None)


def codepoint(ch: str) -> str:
    """`U+001B`: how an error message names a character without printing it."""
    return f"U+{ord(ch):04X}"


def escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with each unsafe character written as its escape (`\\x1b`, `\\u202e`)."""
    if first_unsafe(text) is None:
        return text
    return "".join(escape(ch) if is_unsafe(ch) else ch for ch in text)


def json_visible(text: str) -> str:
    """JSON text with each unsafe character in its strings written as a JSON escape (`\\u202e`):
    the same data for any parser, nothing for a terminal to act on. Raw tab, CR and LF are left
    alone: a JSON encoder escapes them inside strings, so outside they are only layout."""
    if all(ch in "\t\n\r" for ch in text if is_unsafe(ch)):
        return text
    out = []
    for ch in text:
        if ch in "\t\n\r" or not is_unsafe(ch):
            out.append(ch)
            continue
        code = ord(ch)
        if code > 0xFFFF:  # as a UTF-16 surrogate pair, the only way JSON escapes it
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)
