"""Terminal output that shows file-derived and user-given text literally.

Every customer360 command prints through rich, which reads ``[...]`` as markup: a column
named ``[red]``, a path with brackets or a record key ending in a backslash would be
restyled, swallowed or raise a MarkupError. :func:`literal` escapes such text (and makes
control characters visible: an ANSI escape or a right-to-left override in an export must
not repaint the terminal or reorder what the user reads) before it is put into a message
or a table cell.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape

_KEEP = {"\n", "\t"}


def visible(text: str) -> str:
    """``text`` with control and format characters (C0/C1 controls, bidi overrides,
    zero-width characters) as ``\\xNN``/``\\uNNNN`` escapes; newlines and tabs kept."""
    out = []
    for ch in text:
        if ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal(value: object) -> str:
    """``value`` as text that rich prints exactly as it is (markup escaped, control
    characters visible)."""
    return escape(visible(str(value)))
