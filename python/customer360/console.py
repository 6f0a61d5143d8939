"""Terminal output that shows file-derived and user-given text literally.

Every customer360 command prints through rich, which reads ``[...]`` as markup: a column
named ``[red]``, a path with brackets or a record key ending in a backslash would be
restyled, swallowed or raise a MarkupError. :func:`literal` escapes such text (and makes
control characters visible: an ANSI escape or a right-to-left override in an export must
not repaint the terminal or reorder what the user reads) before it is put into a message
or a table cell.
"""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

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


_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def literal(value: object) -> str:
    """``value`` as text that rich prints exactly as it is inside markup (control
    characters visible). rich's own ``escape`` is not exact: rich turns every ``\\[`` of
    plain text into ``[`` and doubles a trailing backslash; here a tag-like ``[...]`` is
    escaped with its backslashes doubled (rich's rule for tags), a backslash before any
    other ``[`` is doubled (undoing rich's plain-text replacement), and a trailing
    backslash is doubled so that a closing tag after it still closes (the one case that
    prints differently: a trailing backslash followed by plain text shows twice)."""
    text = visible(str(value))
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        out.append(_plain(text[position : match.start()]))
        backslashes, tag = match.groups()
        out.append(backslashes * 2 + "\\" + tag)
        position = match.end()
    out.append(_plain(text[position:]))
    escaped = "".join(out)
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    return escaped + "\\" * trailing


def _plain(text: str) -> str:
    """Text without tags: a backslash right before '[' gets one more (rich's plain-text
    pass replaces each ``\\[`` with ``[``)."""
    return re.sub(r"(\\+)\[", lambda m: m.group(1) + "\\[", text)


def cell(value: object) -> Text:
    """``value`` as a rich Text (no markup at all) with control characters visible: for
    table cells and whole lines, where nothing follows that :func:`literal`'s escaping of
    a trailing backslash would protect."""
    return Text(visible(str(value)))
