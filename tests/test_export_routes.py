"""GET /export/<chart>.<fmt> through Flask's test client: every format opens in its reference
reader, bad requests are clear 4xx, a pinned data version serves that version's numbers.
Image formats need Debian's chromium (kaleido) and are marked `browser`."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from indicators import store as store_mod
from indicators.build import pin_version, versions_dir
from indicators.store import Store, UnknownVersionError, get_store
from pages import export

CHARTS = ("map", "ranking", "trend", "gap", "profile")


@pytest.fixture(scope="module")
def client():
    import app

    return app.server.test_client()


# ------------------------------------------------------------------------ data formats


@pytest.mark.parametrize("chart", CHARTS)
def test_csv_round_trip(client, chart):
    r = client.get(f"/export/{chart}.csv?lang=en")
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")
    df = export.read_csv(r.data, "en")
    assert len(df) > 0
    for col in ("unit", "source", "licence", "aggregation_note", "data_version", "division"):
        assert col in df.columns
    assert (df["data_version"] == get_store().data_version).all()


def test_csv_is_exactly_the_map_data(client):
    store = get_store()
    r = client.get("/export/map.csv?lang=sv&indicator=turnout_riksdag&year=2022&division=sdo11")
    df = export.read_csv(r.data, "sv")
    want = export.chart_table(store, "turnout_riksdag", "sdo11", 2022)
    assert sorted(df["district_code"]) == sorted(want["district_code"])
    got = df.set_index("district_code")["value"].sort_index()
    exp = want.set_index("district_code")["value"].sort_index()
    pd.testing.assert_series_equal(got, exp, check_names=False, atol=1e-9)
    assert (df["year"] == 2022).all()


@pytest.mark.parametrize("chart", CHARTS)
def test_xlsx_round_trip(client, chart):
    from openpyxl import load_workbook

    r = client.get(f"/export/{chart}.xlsx")
    assert r.status_code == 200, r.data[:300]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Data", "Om data"]
    df = pd.read_excel(io.BytesIO(r.data), sheet_name="Data")
    assert len(df) > 0 and "source" in df.columns and "unit" in df.columns
    about = " ".join(str(c.value) for row in wb["Om data"].iter_rows() for c in row if c.value)
    assert get_store().data_version in about


# ------------------------------------------------------------------------ bad requests


@pytest.mark.parametrize(("path", "status", "word"), [
    ("/export/nope.png", 404, "unknown chart"),
    ("/export/map.gif", 404, "unknown format"),
    ("/export/map.csv?indicator=nope", 400, "indicator"),
    ("/export/trend.csv?measure=<script>alert(1)</script>", 400, "measure"),
    ("/export/map.png?preset=poster", 400, "preset"),
    ("/export/map.png?scale=1e9", 400, "scale"),
    ("/export/map.png?scale=nan", 400, "scale"),
    ("/export/map.csv?year=2022&year=2018", 400, "year"),
    ("/export/map.csv?width=99999", 400, "width"),
    ("/export/map.csv?v=0000000000ff", 404, "not kept"),
    ("/export/map.csv?v=../../../etc/passwd", 404, "hex"),
    ("/export/map.csv?indicator=" + "x" * 5000, 414, "longer"),
])
def test_bad_requests_are_clear_4xx(client, path, status, word):
    r = client.get(path)
    assert r.status_code == status
    body = r.get_json()
    assert word in body["error"]
    assert "<script>" not in r.get_data(as_text=True)


def test_renderer_failure_is_503_and_app_keeps_serving(client, monkeypatch):
    from pages import export_routes, renderer

    def boom(*a, **k):
        raise renderer.RenderError("rendering took longer than 30 s and was stopped")

    monkeypatch.setattr(export, "to_image", boom)
    export_routes._cache.clear()
    r = client.get("/export/gap.png?lang=en&measure=range")
    assert r.status_code == 503
    assert "could not be rendered" in r.get_json()["error"]
    assert client.get("/export/gap.csv?lang=en").status_code == 200


# ------------------------------------------------------------------------ images (chromium)


@pytest.mark.browser
@pytest.mark.parametrize(("chart", "preset", "size"), [
    ("map", "slide", (1920, 1080)), ("ranking", "square", (1080, 1080)),
    ("trend", "slide", (1920, 1080)), ("gap", "square", (1080, 1080)),
    ("profile", "slide", (1920, 1080)),
])
def test_png(client, chart, preset, size):
    r = client.get(f"/export/{chart}.png?preset={preset}")
    assert r.status_code == 200, r.data[:300]
    assert export.png_size(r.data) == size


@pytest.mark.browser
def test_svg_has_size_and_text(client):
    r = client.get("/export/map.svg?preset=square&lang=en")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert re.search(r'<svg[^>]*width="720"[^>]*height="720"', text)
    assert "Turnout" in text and get_store().data_version in text


@pytest.mark.browser
def test_pptx_text(client):
    from pptx import Presentation

    r = client.get("/export/trend.pptx?lang=en")
    assert r.status_code == 200
    prs = Presentation(io.BytesIO(r.data))
    texts = [sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame]
    joined = " ".join(texts)
    assert "Employment" in joined
    assert "gap" in joined.lower()  # the takeaway sentence
    assert get_store().data_version in joined and "Source" in joined
    assert any(sh.shape_type == 13 for sh in prs.slides[0].shapes)  # the picture


# ------------------------------------------------------------------------ pinned versions


@pytest.fixture
def two_versions(tmp_path, monkeypatch):
    """A copy of the build pinned as version A, then 'rebuilt' with one value changed (B)."""
    src = get_store().build_dir
    build = tmp_path / "build"
    shutil.copytree(src, build, ignore=shutil.ignore_patterns("observations.parquet"))
    a = json.loads((build / "build_info.json").read_text())["data_version"]
    assert pin_version(build) == versions_dir(build) / a

    ind = pd.read_parquet(build / "indicators.parquet")
    row = ((ind["indicator_id"] == "turnout_riksdag") & (ind["division"] == "sdo11")
           & (ind["year"] == 2022) & (ind["sex"] == "total") & (ind["district_code"] == "jarva"))
    assert row.sum() == 1
    old = float(ind.loc[row, "value"].iloc[0])
    ind.loc[row, "value"] = 12.5
    ind.to_parquet(build / "indicators.parquet", index=False)
    info = json.loads((build / "build_info.json").read_text())
    info["data_version"] = b = "bbbbbbbbbbbb"
    (build / "build_info.json").write_text(json.dumps(info))
    pin_version(build)

    st = Store.load(build)
    monkeypatch.setattr(store_mod, "_STORE", st)
    from pages import export_routes

    export_routes._cache.clear()
    return st, a, b, old


def test_store_pinned_tables(two_versions):
    st, a, b, old = two_versions
    assert st.data_version == b
    pinned = st.pinned(a)
    assert pinned.data_version == a and pinned is st.pinned(a)  # cached
    v = pinned.values("turnout_riksdag", "sdo11")
    assert float(v[(v["year"] == 2022) & (v["district_code"] == "jarva")]["value"].iloc[0]) \
        == pytest.approx(old)
    now = st.values("turnout_riksdag", "sdo11")
    assert float(now[(now["year"] == 2022) & (now["district_code"] == "jarva")]["value"]
                 .iloc[0]) == 12.5
    assert st.pinned(None) is st and st.pinned(b) is st
    with pytest.raises(UnknownVersionError):
        st.pinned("0123456789ab")


def test_pinned_request_returns_that_versions_numbers(client, two_versions):
    _st, a, b, old = two_versions
    q = "/export/map.csv?lang=en&indicator=turnout_riksdag&year=2022&division=sdo11"
    pinned = export.read_csv(client.get(q + f"&v={a}").data, "en").set_index("district_code")
    current = export.read_csv(client.get(q).data, "en").set_index("district_code")
    assert pinned.loc["jarva", "value"] == pytest.approx(old)
    assert current.loc["jarva", "value"] == pytest.approx(12.5)
    assert (pinned["data_version"] == a).all() and (current["data_version"] == b).all()
    assert client.get(q + "&v=cccccccccccc").status_code == 404


def test_embed_with_pinned_and_unknown_version(client, two_versions):
    _st, a, _b, _old = two_versions
    html = client.get(f"/embed/map?v={a}").get_data(as_text=True)
    assert "<html" in html.lower()
    # the embed layout itself (Dash renders pages client-side): build it directly
    from pages.embed import embed_layout

    div = embed_layout("map", v=a)
    assert div.to_plotly_json()["props"]["data-version"] == a
    div = embed_layout("map", v="cccccccccccc")
    text = json.dumps(div.to_plotly_json(), default=str)
    assert "dataversionen finns inte" in text


def test_versions_are_pruned(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    for name in ("indicators", "inequality", "verdicts"):
        pd.DataFrame({"x": [1]}).to_parquet(build / f"{name}.parquet")
    for i in range(5):
        (build / "build_info.json").write_text(json.dumps({"data_version": f"{i:012x}"}))
        pin_version(build, keep=3)
    kept = sorted(p.name for p in versions_dir(build).iterdir())
    assert kept == [f"{i:012x}" for i in (2, 3, 4)]
    assert isinstance(versions_dir(build), Path)


def test_files_of_sessions_with_uploads_are_never_cached(client, monkeypatch):
    """A session with uploads renders its own files; another session asking for the same URL
    must not get them, so such files never enter the export cache."""
    from dataclasses import replace

    from pages import export_routes

    export_routes._cache.clear()
    url = "/export/ranking.csv?indicator=turnout_riksdag&division=sdo11&year=2022&lang=sv"
    base = get_store()
    overlay = replace(base)  # a different store object: what a session with uploads gets
    monkeypatch.setattr(export_routes, "get_store", lambda: overlay)
    monkeypatch.setattr(export_routes, "base_store", lambda: base)
    assert client.get(url).status_code == 200
    assert not export_routes._cache, "a file rendered for a session with uploads was cached"
    monkeypatch.setattr(export_routes, "get_store", lambda: base)
    assert client.get(url).status_code == 200
    assert len(export_routes._cache) == 1  # the built data's file is cached
