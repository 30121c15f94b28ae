"""Browser tests: the real app under gunicorn-like serving (dash's dev server in a thread is
not used; a subprocess keeps the app's process-wide state honest), driven by Playwright in
Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SKILLNADER_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    from indicators.store import ensure_build

    ensure_build()  # build outside the server's start-up timeout
    port = _free_port()
    # the server's log goes to a file: a pipe nobody reads blocks the server once it is full
    log_path = Path(os.environ.get("SKILLNADER_TEST_SERVER_LOG")
                    or tmp_path_factory.mktemp("server") / "server.log")
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b",
         f"127.0.0.1:{port}", "--no-control-socket", "app:server"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_dash-layout", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace")) from None
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"server did not start within 60 s (log: {log_path})")
    yield url
    proc.terminate()
    proc.wait(10)
    log_file.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/run installs Debian's)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()
