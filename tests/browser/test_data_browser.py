"""The data and sources page in a real browser: loads cleanly, the search filters the list and
writes the URL, ?indicator=... opens its detail, English works, back/forward restore a view,
and a hostile link falls back with a notice."""

from __future__ import annotations

import re

import pytest

from indicators.catalog import load_catalog

pytestmark = pytest.mark.browser
CATALOG = load_catalog()
N = len(CATALOG)


def _open(page, server_url, query="", ready="#data-list button"):
    page.goto(f"{server_url}/data{query}")
    page.wait_for_selector(ready, timeout=20_000)


def _detail_title(page, title):
    page.wait_for_function(
        "t => (document.querySelector('#data-detail h3') || {}).innerText === t", arg=title)


def test_loads_without_console_errors(page, server_url):
    _open(page, server_url)
    assert page.inner_text("#data-count").startswith(f"{N} av {N}")
    assert page.locator("#data-list button").count() == N
    page.get_by_role("tab", name="Källor").click()
    page.wait_for_selector("text=Dataversion")
    page.get_by_role("tab", name="Metod").click()
    page.wait_for_selector("text=99-procentsregeln")
    assert page.console_errors == []


def test_search_filters_the_list_and_writes_the_url(page, server_url):
    _open(page, server_url)
    page.fill("#data-search", "valdeltagande")
    page.wait_for_function(
        f"() => !document.getElementById('data-count').innerText.startsWith('{N} ')")
    shown = page.locator("#data-list button").count()
    assert 0 < shown < N
    assert page.inner_text("#data-count").startswith(f"{shown} av {N}")
    page.wait_for_url(re.compile(r"q=valdeltagande"))
    # choosing an entry opens its detail and puts it in the URL
    page.locator("#data-list button").first.click()
    page.wait_for_url(re.compile(r"indicator=turnout_kommun"))
    _detail_title(page, CATALOG["turnout_kommun"].title.sv)
    # back: the entry is closed again, the search stays; forward: it opens again
    page.go_back()
    _detail_title(page, "Katalogen i korthet")
    assert page.input_value("#data-search") == "valdeltagande"
    page.go_forward()
    _detail_title(page, CATALOG["turnout_kommun"].title.sv)
    # back twice: the page as first opened (the router's own last URL: restored by the page)
    page.go_back()
    page.go_back()
    page.wait_for_function("() => document.getElementById('data-search').value === ''")
    page.wait_for_function(
        f"() => document.getElementById('data-count').innerText.startsWith('{N} av')")
    assert page.console_errors == []


def test_indicator_link_shows_its_detail(page, server_url):
    _open(page, server_url, "?indicator=turnout_riksdag")
    detail = page.locator("#data-detail")
    assert detail.locator("h3").first.inner_text() == CATALOG["turnout_riksdag"].title.sv
    text = detail.inner_text()
    assert "knyts till 2022 års valdistrikt via kod och namn" in text
    assert "Från källans områden till stadsdelsområden" in text
    for a in detail.locator("a[href^='http']").all():
        assert "noopener" in (a.get_attribute("rel") or "")
    assert page.locator("#data-list button[aria-current='true']").count() == 1
    assert page.console_errors == []


def test_english(page, server_url):
    _open(page, server_url, "?lang=en&indicator=population")
    assert page.locator("h2").first.inner_text() == "Data and sources"
    assert page.inner_text("#data-count").startswith(f"{N} of {N}")
    text = page.inner_text("#data-detail")
    assert "Reconciliation with the city's official population" in text
    assert "RegSO areas → " in text
    assert page.console_errors == []


def test_hostile_link_falls_back_with_a_notice(page, server_url):
    _open(page, server_url,
          "?indicator=%3Cscript%3Ealert(1)%3C/script%3E&area=x&tab=y"
          "&q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", ready="#data-count")
    assert page.locator("#notice").is_visible()
    assert "indicator" in page.inner_text("#notice")
    assert page.input_value("#data-search") == "<img src=x onerror=alert(1)>"
    assert page.locator("#data-list img").count() == 0
    assert page.inner_text("#data-count").startswith(f"0 av {N}")
    assert page.console_errors == []


def test_two_changes_back_twice_forward(page, server_url):
    _open(page, server_url)

    def tab(name: str, key: str | None) -> None:
        page.wait_for_function(
            "n => document.querySelector('[role=tab][aria-selected=true]').innerText === n",
            arg=name)
        # the tab switches at once; the URL follows after the page's callback writes it
        page.wait_for_url(lambda url: ("tab=" + key in url) if key else ("tab=" not in url))

    page.get_by_role("tab", name="Källor").click()
    tab("Källor", "sources")
    page.get_by_role("tab", name="Metod").click()
    tab("Metod", "methods")
    page.go_back()
    tab("Källor", "sources")
    page.go_back()
    tab("Indikatorer", None)
    page.go_forward()
    tab("Källor", "sources")
    page.go_forward()
    tab("Metod", "methods")
    assert page.console_errors == []
