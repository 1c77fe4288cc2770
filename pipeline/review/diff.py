"""Word-level differences between two texts, for the Versions page and edit conflicts.

Example:
    >>> [(t.op, t.text) for t in word_diff("we grew fast", "we grew slowly")]
    [('equal', 'we grew '), ('delete', 'fast'), ('insert', 'slowly')]
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# Words and the whitespace between them are both tokens, so joining the tokens gives the text back
# (line breaks between thread posts included).
_TOKEN = re.compile(r"\S+|\s+")


@dataclass(frozen=True)
class DiffToken:
    op: str  # equal | insert | delete
    text: str


def word_diff(old_text: str, new_text: str) -> list[DiffToken]:
    """``equal`` + ``delete`` tokens spell ``old_text``; ``equal`` + ``insert`` spell ``new_text``.

    Within one change, deletions come before insertions, and a lone space kept between two
    changed words is folded into the change ("Hello listeners" -> "Second text" is one
    delete and one insert, not four pieces around an unchanged space).
    """
    old, new = _TOKEN.findall(old_text), _TOKEN.findall(new_text)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("delete", "".join(old[i1:i2])))  # "replace" is a delete then an insert
        if j2 > j1:
            pieces.append(("insert", "".join(new[j1:j2])))
    return _fold(pieces)


def _fold(pieces: list[tuple[str, str]]) -> list[DiffToken]:
    tokens: list[DiffToken] = []
    deleted = inserted = ""
    for k, (op, text) in enumerate(pieces):
        between_changes = op == "equal" and text.isspace() and 0 < k < len(pieces) - 1
        if op == "equal" and not between_changes:
            tokens += [DiffToken(o, t) for o, t in (("delete", deleted), ("insert", inserted)) if t]
            deleted = inserted = ""
            tokens.append(DiffToken("equal", text))
            continue
        if op != "insert":
            deleted += text
        if op != "delete":
            inserted += text
    tokens += [DiffToken(o, t) for o, t in (("delete", deleted), ("insert", inserted)) if t]
    return tokens
