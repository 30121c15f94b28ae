"""The Content-Security-Policy of pages/hardening.py holds in a real browser: every page renders
its figures with zero CSP violations (no 'unsafe-eval', Dash's inline scripts by hash)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/", "/?lang=en", "/trends", "/compare", "/data"]


@pytest.mark.parametrize("path", PAGES)
def test_no_csp_violations(page, server_url, path):
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' "
        "+ e.blockedURI));"
    )
    resp = page.goto(server_url + path)
    assert resp.status == 200
    assert "frame-ancestors 'self'" in resp.headers["content-security-policy"]
    assert "unsafe-eval" not in resp.headers["content-security-policy"]
    page.wait_for_selector("#react-entry-point .js-plotly-plot, #react-entry-point table",
                           timeout=30_000)
    page.wait_for_timeout(1500)  # late figures (map worker, trends) render
    assert violations == []
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
