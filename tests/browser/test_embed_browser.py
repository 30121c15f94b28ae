"""Embeds inside an <iframe> of another page, the download/share menu and presentation mode,
in Debian's chromium against the app served by gunicorn (fixtures in conftest.py)."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def host_url():
    """A tiny local web server on another port (another origin) for the host page."""

    class Host(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>host</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://localhost:{srv.server_address[1]}/slides"
    srv.shutdown()


@pytest.mark.parametrize("path", [
    "/embed/map?lang=en&indicator=turnout_riksdag&year=2022&division=sdo11",
    "/embed/trend?lang=sv",
    "/embed/gap?measure=range",
    "/embed/profile?districts=jarva,bromma&area=work",
])
def test_embed_in_iframe(page, server_url, host_url, path):
    # another site on this machine: frame-ancestors '*' does not match an about:blank parent,
    # and Chromium's local-network checks block a public page from framing 127.0.0.1
    page.goto(host_url)
    page.set_content(
        "<!doctype html><html><body style='margin:0'><h1>Kommunfullmäktige</h1>"
        f"<iframe id='f' src='{server_url}{path}' width='800' height='500' "
        "style='border:0'></iframe></body></html>")
    frame = page.frame_locator("#f")
    plot = frame.locator(".embed-root .js-plotly-plot .main-svg").first
    plot.wait_for(state="visible", timeout=20000)
    frame.locator(".embed-title").wait_for(state="visible")
    assert frame.locator("#app-header").is_hidden()
    box = frame.locator(".embed-graph").bounding_box()
    assert box["width"] > 700 and box["height"] > 300  # the chart fills the frame
    assert "Skillnader" in frame.locator(".embed-source").inner_text()
    assert page.console_errors == []


def test_embed_headers_allow_framing(server_url):
    with urllib.request.urlopen(server_url + "/embed/map") as r:
        assert "X-Frame-Options" not in r.headers


def test_menu_links_follow_the_page_state(page, server_url):
    page.goto(server_url + "/?lang=en&indicator=turnout_riksdag&year=2010&division=sdo11")
    btn = page.locator("#app-shell button:has-text('Download / share')").first
    btn.wait_for(state="visible", timeout=20000)
    btn.click()
    png = page.get_by_role("menuitem", name="PNG 16:9 (slide image)").first
    png.wait_for(state="visible")
    page.wait_for_function(
        "() => [...document.querySelectorAll('a[role=menuitem]')]"
        ".some(a => a.href.includes('/export/map.png'))", timeout=10000)
    href = png.get_attribute("href")
    assert "/export/map.png?" in href and "year=2010" in href and "preset=slide" in href
    assert "v=" in href
    with urllib.request.urlopen(server_url + href if href.startswith("/") else href) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "image/png"

    page.get_by_role("menuitem", name="Share …").first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(state="visible")
    iframe_code = dialog.locator("textarea").input_value()
    assert iframe_code.startswith("<iframe src=") and "/embed/map?" in iframe_code
    assert "v=" not in dialog.get_by_label("Embed link").input_value()
    dialog.get_by_label("Pin the data version", exact=False).check()
    page.wait_for_function(
        "() => document.querySelector('[role=dialog] textarea').value.includes('v=')")
    assert page.console_errors == []


def test_presentation_mode(page, server_url):
    page.goto(server_url + "/trends?present=1")
    page.locator("#app-shell.present-mode").wait_for(timeout=20000)
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 20
    assert page.console_errors == []
