"""Markdown for the KFP UI's Markdown artifacts: literal text and tables."""

from __future__ import annotations

import re
from collections.abc import Sequence

# CommonMark lets a backslash make any ASCII punctuation literal; these would otherwise start
# emphasis, code, links, HTML, headings or table cells.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def literal(text: object) -> str:
    """``text`` as Markdown shows it literally (user text: column names, batch ids, reasons)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; cells are taken literally."""
    lines = [
        "| " + " | ".join(literal(cell) for cell in header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(literal(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
