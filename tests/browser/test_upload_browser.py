"""Your data page in a real browser: a rejected file lists its problems, a good CSV is saved and
listed, opens on the map with its source cited, and nothing logs a console error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SDO11 = ("Järva", "Hässelby-Vällingby", "Bromma", "Kungsholmen", "Norra innerstaden", "Södermalm",
         "Enskede-Årsta-Vantör", "Skarpnäck", "Farsta", "Hägersten-Älvsjö", "Skärholmen")
GOOD = ("område;år;värde\n" + "".join(
    f"{name};{year};{i + (year - 2022) / 2:.1f}".replace(".", ",") + "\n"
    for year in (2022, 2023) for i, name in enumerate(SDO11))).encode()
BAD = "område;år;värde\nJärva;2022;1\nAtlantis;2022;2\n".encode()


def _choose(page, name: str, content: bytes) -> None:
    page.set_input_files("#upload-file input[type=file]",
                         files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    page.wait_for_function(f"() => document.querySelector('#upload-filename')"
                           f".textContent.includes({name!r})")


def test_upload_listed_and_shown_on_map(server_url, page):
    page.goto(server_url + "/upload")
    page.wait_for_selector("#upload-empty")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["skillnader_session"]["httpOnly"] and cookies["skillnader_session"][
        "sameSite"] == "Lax"

    _choose(page, "fel.csv", BAD)
    page.fill("#upload-title", "Cyklar per hushåll")
    page.fill("#upload-unit", "st")
    page.click("#upload-submit")
    page.wait_for_selector(".upload-rejected")
    assert "Atlantis" in page.text_content(".upload-problems")
    assert page.query_selector("#upload-empty")  # nothing stored

    _choose(page, "cyklar.csv", GOOD)
    page.click("#upload-submit")
    page.wait_for_selector(".upload-saved")
    page.wait_for_selector(".upload-item")
    assert "Cyklar per hushåll" in page.text_content(".upload-item-title")

    page.click(".upload-show-map")
    page.wait_for_function(
        "() => (document.querySelector('#map-graph .gtitle') || {}).textContent"
        "?.includes('Cyklar per hushåll')", timeout=20000)
    page.wait_for_function(
        "() => (document.querySelector('#map-source') || {}).textContent"
        "?.includes('Egen uppladdning')", timeout=20000)
    assert page.console_errors == []


def test_stop_sharing(server_url, page):
    page.goto(server_url + "/upload?lang=en")
    _choose(page, "delning.csv", GOOD)
    page.fill("#upload-unit", "st")
    page.click("#upload-submit")
    page.wait_for_selector(".upload-item")
    assert page.text_content(".upload-item-title") == "delning"  # the suggested title
    assert page.query_selector(".upload-unshare") is None
    page.click(".upload-share")
    page.wait_for_selector(".upload-share-link")
    page.click(".upload-unshare")
    page.wait_for_selector(".upload-unshared")
    page.wait_for_function("() => !document.querySelector('.upload-unshare')")
    assert page.console_errors == []


def test_english_lists_problems_in_english(server_url, page):
    page.goto(server_url + "/upload?lang=en")
    _choose(page, "bad.csv", BAD)
    # the empty title is filled in from the file name; the unit is still missing
    page.wait_for_function("() => document.querySelector('#upload-title').value === 'bad'")
    page.click("#upload-submit")
    page.wait_for_selector(".upload-rejected")
    text = page.text_content(".upload-problems")
    assert "Form field: Unit" in text and "Form field: Title" not in text
    assert "Atlantis" in text
    assert page.console_errors == []
