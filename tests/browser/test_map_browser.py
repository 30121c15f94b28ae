"""Map page in a real browser (Debian chromium): loads clean, recolours from the controls,
restores shared links and back/forward, switches language, survives hostile links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser

TITLE = "#map-graph .gtitle"
BARS = "#map-ranking .bars .point"


def map_title(page) -> str:
    return page.text_content(TITLE) or ""


def wait_title(page, text: str, timeout: int = 8000) -> None:
    page.wait_for_function(
        "t => (document.querySelector('#map-graph .gtitle') || {}).textContent?.includes(t)",
        arg=text, timeout=timeout)


def wait_text(page, selector: str, text: str, timeout: int = 8000) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s) || {}).textContent?.includes(t)",
        arg=[selector, text], timeout=timeout)


def choose(page, select_id: str, option: str) -> None:
    page.click(f"#{select_id}")
    page.get_by_role("option", name=option, exact=True).click()


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(TITLE)
    page.wait_for_selector(BARS)
    # the geometry arrives by URL: wait until MapLibre has drawn the districts
    page.wait_for_function(
        "() => { const gd = document.querySelector('#map-graph .js-plotly-plot');"
        " return gd && gd._fullLayout && gd._fullLayout.map &&"
        " window.PlotlyGeoAssets && Object.values(window.PlotlyGeoAssets)"
        ".some(v => v && v.features); }", timeout=10000)


def test_start_page_loads_clean(server_url, page):
    open_map(page, server_url + "/")
    assert "Valdeltagande i riksdagsvalet, 2022" in map_title(page)
    assert len(page.query_selector_all(BARS)) == 11
    assert "Skillnaderna mellan områdena har ökat från 2010 till 2022" in \
        page.inner_text("#map-gap-text")
    assert query(page)["indicator"] == "turnout_riksdag"  # the view is in the URL at once
    page.wait_for_timeout(300)
    assert page.console_errors == []


def test_controls_recolour_without_resending_geometry(server_url, page):
    open_map(page, server_url + "/")
    responses = []
    page.on("response", lambda r: "_dash-update-component" in r.url and responses.append(r))
    geo = []
    page.on("request", lambda r: "/geo/" in r.url and geo.append(r.url))

    choose(page, "map-year", "2010")
    wait_title(page, "2010")
    assert query(page)["year"] == "2010"
    map_updates = [r for r in responses if "map-graph.figure" in (r.request.post_data or "")
                   and "map-meta" in (r.request.post_data or "")]
    assert map_updates, "the map callback ran"
    body = map_updates[-1].body()
    assert b"__dash_patch_update" in body and b"coordinates" not in body and len(body) < 5000

    choose(page, "map-area", "Arbete och försörjning")
    wait_title(page, "Medellöneinkomst")
    assert query(page)["area"] == "work" and query(page)["indicator"] == "wage_income_mean"
    wait_text(page, "#map-ranking .bars", "tkr")  # the ranking follows (its own callback)
    assert geo == []  # same division: the geometry was fetched once, with the page
    assert page.console_errors == []


def test_shared_link_opens_the_same_view(server_url, page):
    link = (server_url + "/?lang=sv&area=work&indicator=mean_income&year=2005&division=sdo14"
            "&fixed=1&district=bromma")
    open_map(page, link)
    assert "Medelinkomst" in map_title(page) and "2005" in map_title(page)
    assert page.input_value("#map-division") == "14 stadsdelsområden (2007-2020)"
    assert page.is_checked("#map-fixed")
    assert "Färgskalan är densamma för alla år" in (page.text_content("#map-graph") or "")
    assert "Bromma" in page.inner_text("#map-district")
    assert page.get_attribute("#map-district-link", "href") == \
        "/compare?districts=bromma&division=sdo14&lang=sv"
    assert query(page)["district"] == "bromma"
    assert page.query_selector("#notice .mantine-Alert-root") is None


def test_back_and_forward_restore_the_view(server_url, page):
    open_map(page, server_url + "/?indicator=turnout_riksdag&year=2022&division=sdo11")
    choose(page, "map-year", "2010")
    wait_title(page, "2010")
    choose(page, "map-indicator", "Valdeltagande i kommunfullmäktigevalet")
    wait_title(page, "kommunfullmäktige")
    page.go_back()
    wait_title(page, "Valdeltagande i riksdagsvalet, 2010")
    assert page.input_value("#map-year") == "2010" and query(page)["year"] == "2010"
    page.go_back()
    wait_title(page, "Valdeltagande i riksdagsvalet, 2022")
    assert page.input_value("#map-year") == "2022"
    page.go_forward()
    wait_title(page, "Valdeltagande i riksdagsvalet, 2010")
    page.go_forward()
    wait_title(page, "kommunfullmäktige")
    assert page.console_errors == []


def test_english_switches_language_and_number_format(server_url, page):
    open_map(page, server_url + "/?lang=en")
    assert "Voter turnout" in map_title(page) or "turnout" in map_title(page).lower()
    assert page.inner_text("h3") == "Differences in Stockholm"
    bars_text = page.text_content("#map-ranking .bars") or ""
    assert re.search(r"\d\d\.\d %", bars_text) and not re.search(r"\d\d,\d %", bars_text)
    assert "1.38 times" in page.inner_text("#map-gap-text")
    sv = page.context.new_page()
    open_map(sv, server_url + "/")
    assert re.search(r"\d\d,\d %", sv.text_content("#map-ranking .bars") or "")
    sv.close()


def test_hostile_link_shows_notice_and_no_markup(server_url, page):
    page.add_init_script("window.__pwned = false; window.alert = () => { window.__pwned = true; }")
    open_map(page, server_url + "/?indicator=%3Cscript%3Ealert(1)%3C%2Fscript%3E&year=1850"
                   "&division=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    notice = page.inner_text("#notice")
    assert "okända eller ogiltiga val" in notice and "indikator" in notice
    content = page.inner_html("#_pages_content")
    assert "alert(1)" not in content and "&lt;script" not in content
    assert page.query_selector("#_pages_content script, img[src='x']") is None
    assert page.evaluate("window.__pwned") is False
    assert "Valdeltagande i riksdagsvalet" in map_title(page)  # a sensible view
    assert query(page)["indicator"] == "turnout_riksdag"  # the link is canonicalised


def test_click_a_bar_selects_the_district_everywhere(server_url, page):
    open_map(page, server_url + "/")
    bar = page.query_selector_all(BARS)[0]  # the lowest: Järva
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => location.search.includes('district=jarva')", timeout=5000)
    wait_text(page, "#map-district", "Järva")  # the panel follows from the server
    widths = page.evaluate(
        "() => document.querySelector('#map-graph .js-plotly-plot').data[1].marker.line.width")
    assert isinstance(widths, list) and max(widths) > 2


def test_two_changes_back_twice_forward(server_url, page):
    open_map(page, server_url + "/?indicator=turnout_riksdag&year=2022&division=sdo11")
    choose(page, "map-year", "2010")
    wait_title(page, "2010")
    choose(page, "map-division", "14 stadsdelsområden (2007-2020)")
    page.wait_for_function("() => document.querySelectorAll('#map-ranking .bars .point')"
                           ".length === 14")
    assert query(page)["division"] == "sdo14" and query(page)["year"] == "2010"
    page.go_back()
    page.wait_for_function("() => document.querySelectorAll('#map-ranking .bars .point')"
                           ".length === 11")
    wait_title(page, "2010")
    assert page.input_value("#map-year") == "2010" and query(page)["division"] == "sdo11"
    page.go_back()
    wait_title(page, "2022")
    assert page.input_value("#map-division") == "11 stadsdelsområden (från 2023)"
    page.go_forward()
    wait_title(page, "2010")
    assert len(page.query_selector_all(BARS)) == 11
    page.go_forward()
    page.wait_for_function("() => document.querySelectorAll('#map-ranking .bars .point')"
                           ".length === 14")
    assert page.input_value("#map-division") == "14 stadsdelsområden (2007-2020)"
    assert page.console_errors == []
