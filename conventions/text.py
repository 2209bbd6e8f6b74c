"""The plain-text form of a convention, as drafters edit it and as drafts/*.md hold it.

    # 小区居民公约                      (optional title line)
    > 为了……，制定本公约。              (preamble lines)
    ## 第一章 总则                      (a chapter; the 第…章 label is optional)
    第一条 为了……                       (an article: a block of lines; blocks are
                                         separated by blank lines; the 第…条 label
    第二条 本公约适用于……                 is optional)

Articles and chapters are numbered automatically in order. A label the drafter
typed is kept only as a check: a number used twice, or going backwards, is a clash
(usually a pasted article that kept its old number) and is refused; a label that
merely lags behind an inserted article is renumbered.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from conventions.numerals import article_label, chapter_label, split_label
from core.errors import ValidationError

MAX_ARTICLES = 500
MAX_CHAPTERS = 60
MAX_ARTICLE_CHARS = 5000
MAX_TITLE_CHARS = 200
MAX_PREAMBLE_CHARS = 5000


@dataclass
class ParsedChapter:
    title: str
    articles: list[str] = field(default_factory=list)


@dataclass
class ParsedText:
    title: str = ""
    preamble: str = ""
    loose_articles: list[str] = field(default_factory=list)  # before the first chapter
    chapters: list[ParsedChapter] = field(default_factory=list)

    @property
    def article_count(self) -> int:
        return len(self.loose_articles) + sum(len(c.articles) for c in self.chapters)


class _Builder:
    """Collects chapters and articles in order, checking labels and sizes."""

    def __init__(self) -> None:
        self.result = ParsedText()
        self.last_label = 0
        self.count = 0

    def chapter(self, title: str) -> None:
        _number, title = split_label(title.strip(), "章")
        self.result.chapters.append(ParsedChapter(_clean_title(title)))

    def article(self, label: int | None, body: str) -> None:
        self.count += 1
        if label is not None:
            if label <= self.last_label:
                raise ValidationError(
                    _("Article number clash: %(label)s is used twice or out of order. Articles are "
                      "numbered automatically: remove the number in front of a new article, or put "
                      "the articles in order.", label=article_label(label)),
                    fields={"text": _("%(label)s is used twice or out of order.", label=article_label(label))},
                )
            self.last_label = label
        body = body.strip()
        if not body:
            raise ValidationError(
                _("%(label)s has no text.", label=article_label(self.count)),
                fields={"text": _("An article needs text.")},
            )
        if len(body) > MAX_ARTICLE_CHARS:
            raise ValidationError(
                _("%(label)s is longer than %(n)d characters.", label=article_label(self.count), n=MAX_ARTICLE_CHARS),
                fields={"text": _("Article too long.")},
            )
        target = self.result.chapters[-1].articles if self.result.chapters else self.result.loose_articles
        target.append(body)

    def finish(self, preamble: str, title: str = "") -> ParsedText:
        self.result.preamble = preamble.strip()
        self.result.title = title
        _check_sizes(self.result)
        return self.result


class _Parser:
    """Reads the plain-text form line by line into a _Builder."""

    def __init__(self) -> None:
        self.builder = _Builder()
        self.block: list[str] = []
        self.preamble: list[str] = []
        self.title = ""

    def feed(self, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("## "):
            self.flush()
            self.builder.chapter(stripped[3:])
        elif stripped.startswith("# ") and not self.title and self.builder.count == 0:
            self.flush()
            self.title = _clean_title(stripped[2:].strip())
        elif stripped.startswith(">"):
            self.flush()
            self.preamble.append(stripped[1:].strip())
        elif not stripped:
            self.flush()
        else:
            self.block.append(stripped)

    def flush(self) -> None:
        if self.block:
            label, body = split_label("\n".join(self.block), "条")
            self.block = []
            self.builder.article(label, body)

    def finish(self) -> ParsedText:
        self.flush()
        return self.builder.finish("\n".join(self.preamble), self.title)


def _clean_title(title: str) -> str:
    if not title:
        raise ValidationError(_("A chapter heading needs a title."), fields={"text": _("Empty chapter title.")})
    return title[:MAX_TITLE_CHARS]


def _check_sizes(parsed: ParsedText) -> None:
    if parsed.article_count > MAX_ARTICLES or len(parsed.chapters) > MAX_CHAPTERS:
        raise ValidationError(
            _("A convention can have at most %(articles)d articles in %(chapters)d chapters.",
              articles=MAX_ARTICLES, chapters=MAX_CHAPTERS),
            fields={"text": _("Too many articles.")},
        )
    if len(parsed.preamble) > MAX_PREAMBLE_CHARS:
        raise ValidationError(
            _("The preamble is longer than %(n)d characters.", n=MAX_PREAMBLE_CHARS),
            fields={"text": _("Preamble too long.")},
        )


def parse(text: str) -> ParsedText:
    """Parse the plain-text form; raises ValidationError (with a Chinese message) on a clash."""
    parser = _Parser()
    for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        parser.feed(line)
    return parser.finish()


def _structured_article(builder: _Builder, item: object) -> None:
    if isinstance(item, str):
        builder.article(None, item)
        return
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise ValidationError(_("Each article is text, or an object with “text” and an optional “number”."),
                              fields={"articles": _("Invalid article.")})
    number = item.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        raise ValidationError(_("An article number must be a whole number from 1."),
                              fields={"articles": _("Invalid number.")})
    builder.article(number, item["text"])


def from_structure(preamble: object, articles: object, chapters: object) -> ParsedText:
    """The same checks over JSON: articles (before any chapter) and chapters
    [{title, articles}], each article text or {"number": n, "text": ...}."""
    if not isinstance(preamble, str) or not isinstance(articles, list) or not isinstance(chapters, list):
        raise ValidationError(_("Give the preamble as text and the articles and chapters as lists."),
                              fields={"text": _("Invalid structure.")})
    builder = _Builder()
    for item in articles:
        _structured_article(builder, item)
    for chapter in chapters:
        if not isinstance(chapter, dict) or not isinstance(chapter.get("title"), str) \
                or not isinstance(chapter.get("articles", []), list):
            raise ValidationError(_("Each chapter is an object with “title” and “articles”."),
                                  fields={"chapters": _("Invalid chapter.")})
        builder.chapter(chapter["title"])
        for item in chapter.get("articles", []):
            _structured_article(builder, item)
    return builder.finish(preamble)


def render(title: str, preamble: str, loose_articles: list[str], chapters: list[tuple[str, list[str]]]) -> str:
    """The plain-text form with labels, for the editor (parse(render(...)) gives the same text)."""
    lines: list[str] = [f"# {title}", ""] if title else []
    for line in preamble.splitlines() if preamble else []:
        lines.append(f"> {line}")
    if preamble:
        lines.append("")
    number = 0
    for text in loose_articles:
        number += 1
        lines += [f"{article_label(number)} {text}", ""]
    for position, (chapter_title, articles) in enumerate(chapters, start=1):
        lines += [f"## {chapter_label(position)} {chapter_title}", ""]
        for text in articles:
            number += 1
            lines += [f"{article_label(number)} {text}", ""]
    return "\n".join(lines).rstrip() + "\n"
