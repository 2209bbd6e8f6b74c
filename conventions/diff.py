"""Differences between two versions of a convention: per article, then per word.

Chinese has no spaces between words, so the word diff works on tokens: each CJK
character (and each other non-space symbol) is a token of its own, a run of Latin
letters or digits is one word, and a run of whitespace is one token. Joining the
tokens gives back the text exactly, so applying the operations to the old text
gives the new one (tests/conventions/test_diff.py checks it with hypothesis).

Articles are aligned with difflib over the whole list of article texts: an
article renumbered because another was inserted before it is "unchanged" (or
"changed" with its edits marked), not "removed and added".
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

from markupsafe import Markup, escape

TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[.'’_-][A-Za-z0-9]+)*|\s+|.", re.DOTALL)
# Two articles in a "replace" block are the same article edited when at least this
# share of their tokens is in common (difflib ratio).
SIMILAR = 0.5

Op = Literal["equal", "insert", "delete"]


def tokenize(text: str) -> list[str]:
    """Lossless tokens: "".join(tokenize(text)) == text."""
    return TOKEN_RE.findall(text)


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """Operations that turn `old` into `new`: equal / delete / insert pieces, in text order."""
    a, b = tokenize(old), tokenize(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _push(pieces, "equal", "".join(a[i1:i2]))
            continue
        if i2 > i1:
            _push(pieces, "delete", "".join(a[i1:i2]))
        if j2 > j1:
            _push(pieces, "insert", "".join(b[j1:j2]))
    return pieces


def _push(pieces: list[Piece], op: Op, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1] = Piece(op, pieces[-1].text + text)
    else:
        pieces.append(Piece(op, text))


def apply(old: str, pieces: Iterable[Piece]) -> str:
    """Replay the operations over `old` (checking every equal and deleted piece against
    it) and return the new text."""
    out: list[str] = []
    position = 0
    for piece in pieces:
        if piece.op == "insert":
            out.append(piece.text)
            continue
        end = position + len(piece.text)
        if old[position:end] != piece.text:
            raise ValueError(f"piece {piece!r} does not match the old text at {position}")
        if piece.op == "equal":
            out.append(piece.text)
        position = end
    if position != len(old):
        raise ValueError("the operations do not cover the whole old text")
    return "".join(out)


def to_html(pieces: Iterable[Piece]) -> Markup:
    """Escaped text with <ins> and <del> around inserted and deleted pieces."""
    parts = []
    for piece in pieces:
        text = escape(piece.text)
        if piece.op == "insert":
            parts.append(Markup("<ins>%s</ins>") % text)
        elif piece.op == "delete":
            parts.append(Markup("<del>%s</del>") % text)
        else:
            parts.append(text)
    return Markup("").join(parts)


# --- articles --------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleText:
    number: int
    text: str
    chapter: str = ""


ChangeKind = Literal["unchanged", "changed", "added", "removed"]


@dataclass
class ArticleChange:
    kind: ChangeKind
    old: ArticleText | None
    new: ArticleText | None
    pieces: list[Piece] = field(default_factory=list)

    @property
    def html(self) -> Markup:
        return to_html(self.pieces)

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.number != self.new.number

    @property
    def moved_chapter(self) -> bool:
        return self.old is not None and self.new is not None and self.old.chapter != self.new.chapter


@dataclass
class VersionDiff:
    changes: list[ArticleChange]
    preamble: list[Piece]

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    @property
    def identical(self) -> bool:
        return all(c.kind == "unchanged" and not c.renumbered and not c.moved_chapter for c in self.changes) and all(
            p.op == "equal" for p in self.preamble
        )


def diff_articles(old: Sequence[ArticleText], new: Sequence[ArticleText],
                  old_preamble: str = "", new_preamble: str = "") -> VersionDiff:
    """Align the articles of two versions and diff each pair word by word."""
    matcher = difflib.SequenceMatcher(None, [a.text for a in old], [a.text for a in new], autojunk=False)
    changes: list[ArticleChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes += [ArticleChange("unchanged", o, n, [Piece("equal", n.text)])
                        for o, n in zip(old[i1:i2], new[j1:j2])]
        else:
            changes += _pair_block(list(old[i1:i2]), list(new[j1:j2]))
    return VersionDiff(changes, word_diff(old_preamble, new_preamble))


def _pair_block(old: list[ArticleText], new: list[ArticleText]) -> list[ArticleChange]:
    """Within a block that differs, pair each old article with the next new one that is
    similar enough (in order); the rest were removed or added. One article rewritten
    in place (a block of one against one) is always "changed"."""
    if len(old) == len(new) == 1:
        return [ArticleChange("changed", old[0], new[0], word_diff(old[0].text, new[0].text))]
    changes: list[ArticleChange] = []
    j = 0
    for o in old:
        match = next((k for k in range(j, len(new)) if _similar(o.text, new[k].text)), None)
        if match is None:
            changes.append(ArticleChange("removed", o, None, [Piece("delete", o.text)]))
            continue
        changes += [ArticleChange("added", None, n, [Piece("insert", n.text)]) for n in new[j:match]]
        changes.append(ArticleChange("changed", o, new[match], word_diff(o.text, new[match].text)))
        j = match + 1
    changes += [ArticleChange("added", None, n, [Piece("insert", n.text)]) for n in new[j:]]
    return changes


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, tokenize(a), tokenize(b), autojunk=False).ratio() >= SIMILAR
