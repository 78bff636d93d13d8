"""The kitchen display and the board speak Italian or English: the
browser's language when it is one of LANGUAGES, else LANGUAGE_CODE
(Italian by default); <html lang> says which, and the scripts' words come
from the page's translated catalogue."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from screens.tests.test_pages import (  # noqa: F401 (fixtures)
    board_codes,
    browser,
    browser_for,
    cashier,
    kitchen_cards,
    open_live,
    page_server,
    page_var_dir,
    staff_context,
)
from testsupport.browser import WAIT_MS


def page_of(user, path: str, **headers) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path, **headers)
    assert response.status_code == 200
    return response.content.decode()


def labels_of(html: str) -> dict[str, str]:
    config = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S).group(1)
    return json.loads(config)["labels"]


@pytest.mark.parametrize("path", ["/kitchen/", "/display/"])
def test_an_italian_browser_gets_the_pages_and_their_scripts_words_in_italian(operator, path):
    html = page_of(operator, path, HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9,en;q=0.5")

    assert '<html lang="it">' in html
    assert labels_of(html)["live"] == "In linea"
    assert "Connessione persa." in labels_of(html)["connectionLost"]


@pytest.mark.parametrize("path", ["/kitchen/", "/display/"])
def test_an_english_browser_gets_english(operator, path):
    html = page_of(operator, path, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert '<html lang="en">' in html
    assert labels_of(html)["live"] == "Live"


def test_without_a_choice_of_the_browser_the_pages_speak_language_code(operator, settings):
    settings.LANGUAGE_CODE = "it"
    assert '<html lang="it">' in page_of(operator, "/kitchen/")
    assert "Cucina" in page_of(operator, "/kitchen/")
    settings.LANGUAGE_CODE = "en"
    assert '<html lang="en">' in page_of(operator, "/kitchen/")


def test_a_language_outside_languages_gets_language_code(operator, settings):
    settings.LANGUAGE_CODE = "it"
    assert '<html lang="it">' in page_of(operator, "/display/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")


def test_the_kitchen_and_board_catalogues_are_whole_in_italian(operator):
    """Every key the scripts ask for has an Italian text (an untranslated one
    would come back in English)."""
    for path in ("/kitchen/", "/display/"):
        italian = labels_of(page_of(operator, path, HTTP_ACCEPT_LANGUAGE="it"))
        english = labels_of(page_of(operator, path, HTTP_ACCEPT_LANGUAGE="en"))
        assert italian.keys() == english.keys()
        same = {key for key in italian if italian[key] == english[key]}
        # Words that read the same in both languages.
        assert same <= {"minutes", "conflict"}


# --- in a real browser -------------------------------------------------------------------

WORDS = {
    "it": {
        "lang": "it",
        "live": "In linea",
        "table": "Tavolo 7",
        "note": "Nota:",
        "bump": "Evadi · pronto",
        "ready": "Pronti al ritiro",
        "announce": "L'ordine {code} è pronto al ritiro.",
        "count": "1 ordine",
    },
    "en": {
        "lang": "en",
        "live": "Live",
        "table": "Table 7",
        "note": "Note:",
        "bump": "Bump · ready",
        "ready": "Ready for pickup",
        "announce": "Order {code} is ready for pickup.",
        "count": "1 order",
    },
}


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "language"), [("it-IT", "it"), ("en-US", "en")])
def test_the_kitchen_and_the_board_speak_the_browsers_language(
    browser,  # noqa: F811 (the fixtures of test_pages, imported above)
    page_server,  # noqa: F811
    cashier,  # noqa: F811
    menu,
    operator,
    locale,
    language,
):
    from playwright.sync_api import expect

    words = WORDS[language]
    context = staff_context(browser, page_server, operator, locale=locale)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    board = open_live(context, page_server.url + "/display/")
    for page in (kitchen, board):
        expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    expect(kitchen.locator("#connection-status")).to_have_text(words["live"])

    order = cashier.confirmed_order([(menu["margherita"].id, 1, "senza burro")], table="7", customer="Maria")
    code = order["displayCode"]
    card = kitchen_cards(kitchen, code)
    expect(card).to_have_count(1, timeout=WAIT_MS)
    expect(card.locator(".table")).to_have_text(words["table"])
    expect(card.locator(".note")).to_have_text(f"{words['note']} senza burro")
    expect(kitchen.locator("#order-count")).to_have_text(words["count"])
    card.get_by_role("button").filter(has_text=words["bump"]).click()

    expect(board_codes(board, "ready", code)).to_have_count(1, timeout=WAIT_MS)
    expect(board.locator("#ready-title")).to_have_text(words["ready"])
    expect(board.locator("#announcer")).to_contain_text(words["announce"].format(code=code))
    context.close()
