"""The trends page in a real browser: loads cleanly, controls redraw the chart, highlighting
greys the other districts, the URL restores a view (also via back/forward), English works and
hostile links fall back with a notice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from pages import trends_logic as tl

pytestmark = pytest.mark.browser

TRACES = """() => document.querySelector('#trends-lines .js-plotly-plot').data
  .filter(d => d.showlegend !== false)
  .map(d => ({name: d.name, meta: d.meta, colour: d.line.color, visible: d.visible}))"""
TITLE = "() => document.querySelector('#trends-lines .gtitle')?.textContent || ''"


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#trends-lines .main-svg .scatterlayer .trace", timeout=20000)
    page.wait_for_function("() => window.location.search.includes('indicator=')")


def _params(page) -> dict[str, str]:
    q = parse_qs(urlparse(page.url).query, keep_blank_values=True)
    return {k: v[0] for k, v in q.items()}


def _traces(page) -> dict[str, dict]:
    return {t["name"]: t for t in page.evaluate(TRACES)}


def _wait_title_change(page, old: str) -> str:
    page.wait_for_function(f"() => ({TITLE})() && ({TITLE})() !== {old!r}")
    return page.evaluate(TITLE)


def test_loads_without_console_errors(page, server_url):
    _open(page, f"{server_url}/trends")
    params = _params(page)
    assert params["indicator"] in tl.DEFAULT_INDICATORS and params["division"] == "sdo11"
    assert params["measure"] == "cv" and len(params["districts"].split(",")) == 2
    assert page.locator("#trends-verdict").inner_text().strip()
    assert page.locator("#trends-ineq .main-svg").count() > 0
    assert not page.locator("#notice.mantine-Alert-root, #notice[role=alert]").count()
    assert page.console_errors == []


def test_changing_indicator_changes_chart_and_back_restores(page, server_url):
    _open(page, f"{server_url}/trends?indicator=employment_rate_20_64")
    before = page.evaluate(TITLE)
    page.locator(f"#{'trends-indicator'}").click()
    page.get_by_role("option", name="Medelinkomst").first.click()
    after = _wait_title_change(page, before)
    assert "Medelinkomst" in after
    page.wait_for_function("() => window.location.search.includes('indicator=mean_income')")
    page.go_back()
    page.wait_for_function(
        "() => window.location.search.includes('indicator=employment_rate_20_64')")
    assert "Förvärvsfrekvens" in _wait_title_change(page, after)
    assert page.console_errors == []


def test_selecting_a_district_greys_the_others(page, server_url):
    _open(page, f"{server_url}/trends?indicator=employment_rate_20_64&division=sdo11"
                "&districts=")
    colours = {t["colour"] for n, t in _traces(page).items() if t["meta"]}
    assert colours == {tl.UNSELECTED}  # nothing highlighted: all alike
    page.locator("#trends-districts").click()
    page.get_by_role("option", name="Bromma", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => ({TRACES})().some(t => t.colour === '{tl.PALETTE[0]}')")
    traces = _traces(page)
    assert traces["Bromma"]["colour"] == tl.PALETTE[0]
    others = [t for n, t in traces.items() if t["meta"] and n != "Bromma"]
    assert others and all(t["colour"] == tl.GREYED for t in others)
    assert all(t["visible"] in (None, True) for t in traces.values())  # greyed, not hidden
    # a click on a legend entry highlights that district too, instead of hiding it
    page.locator("#trends-lines .legend .traces", has_text="Farsta") \
        .locator(".legendtoggle").click()
    page.wait_for_function(f"() => ({TRACES})().some(t => t.name === 'Farsta' "
                           f"&& t.colour === '{tl.PALETTE[1]}')")
    page.wait_for_function("() => window.location.search.endsWith('districts=bromma,farsta')")
    assert page.console_errors == []


def test_shared_url_restores_the_view(page, server_url):
    query = ("?lang=sv&area=work&indicator=mean_income&division=sdo14&sex=female"
             "&measure=theil&districts=farsta,bromma")
    _open(page, f"{server_url}/trends{query}")
    assert urlparse(page.url).query == query[1:]  # nothing rewritten, nothing added
    assert page.locator("#trends-indicator").input_value().startswith("Medelinkomst")
    assert page.locator("#trends-division").input_value().startswith("14 stadsdelsområden")
    assert page.locator("#trends-measure").input_value().startswith("Theilindex")
    assert "kvinnor" in page.evaluate(TITLE)
    traces = _traces(page)
    assert traces["Farsta"]["colour"] == tl.PALETTE[0]
    assert traces["Bromma"]["colour"] == tl.PALETTE[1]
    ineq_title = page.evaluate(
        "() => document.querySelector('#trends-ineq .gtitle').textContent")
    assert "Theilindex" in ineq_title
    assert page.console_errors == []


def test_english(page, server_url):
    _open(page, f"{server_url}/trends?lang=en&indicator=merit_value")
    assert page.get_by_role("heading", name="Differences over time").count() == 1
    notes = page.locator("#trends-notes").inner_text()
    assert "About the data" in notes and "schools located in the district" in notes
    assert "Have the differences grown or shrunk?" in page.content()
    assert page.console_errors == []


def test_hostile_link_falls_back_with_a_notice(page, server_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, f"{server_url}/trends?indicator=%3Cscript%3Ealert(1)%3C/script%3E"
                "&division=regso&sex=%22%3E%3Cimg%20src=x%20onerror=alert(2)%3E"
                "&measure=x&districts=nowhere")
    notice = page.locator("#notice").inner_text()
    assert "indikator" in notice and "indelning" in notice and "markerade områden" in notice
    html = page.content()  # Dash's own meta tags carry the request URL, HTML-escaped
    assert "<script>alert" not in html and "<img src=x" not in html and dialogs == []
    text = page.locator("body").inner_text()
    assert "alert(" not in text and "onerror" not in text
    params = _params(page)
    assert params["indicator"] in tl.DEFAULT_INDICATORS and params["division"] == "sdo11"
    assert page.console_errors == []


def test_two_changes_back_twice_forward(page, server_url):
    _open(page, f"{server_url}/trends?indicator=employment_rate_20_64&measure=cv")

    def measure(label: str, key: str) -> None:
        page.wait_for_function(f"() => window.location.search.includes('measure={key}')")
        page.wait_for_function(
            "l => document.querySelector('#trends-measure').value.startsWith(l)", arg=label)
        page.wait_for_function(
            "l => (document.querySelector('#trends-ineq .gtitle') || {}).textContent"
            "?.includes(l)", arg=label.split(" ")[0])

    for label in ("Theilindex", "Kvot"):
        page.locator("#trends-measure").click()
        page.get_by_role("option", name=label).click()
    measure("Kvot", "ratio")
    page.go_back()
    measure("Theilindex", "theil")
    page.go_back()
    page.wait_for_function("() => window.location.search.includes('measure=cv')")
    page.wait_for_function(
        "() => document.querySelector('#trends-measure').value.startsWith('Variations')")
    page.go_forward()
    measure("Theilindex", "theil")
    page.go_forward()
    measure("Kvot", "ratio")
    assert page.console_errors == []
