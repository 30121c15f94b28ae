"""Compare page in a real browser: loads cleanly, follows the district choice, restores a shared
link and back/forward, speaks English, and survives a hostile link."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

SECTIONS = "#compare-content section[data-area]"


def _headers(page) -> list[str]:
    """District column headers of the first area table (after Indicator, Year, City)."""
    return page.locator(f"{SECTIONS} >> nth=0").locator("thead th").all_text_contents()[3:]


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(SECTIONS)
    page.wait_for_selector("#compare-graph-upbringing .main-svg")


def test_loads_without_console_errors(server_url, page):
    _open(page, f"{server_url}/compare?districts=jarva,bromma&division=sdo11&lang=sv")
    assert page.locator(SECTIONS).count() == 5
    assert _headers(page) == ["Järva", "Bromma"]
    assert page.get_by_text("Uppgift saknas").first.is_visible()
    assert page.locator("[data-verdict=better]").count() > 0
    assert page.locator("[data-verdict=worse]").count() > 0
    assert page.console_errors == []


def test_changing_districts_updates_view_and_history(server_url, page):
    _open(page, f"{server_url}/compare?districts=jarva,bromma&division=sdo11&lang=sv")
    page.locator("#compare-districts").click()
    page.get_by_role("option", name="Farsta", exact=True).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare-content thead th')]"
        ".some(th => th.textContent === 'Farsta')")
    assert _headers(page) == ["Järva", "Bromma", "Farsta"]
    page.wait_for_url(re.compile(r"districts=jarva,bromma,farsta&division=sdo11&lang=sv$"))
    legend = page.locator("#compare-graph-upbringing .legendtext").all_text_contents()
    assert legend[:3] == ["Järva", "Bromma", "Farsta"]

    # a division change carries the selection over (Järva was two districts before 2023)
    page.locator("#compare-division").click()
    page.get_by_role("option", name=re.compile("^13 ")).click()
    page.wait_for_url(re.compile(r"division=sdo13"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare-content thead th')]"
        ".some(th => th.textContent === 'Rinkeby-Kista')")
    assert _headers(page) == ["Rinkeby-Kista", "Spånga-Tensta", "Bromma", "Farsta"]

    page.go_back()  # back: the previous view, not the previous page
    page.wait_for_url(re.compile(r"districts=jarva,bromma,farsta&division=sdo11"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare-content thead th')]"
        ".some(th => th.textContent === 'Järva')")
    assert _headers(page) == ["Järva", "Bromma", "Farsta"]
    assert page.console_errors == []


def test_shared_url_restores(server_url, page):
    _open(page, f"{server_url}/compare?districts=skarholmen,norra_innerstaden&division=sdo11")
    assert _headers(page) == ["Skärholmen", "Norra innerstaden"]
    pills = page.locator(".mantine-MultiSelect-pill").all_inner_texts()
    assert [p.strip() for p in pills] == ["Skärholmen", "Norra innerstaden"]
    assert page.locator("#notice").inner_text() == ""


def test_english(server_url, page):
    _open(page, f"{server_url}/compare?districts=jarva,bromma&division=sdo11&lang=en")
    assert page.get_by_role("heading", name="Compare districts").is_visible()
    assert page.locator(f"{SECTIONS} >> nth=0").locator("thead th").nth(2).text_content() == "City"
    assert page.get_by_text("No data").first.is_visible()
    assert "Index, city = 100" in page.locator("#compare-graph-work").text_content()
    assert page.console_errors == []


def test_hostile_link_falls_back_with_notice(server_url, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, f"{server_url}/compare?districts=%3Cscript%3Ealert(1)%3C/script%3E,"
                "bromma,jarva,farsta,alvsjo,skarholmen,sodermalm&division=x&lang=%3Cb%3E")
    notice = page.locator("#notice").inner_text()
    assert "okända" in notice and "Högst fyra" in notice
    text = page.locator("body").inner_text()
    assert "alert(" not in text and "<script" not in text and "<b>" not in text
    assert dialogs == []
    assert _headers(page) == ["Bromma", "Järva", "Farsta", "Skärholmen"]
    # the address bar is rewritten to the valid view
    page.wait_for_url(re.compile(r"districts=bromma,jarva,farsta,skarholmen&division=sdo11"))


def test_two_changes_back_twice_forward(server_url, page):
    _open(page, f"{server_url}/compare?districts=jarva,bromma&division=sdo11&lang=sv")

    def view(n: str, first: str) -> None:
        page.wait_for_url(re.compile(f"division=sdo{n}"))
        page.wait_for_function(
            "n => document.querySelector('#compare-division').value.startsWith(n + ' ')", arg=n)
        page.wait_for_function(
            "f => (document.querySelector('#compare-content thead th:nth-child(4)') || {})"
            ".textContent === f", arg=first)

    for n in ("13", "14"):
        page.locator("#compare-division").click()
        page.get_by_role("option", name=re.compile(f"^{n} ")).click()
        view(n, "Rinkeby-Kista")
    page.go_back()
    view("13", "Rinkeby-Kista")
    page.go_back()
    view("11", "Järva")
    assert _headers(page) == ["Järva", "Bromma"]
    page.go_forward()
    view("13", "Rinkeby-Kista")
    page.go_forward()
    view("14", "Rinkeby-Kista")
    assert page.console_errors == []
