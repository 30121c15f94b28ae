"""Exports open in their reference readers and explain themselves; the renderer is shared,
thread-safe, bounded and comes back after a crash or a hang.

Format tests use a small hand-made table and metadata (no build, no browser). Tests marked
`browser` render with Debian's chromium through one renderer shared by the session.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import struct
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import pytest
from pydantic import ValidationError

from pages import export, renderer
from pages.export import ChartMeta, SourceRef

# ------------------------------------------------------------------------------ fixtures

VERSION = "0123456789abcdef"


def _meta(lang: str = "sv", **kw) -> ChartMeta:
    sv = lang == "sv"
    base = {
        "title": "Valdeltagande i riksdagsvalet" if sv else "Turnout in the parliamentary election",
        "unit": "procent av röstberättigade" if sv else "percent of eligible voters",
        "short_unit": "%",
        "decimals": 1,
        "years": (2010, 2022),
        "division": "sdo14",
        "division_label": "14 stadsdelsområden (2007-2020)" if sv else "14 districts (2007-2020)",
        "sources": (
            SourceRef(name="Valmyndigheten", citation="Valmyndigheten: Riksdagsvalet 2022",
                      url="https://www.val.se/valresultat/", licence="free reuse with attribution"),
            SourceRef(name="Valmyndigheten valgeografi 2022",
                      citation="Valmyndigheten valgeografi 2022: valdistrikt",
                      url="https://www.val.se/valresultat/valgeografi.html",
                      licence="free reuse with attribution (Valmyndigheten)"),
        ),
        "data_version": VERSION,
        "lang": lang,
        "aggregation_note": "Kvot av summor." if sv else "Ratio of sums.",
        "takeaway": ("Skillnaden i valdeltagande mellan högsta och lägsta stadsdel ökade från "
                     "14,5 till 22,4 procentenheter, 2010-2022." if sv else
                     "The gap in turnout between the highest and lowest district grew from 14.5 "
                     "to 22.4 percentage points, 2010-2022."),
        "indicator_id": "turnout_riksdag",
        "definition": "Röstande i procent av röstberättigade." if sv else "Voters in percent.",
    }
    base.update(kw)
    return ChartMeta(**base)


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "district_code": ["rinkeby_kista", "sodermalm", "alvsjo", "rinkeby_kista", "sodermalm",
                          "alvsjo"],
        "district_name": ["Rinkeby-Kista", "Södermalm", "Älvsjö"] * 2,
        "year": [2010, 2010, 2010, 2022, 2022, 2022],
        "sex": "total",
        "value": [62.25, 86.5, float("nan"), 55.125, 86.75, 84.0],
        "coverage": [1.0, 1.0, 0.2, 1.0, 1.0, 1.0],
    })


def _tiny_png(width: int, height: int) -> bytes:
    """A valid grey PNG made with zlib only."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _bars(title: str = "Valdeltagande") -> go.Figure:
    fig = go.Figure(go.Bar(x=[55.1, 86.8, 84.0], y=["Rinkeby-Kista", "Södermalm", "Älvsjö"],
                           orientation="h"))
    fig.update_layout(title=title, xaxis_title="procent")
    return fig


def _square_map() -> go.Figure:
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[17.9, 59.3], [18.0, 59.3],
                                                          [18.0, 59.36], [17.9, 59.3]]]}},
        {"type": "Feature", "id": "b", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[18.0, 59.3], [18.1, 59.3],
                                                          [18.1, 59.36], [18.0, 59.3]]]}},
    ]}
    return go.Figure(go.Choroplethmap(geojson=gj, locations=["a", "b"], z=[1, 2]),
                     layout={"map": {"style": "white-bg"}})


def _browser_available() -> bool:
    path = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    return os.path.isfile(path) or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def shared_renderer():
    """The process's renderer, started once for all browser tests."""
    if not _browser_available():
        pytest.skip("no chromium (/usr/bin/chromium or $BROWSER_PATH)")
    r = renderer.get_renderer()
    yield r
    renderer.shutdown()


# ------------------------------------------------------------------------------ metadata


def test_meta_forbids_unknown_fields_and_sorts_years():
    with pytest.raises(ValidationError):
        _meta(colour="red")
    m = _meta(years=(2022, 2010, 2018, 2022))
    assert m.years == (2010, 2018, 2022) and m.year_label == "2010-2022"
    assert _meta(years=(2022,)).year_label == "2022"


def test_footnote_groups_publishers_and_names_version_division():
    m = _meta()
    assert m.short_source == "Valmyndigheten"
    foot = m.footnote()
    assert "Källa: Valmyndigheten." in foot and "Licens: free reuse with attribution." in foot
    assert VERSION in foot and "14 stadsdelsområden" in foot
    en = _meta("en").footnote()
    assert en.startswith("Source: Valmyndigheten.") and "Data version" in en


def test_filename_is_ascii_and_says_what_it_is():
    assert export.filename(_meta(), "csv") == "turnout-riksdag_sdo14_2010-2022_01234567.csv"


# ------------------------------------------------------------------------------ CSV / XLSX


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_csv_round_trip_with_bom_and_metadata_columns(lang):
    data = export.to_csv(_table(), _meta(lang))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Södermalm" in text and "Älvsjö" in text
    sep, dec = export.CSV_DIALECT[lang]
    assert text.splitlines()[0].count(sep) > 5
    back = pd.read_csv(io.BytesIO(data), sep=sep, decimal=dec, encoding="utf-8-sig",
                       dtype={"data_version": str})
    for col in export.META_COLUMNS:
        assert col in back.columns, col
    assert set(back["data_version"]) == {VERSION}
    assert set(back["division"]) == {"sdo14"}
    assert set(back["unit"]) == {_meta(lang).unit}
    assert back["source"].iloc[0].startswith("Valmyndigheten: Riksdagsvalet 2022")
    assert "https://www.val.se/valresultat/" in back["source"].iloc[0]
    assert back["licence"].iloc[0].startswith("free reuse with attribution")
    assert back["aggregation_note"].iloc[0] == _meta(lang).aggregation_note
    assert back["value"].tolist()[:2] == [62.25, 86.5] and pd.isna(back["value"].iloc[2])
    assert back["year"].tolist() == [2010, 2010, 2010, 2022, 2022, 2022]
    pd.testing.assert_frame_equal(export.read_csv(data, lang), back, check_dtype=False)


def test_csv_adds_year_and_division_when_the_table_has_none():
    one = _table()[lambda d: d["year"] == 2022].drop(columns=["year"])
    back = export.read_csv(export.to_csv(one, _meta(years=(2022,))))
    assert set(back["year"]) == {2022} and set(back["division"]) == {"sdo14"}
    with pytest.raises(ValueError, match="year"):
        export.to_csv(one, _meta())


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_xlsx_opens_with_data_and_about_sheets(lang):
    from openpyxl import load_workbook

    data = export.to_xlsx(_table(), _meta(lang))
    wb = load_workbook(io.BytesIO(data))
    about_name = "Om data" if lang == "sv" else "About"
    assert wb.sheetnames == ["Data", about_name]
    df = pd.read_excel(io.BytesIO(data), sheet_name="Data", dtype={"data_version": str})
    for col in export.META_COLUMNS:
        assert col in df.columns, col
    assert df["district_name"].tolist()[:3] == ["Rinkeby-Kista", "Södermalm", "Älvsjö"]
    assert df["value"].iloc[0] == 62.25 and pd.isna(df["value"].iloc[2])
    assert set(df["data_version"]) == {VERSION}
    about = wb[about_name]
    cells = [str(c.value) for row in about.iter_rows() for c in row if c.value is not None]
    text = "\n".join(cells)
    m = _meta(lang)
    for needle in (m.title, m.definition, m.unit, m.division_label, m.aggregation_note,
                   m.takeaway, VERSION, "https://www.val.se/valresultat/",
                   "free reuse with attribution (Valmyndigheten)", "2010-2022"):
        assert needle in text, needle
    links = [c.hyperlink.target for row in about.iter_rows() for c in row if c.hyperlink]
    assert "https://www.val.se/valresultat/valgeografi.html" in links
    assert wb["Data"]["A2"].value is not None and wb["Data"].freeze_panes == "A2"


# ------------------------------------------------------------------------------ PPTX


def test_pptx_slide_has_title_image_takeaway_and_footnote():
    from pptx import Presentation
    from pptx.util import Inches

    png = _tiny_png(192, 108)
    m = _meta()
    prs = Presentation(io.BytesIO(export.to_pptx(png, m)))
    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))
    assert len(prs.slides) == 1
    slide = prs.slides[0]
    assert slide.shapes.title.text == "Valdeltagande i riksdagsvalet, 2010-2022"
    texts = {s.name: s.text_frame.text for s in slide.shapes if s.has_text_frame}
    assert texts["Takeaway"] == m.takeaway
    foot = texts["Footnote"]
    assert "Valmyndigheten" in foot and VERSION in foot and "14 stadsdelsområden" in foot
    pics = [s for s in slide.shapes if s.shape_type == 13]  # PICTURE
    assert len(pics) == 1
    pic = pics[0]
    assert pic.width / pic.height == pytest.approx(192 / 108, rel=0.01)
    assert pic.left >= 0 and pic.left + pic.width <= prs.slide_width
    assert pic.top + pic.height <= slide.shapes[-1].top + 1  # above the footnote
    assert "Valdeltagande" in pic._element.nvPicPr.cNvPr.get("descr")
    assert prs.core_properties.title == m.title


def test_pptx_rejects_non_png():
    with pytest.raises(ValueError, match="PNG"):
        export.to_pptx(b"<svg/>", _meta())


# ------------------------------------------------------------------------------ layout


def test_presentation_layout_puts_title_and_source_in_the_figure():
    fig = export.presentation_figure(_bars(), "slide", _meta())
    assert fig.layout.width == 1280 and fig.layout.height == 720
    assert "Valdeltagande i riksdagsvalet" in fig.layout.title.text
    assert "2010-2022" in fig.layout.title.text
    assert "14 stadsdelsområden" in fig.layout.title.subtitle.text
    foot = fig.layout.annotations[-1].text
    assert VERSION in foot and "Valmyndigheten" in foot
    assert fig.layout.font.size > 12
    assert export.output_size("slide") == (1920, 1080)
    assert export.output_size("square") == (1080, 1080)
    with pytest.raises(ValueError):
        export.presentation_figure(_bars(), "poster", _meta())


def test_map_is_zoomed_to_fit_its_polygons():
    fig = export.presentation_figure(_square_map(), "square", _meta())
    c = fig.layout.map.center
    assert 17.9 < c.lon < 18.1 and 59.3 < c.lat < 59.36
    assert 9 < fig.layout.map.zoom < 14
    center, zoom = export.fit_map((17.75, 59.22, 18.2, 59.43), 1000, 600)
    assert 9.5 < zoom < 11 and center["lon"] == pytest.approx(17.975)


# ------------------------------------------------------------------------------ takeaway


def _fake_store(rows: list[tuple[int, float]], unit_sv="procent", short="%", decimals=1):
    from indicators.catalog import Indicator

    ind = Indicator.model_validate({
        "id": "x", "title": {"sv": "Valdeltagande", "en": "Turnout"},
        "unit": {"sv": unit_sv, "en": "percent" if unit_sv == "procent" else "persons"},
        "short_unit": short, "decimals": decimals, "direction": "higher_is_better",
        "definition": {"sv": "d", "en": "d"}, "sources": ["s"], "source_division": "valdistrikt",
        "aggregation": {"kind": "sum", "variable": "v"},
    })
    q = pd.DataFrame([("x", "sdo14", y, "total", "range", v, 14) for y, v in rows],
                     columns=["indicator_id", "division", "year", "sex", "measure", "value",
                              "n_districts"])
    return SimpleNamespace(catalog={"x": ind}, inequality=q)


def test_takeaway_sentence_in_both_languages():
    s = _fake_store([(2022, 22.41), (2010, 14.5), (2018, 30.0), (2026, float("nan"))])
    assert export.takeaway(s, "x", "sdo14", "total", "sv") == (
        "Skillnaden i valdeltagande mellan högsta och lägsta stadsdel ökade från 14,5 till "
        "22,4 procentenheter, 2010-2022.")
    assert export.takeaway(s, "x", "sdo14", "total", "en") == (
        "The gap in turnout between the highest and lowest district grew from 14.5 to 22.4 "
        "percentage points, 2010-2022.")


def test_takeaway_narrowed_unchanged_single_year_and_missing():
    down = _fake_store([(2010, 22.4), (2022, 14.5)])
    assert "minskade från 22,4 till 14,5" in export.takeaway(down, "x", "sdo14", "total", "sv")
    assert "narrowed from 22.4 to 14.5" in export.takeaway(down, "x", "sdo14", "total", "en")
    same = _fake_store([(2010, 14.51), (2022, 14.54)])
    assert "var oförändrad, 14,5 procentenheter, 2010-2022" in export.takeaway(
        same, "x", "sdo14", "total", "sv")
    one = _fake_store([(2022, 1234.0)], unit_sv="personer", short="", decimals=0)
    assert export.takeaway(one, "x", "sdo14", "total", "sv") == (
        "Skillnaden i valdeltagande mellan högsta och lägsta stadsdel var 1\u202f234 personer "
        "2022.")
    assert export.takeaway(one, "x", "sdo14", "total", "en") == (
        "The gap in turnout between the highest and lowest district was 1,234 persons in 2022.")
    assert export.takeaway(one, "x", "regso", "total", "sv") == ""
    assert export.takeaway(one, "x", "sdo14", "female", "sv") == ""


# ------------------------------------------------------------------------------ real build


@pytest.fixture(scope="module")
def store(built_store):
    return built_store


def test_chart_meta_and_table_from_the_build(store):
    ind_id, div = "turnout_riksdag", "sdo14"
    years = store.years(ind_id, div, mappable_only=False)
    meta = export.chart_meta(store, ind_id, div, years, "en")
    assert meta.data_version == store.info["data_version"]
    assert meta.title == store.catalog[ind_id].title.en
    assert meta.short_source == "Valmyndigheten"
    assert meta.takeaway.startswith("The gap in turnout in the parliamentary election")
    assert "percentage points" in meta.takeaway
    table = export.chart_table(store, ind_id, div, years)
    assert len(table) == len(years) * store.unit_count(div)
    back = export.read_csv(export.to_csv(table, meta), "en")
    assert len(back) == len(table) and set(back["data_version"]) == {meta.data_version}


def test_transcribed_indicator_cites_the_publications_it_came_from(store):
    ids = [i for i, ind in store.catalog.items()
           if any(store.registry.sources[s].root == "transcribed" for s in ind.sources
                  if s in store.registry.sources) and store.divisions(i)]
    assert ids
    ind_id = ids[0]
    div = store.divisions(ind_id)[0]
    meta = export.chart_meta(store, ind_id, div, store.years(ind_id, div, False), "sv")
    assert all("Various official publishers" not in s.citation for s in meta.sources)
    assert any(s.url for s in meta.sources)


# ------------------------------------------------------------------------------ renderer


def test_absurd_sizes_fail_before_anything_renders():
    r = renderer.Renderer()
    for w, h, scale in [(100_000, 500, 1), (500, 10, 1), (4000, 4000, 4), (800, 600, 0),
                        (800, 600, 50), (800.5, 600, 1)]:
        with pytest.raises(renderer.ImageSizeError):
            r.render(_bars(), "png", w, h, scale)
    with pytest.raises(ValueError, match="format"):
        r.render(_bars(), "gif", 800, 600, 1)
    assert r.starts == 0 and not r.is_running()


@pytest.mark.browser
def test_png_and_svg_open_in_their_readers(shared_renderer):
    png = export.to_image(_bars(), "png", "slide", _meta(), renderer=shared_renderer)
    assert export.png_size(png) == (1920, 1080)
    svg = export.to_image(_bars(), "svg", "square", _meta(), renderer=shared_renderer)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert float(root.get("width")) == 720 and float(root.get("height")) == 720
    text = " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))
    assert "Valdeltagande i riksdagsvalet" in text and VERSION in text


@pytest.mark.browser
def test_map_slide_and_pptx(shared_renderer, tmp_path):
    png = export.to_image(_square_map(), "png", "square", _meta(), renderer=shared_renderer)
    assert export.png_size(png) == (1080, 1080)
    from pptx import Presentation

    prs = Presentation(io.BytesIO(export.to_pptx(png, _meta())))
    assert any(s.shape_type == 13 for s in prs.slides[0].shapes)


@pytest.mark.browser
def test_concurrent_renders_each_get_their_own_image(shared_renderer):
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = renderer.render(_bars(f"Figur nummer {i}"), "svg", 400, 300, 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]
    for i, svg in results.items():
        assert f"Figur nummer {i}" in svg.decode()


@pytest.mark.browser
def test_killed_browser_is_restarted_on_next_use(shared_renderer):
    r = shared_renderer
    r.render(_bars(), "png", 300, 200, 1)
    pid, starts = r.browser_pid(), r.starts
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while r.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    png = r.render(_bars(), "png", 300, 200, 1)
    assert export.png_size(png) == (300, 200)
    assert r.starts == starts + 1 and r.browser_pid() != pid


@pytest.mark.browser
def test_hung_render_times_out_and_the_renderer_recovers(shared_renderer, monkeypatch):
    r = shared_renderer
    r.render(_bars(), "png", 300, 200, 1)  # make sure a browser runs
    k, starts = r._session.kaleido, r.starts

    async def hang(*args, **kwargs):
        await asyncio.sleep(60)

    monkeypatch.setattr(k, "calc_fig", hang)
    monkeypatch.setattr(r, "timeout", 0.5)
    t0 = time.monotonic()
    with pytest.raises(renderer.RenderError, match="longer than"):
        r.render(_bars(), "png", 300, 200, 1)
    assert time.monotonic() - t0 < 10
    monkeypatch.setattr(r, "timeout", 30)
    assert export.png_size(r.render(_bars(), "png", 300, 200, 1)) == (300, 200)
    assert r.starts == starts + 1
