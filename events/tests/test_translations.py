"""Every word a person reads is marked for translation, and the Italian
catalogue translates each of them.

- Templates: a text node outside {% translate %}/{% blocktranslate %} that
  holds a word, or a literal word in an attribute people read (title,
  aria-label, placeholder, alt, a button's value), fails.
- Page scripts: a string literal that reads as words for people (a capital
  word, or words with punctuation) fails unless it is a code string listed
  below (a header, a key name) or a console message. Words go through the
  page's catalogue (config.labels) instead.
- locale/it/LC_MESSAGES/django.po: an empty msgstr or a fuzzy entry fails.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [
    ROOT / "screens" / "templates",
    ROOT / "till" / "templates",
    ROOT / "orders" / "templates",
    ROOT / "events" / "templates",
    ROOT / "users" / "templates",
]
SCRIPT_DIRS = [ROOT / "screens" / "static", ROOT / "till" / "static"]
CATALOGUE = ROOT / "locale" / "it" / "LC_MESSAGES" / "django.po"

WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Code strings of the scripts that hold capitals or spaces but are never shown.
CODE_STRINGS = {
    "use strict",
    "X-CSRFToken",
    "Content-Type",
    "Idempotency-Key",
    "Idempotent-Replayed",
    "Escape",
    "Enter",
    "HTTP",
}
SELECTOR = re.compile(r'^[a-z0-9\s.#:,()\[\]="_-]+$')
CLASS_LIST = re.compile(r"^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)*$")
CAMEL_OR_PATH = re.compile(r"^[a-z0-9_$./?=&:#\[\]-]*[A-Za-z0-9_$./?=&:#\[\]-]*$")
STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`""")


def templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS if folder.exists() for path in folder.rglob("*.html"))


def scripts() -> list[Path]:
    return sorted(path for folder in SCRIPT_DIRS for path in folder.rglob("*.js"))


class _Reader(HTMLParser):
    """Collects the text and the read attributes of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.code = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self.code += 1
        attributes = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (name == "value" and attributes.get("type") in ("submit", "button"))
            if read and value and WORD.search(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self.code = max(self.code - 1, 0)

    def handle_data(self, data):
        if self.code:
            return
        words = re.sub(r"(?<![\w])/[\w/.-]*", " ", data)  # paths such as /events/
        if WORD.search(words):
            self.found.append(" ".join(data.split()))


def untranslated_in_template(source: str) -> list[str]:
    """The words of `source` a person reads outside the translation tags:
    the template with its tags and variables taken out, read as HTML."""
    page = []
    inside_translation = 0
    inside_class = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            parts = token.contents.split()
            if parts[0] in ("blocktranslate", "blocktrans"):
                inside_translation += 1
            elif parts[0] in ("endblocktranslate", "endblocktrans"):
                inside_translation -= 1
            elif parts[0] == "block" and parts[1].endswith("_class"):
                inside_class += 1
            elif parts[0] == "endblock" and inside_class:
                inside_class -= 1
        elif token.token_type == TokenType.VAR:
            page.append("0")
        elif token.token_type == TokenType.TEXT and not inside_translation and not inside_class:
            page.append(token.contents)
    reader = _Reader()
    reader.feed("".join(page))
    reader.close()
    return reader.found


def untranslated_in_script(source: str) -> list[str]:
    source = re.sub(r"/\*.*?\*/", lambda match: "\n" * match.group(0).count("\n"), source, flags=re.S)
    source = re.sub(r"(?m)(^|\s)//.*$", "", source)
    source = re.sub(r"console\.\w+\([^;]*\);", "", source)
    found = []
    for match in STRING.finditer(source):
        text = next(group for group in match.groups() if group is not None)
        if match.group(3) is not None and "${" in text:
            # A template literal that puts words around values: `${n} orders`.
            joined = re.sub(r"\$\{[^}]*\}", "\x00", text)
            if re.search(r"\s[A-Za-z]{2,}|[A-Za-z]{2,}\s", joined) and not SELECTOR.match(joined):
                found.append(joined.replace("\x00", "").strip())
                continue
        text = re.sub(r"\$\{[^}]*\}|\{\w+\}", "", text).strip()
        if SELECTOR.match(text) and re.search(r"[.#:,\[]", text):
            continue  # a CSS selector
        if text in CODE_STRINGS or not WORD.search(text) or CLASS_LIST.match(text):
            continue
        if " " not in text and CAMEL_OR_PATH.match(text) and not re.match(r"^[A-Z][a-z]", text):
            continue  # a catalogue key, an id, a path or an event name
        found.append(text)
    return found


def test_a_word_outside_the_translation_tags_is_found():
    source = '{% load i18n %}<p>Hello</p><p>{% translate "Hi" %}</p><input placeholder="Type here">'
    assert untranslated_in_template(source) == ["Hello", 'placeholder="Type here"']


def test_words_inside_blocktranslate_style_and_paths_are_not_flagged():
    source = (
        "{% load i18n %}<style>.a { color: red; }</style>"
        "<p>{% blocktranslate %}Listen on /events/{{ x }}{% endblocktranslate %}</p><h2>/events/{{ x }}</h2>"
    )
    assert untranslated_in_template(source) == []


def test_a_sentence_in_a_script_is_found_and_code_strings_are_not():
    source = 'const a = "Sound on"; b.className = "ticket more"; t("readyAnnounce"); x = `${n} orders`; h("Enter");'
    assert untranslated_in_script(source) == ["Sound on", "orders"]


@pytest.mark.parametrize("path", templates(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_template_marks_its_words_for_translation(path):
    assert untranslated_in_template(path.read_text()) == []


@pytest.mark.parametrize("path", scripts(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_page_script_takes_its_words_from_the_catalogue(path):
    assert untranslated_in_script(path.read_text()) == []


def catalogue_gaps(text: str) -> list[str]:
    """msgids of a .po file with an empty msgstr, or marked fuzzy (entries
    read line by line: a blank line between them is not required)."""
    entries: list[dict] = []
    current: dict | None = None
    field = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#,") and "fuzzy" in line:
            current = {"fuzzy": True, "msgid": "", "msgstr": []}
            entries.append(current)
            field = None
        elif line.startswith("msgid "):
            if current is None or field is not None:
                current = {"fuzzy": False, "msgid": "", "msgstr": []}
                entries.append(current)
            field = "msgid"
            current["msgid"] = _quoted(line)
        elif line.startswith("msgstr"):
            field = "msgstr"
            current["msgstr"].append(_quoted(line))
        elif line.startswith('"') and current is not None and field == "msgid":
            current["msgid"] += _quoted(line)
        elif line.startswith('"') and current is not None and field == "msgstr":
            current["msgstr"][-1] += _quoted(line)
        elif not line:
            current, field = None, None
    return [
        entry["msgid"]
        for entry in entries
        if entry["msgid"] and (entry["fuzzy"] or not entry["msgstr"] or not all(entry["msgstr"]))
    ]


def _quoted(line: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', line))


def test_an_empty_or_fuzzy_entry_is_a_gap():
    text = (
        'msgid ""\nmsgstr "header"\nmsgid "Z"\nmsgstr ""\n\nmsgid "A"\nmsgstr ""\n\n#, fuzzy\nmsgid "B"\nmsgstr "b"\n\n'
        'msgid "C"\nmsgstr "c"\n\nmsgid ""\n"Long "\n"one"\nmsgstr ""\n"Lunga"\n'
    )
    assert catalogue_gaps(text) == ["Z", "A", "B"]


def test_the_italian_catalogue_translates_every_string():
    assert catalogue_gaps(CATALOGUE.read_text()) == []
