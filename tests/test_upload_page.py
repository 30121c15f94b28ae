"""Your data page (pages/upload.py) and the per-session overlay store (indicators.session_store):
callbacks called with tiny CSV bytes inside Flask request contexts carrying a session cookie.
The upload database is a temporary file per test."""

from __future__ import annotations

import base64
import json

import pytest
from plotly.io.json import to_json_plotly

import app as dash_app
from data import upload_store
from indicators import session_store
from indicators.store import get_store
from pages import compare as compare_page
from pages import map as map_page
from pages import trends as trends_page
from pages import upload as up

SID_A = "a" * 43
SID_B = "b" * 43
SDO11 = ("Järva", "Hässelby-Vällingby", "Bromma", "Kungsholmen", "Norra innerstaden", "Södermalm",
         "Enskede-Årsta-Vantör", "Skarpnäck", "Farsta", "Hägersten-Älvsjö", "Skärholmen")
GOOD = "område;år;värde\n" + "".join(
    f"{name};{year};{i + (year - 2022) / 2:.1f}".replace(".", ",") + "\n"
    for year in (2022, 2023) for i, name in enumerate(SDO11))
BAD = "område;år;värde\nJärva;2022;12,5\nAtlantis;2022;3\nBromma;tjugo;4\n"


def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def as_json(obj) -> str:
    return to_json_plotly(obj)


@pytest.fixture(autouse=True)
def upload_db(tmp_path, monkeypatch):
    monkeypatch.setenv(upload_store.ENV_DB, str(tmp_path / "uploads.sqlite"))
    session_store.clear_cache()
    yield upload_store.default_store()
    session_store.clear_cache()


def request(sid: str | None = SID_A, path: str = "/_dash-update-component", **kw):
    headers = {"Cookie": f"{session_store.COOKIE}={sid}"} if sid else {}
    return dash_app.server.test_request_context(path, headers=headers, **kw)


def submit(text: str, lang: str = "sv", sid: str = SID_A, filename: str = "egna.csv",
           title: str = "Min indikator", unit: str = "%", area: str = "work"):
    with request(sid):
        return up.submit(1, data_url(text), filename, title, unit, "higher_is_better", 1, area,
                         None, lang, 0)


def rows_of(component) -> list[list[str]]:
    """The problem table's rows as [row, column, message]."""
    text = json.loads(as_json(component))
    out = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Tr" and node.get("namespace") == "dash_html_components":
                cells = node["props"]["children"]
                if all(c.get("type") == "Td" for c in cells):
                    out.append([str(c["props"]["children"]) for c in cells])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(text)
    return out


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang, unknown, year_word", [("sv", "Atlantis", "år"),
                                                       ("en", "Atlantis", "year")])
def test_problems_are_listed_with_row_and_column(lang, unknown, year_word, upload_db):
    result, rev = submit(BAD, lang=lang, title="")
    assert rev is dash_app.dash.no_update
    rows = rows_of(result)
    text = as_json(result)
    assert ("Inget har sparats" if lang == "sv" else "Nothing was saved") in text
    by_row = {r[0]: r for r in rows}
    assert "3" in by_row and "område" in by_row["3"][1] and unknown in by_row["3"][2]
    assert "4" in by_row and by_row["4"][1].startswith("år")
    # the empty title is listed together with the file's problems
    field = "Fält i formuläret: Titel" if lang == "sv" else "Form field: Title"
    assert any(r[1] == field for r in rows)
    assert len(rows) >= 3
    assert upload_db.list_for_session(SID_A) == []


def test_rejected_file_leaves_the_store_unchanged(upload_db):
    submit(GOOD)
    before = upload_db.list_for_session(SID_A)
    with request():
        store_before = get_store()
    submit(BAD)
    assert upload_db.list_for_session(SID_A) == before
    with request():
        assert get_store() is store_before


def test_good_file_is_saved_and_listed(upload_db):
    result, rev = submit(GOOD, title="Andel med egen cykel")
    assert rev == 1
    text = as_json(result)
    assert "Sparad: Andel med egen cykel" in text
    assert "Rader: 22" in text and "stadsdelsområden från 2023" in text
    [summary] = upload_db.list_for_session(SID_A)
    with request():
        listing = as_json(up.refresh_list(1, "en"))
    assert "Andel med egen cykel" in listing and "Show on map" in listing
    assert f"indicator=upload_{summary.upload_id}" in listing
    assert "Delete" in listing and "Share" in listing


def test_overlay_has_the_upload_for_its_session_only(upload_db):
    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    base = get_store()  # outside a request: the built store
    assert ind_id not in base.catalog
    with request(SID_A):
        store = get_store()
        assert ind_id in store.catalog and store.catalog[ind_id].area == "work"
        assert store.years(ind_id, "sdo11") == [2022, 2023]
        assert get_store() is store  # once per request
    with request(SID_A):
        assert get_store() is store  # cached per session and uploads
    with request(SID_B):
        assert ind_id not in get_store().catalog
    with request(None):
        assert ind_id not in get_store().catalog
    assert ind_id not in get_store().catalog and len(base.catalog) == len(get_store().catalog)


def test_share_token_gives_access_and_delete_removes(upload_db):
    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    token = upload_db.share_token_for(summary.upload_id, SID_A)
    assert token
    href = up.share_href(token, summary.upload_id, "sv")
    assert f"upload={token}" in href
    # a callback request whose page was opened by the share link (Referer) or with the cookie
    with dash_app.server.test_request_context(
            "/_dash-update-component",
            headers={"Cookie": f"{session_store.COOKIE}={SID_B}", "Referer": "http://x" + href}):
        assert ind_id in get_store().catalog
    with dash_app.server.test_request_context("/_dash-update-component", headers={
            "Cookie": f"{session_store.COOKIE}={SID_B}; {session_store.SHARED_COOKIE}={token}"}):
        assert ind_id in get_store().catalog
    with request(SID_B):
        assert ind_id not in get_store().catalog
    # the owner deletes it: gone for both
    assert upload_db.delete(summary.upload_id, SID_A)
    with request(SID_A):
        assert ind_id not in get_store().catalog


def test_cookies_are_set_httponly_lax():
    client = dash_app.server.test_client()
    resp = client.get("/upload")
    cookie = resp.headers.get("Set-Cookie", "")
    assert cookie.startswith(session_store.COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_share_link_opened_sets_shared_cookie(upload_db):
    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    token = upload_db.share_token_for(summary.upload_id, SID_A)
    client = dash_app.server.test_client()
    resp = client.get(f"/?upload={token}")
    cookies = resp.headers.getlist("Set-Cookie")
    assert any(c.startswith(f"{session_store.SHARED_COOKIE}={token}") for c in cookies)
    resp = client.get("/?upload=" + "x" * 32)  # unknown token: not remembered
    assert not any(c.startswith(session_store.SHARED_COOKIE) for c in
                   resp.headers.getlist("Set-Cookie"))


# --- the pages show uploads like built-in indicators --------------------------------------------


def test_pages_show_the_upload_without_city_value(upload_db):
    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    with request(SID_A):
        page = as_json(map_page.layout(indicator=ind_id, lang="sv"))
        assert "Min indikator" in page and "The link had" not in page
        fig, _meta, _ = map_page.update_map(ind_id, "2023", "sdo11", False, "white-bg",
                                           {"division": "sdo13", "lang": "sv"}, 0, "sv")
        assert "Min indikator" in as_json(fig)
        side = as_json(map_page.update_side(ind_id, "2023", "sdo11", False, 0, "sv"))
        assert "Egen uppladdning: egna.csv" in side
        en = as_json(map_page.update_side(ind_id, "2023", "sdo11", False, 0, "en"))
        assert "egna.csv" in en
        trends = as_json(trends_page.layout(indicator=ind_id, lang="sv"))
        assert "Min indikator" in trends
        cmp = as_json(compare_page.area_parts("sdo11", ["jarva", "bromma"], "sv"))
        assert "Min indikator" in cmp
    with request(SID_B):  # another session: the link falls back with a notice
        page = as_json(map_page.layout(indicator=ind_id, lang="en"))
        assert "Min indikator" not in page
        cmp = as_json(compare_page.area_parts("sdo11", ["jarva", "bromma"], "sv"))
        assert "Min indikator" not in cmp


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_layout_renders(lang):
    with request(None, path="/upload"):
        text = as_json(up.layout(lang=lang))
    assert ("Egna data" if lang == "sv" else "Your data") in text


# --- citations per language, stop sharing, title suggestion, trends notes ----------------------


def test_upload_citation_is_translated(upload_db):
    from pages import compare_profile as cp
    from pages import map_figures as mf
    from pages import trends_logic as tl

    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    day = summary.created_at.date().isoformat()
    with request(SID_A):
        store = get_store()
        ind = store.catalog[ind_id]
        for lang, label in (("sv", "Egen uppladdning"), ("en", "Own upload")):
            other = "Own upload" if lang == "sv" else "Egen uppladdning"
            full = f"{label}: egna.csv, {day}"
            assert mf.source_full(store, ind, lang) == full
            assert mf.source_short(store, ind, lang) == label
            assert tl.source_text(store, ind, lang).startswith(f"{tl.t('source', lang)}: {full}")
            assert full in tl.chart_source(store, ind, lang)
            assert cp.source_names([ind_id], store.catalog, store.registry, lang,
                                   full=True) == [full]
            assert cp.source_names([ind_id], store.catalog, store.registry, lang) == [label]
            side = as_json(map_page.update_side(ind_id, "2023", "sdo11", False, 0, lang))
            assert full in side and other not in side
            cmp = as_json(compare_page.area_parts("sdo11", ["jarva", "bromma"], lang))
            assert full in cmp and other not in cmp
        # the built sources keep their publisher in both languages
        built = next(i for i in store.catalog.values() if not i.id.startswith("upload_"))
        assert mf.source_full(store, built, "en") == mf.source_full(store, built, "sv")


def share_click(kind: str, upload_id: str, lang: str = "en", sid: str = SID_A):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    prop = json.dumps({"id": upload_id, "type": kind}, separators=(",", ":"))
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{prop}.n_clicks",
                                                       "value": 1}]))
    with request(sid):
        return up.share_or_delete([1], [None], [1], lang, 0)


def test_stop_sharing_revokes_the_link(upload_db):
    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    with request(SID_A):
        assert "Stop sharing" not in as_json(up.list_children("en"))  # not shared yet
    out, rev = share_click(up.SHARE, summary.upload_id)
    assert rev == 1 and "upload-share-link" in as_json(out)
    token = upload_db.share_token_for(summary.upload_id, SID_A)
    with request(SID_A):
        listing = as_json(up.list_children("en"))
        assert "Stop sharing" in listing and up.UNSHARE in listing
        assert "Sluta dela" in as_json(up.list_children("sv"))
    with request(SID_B, query_string={"upload": token}):
        assert ind_id in get_store().catalog
    # another session cannot stop it
    assert share_click(up.UNSHARE, summary.upload_id, sid=SID_B) == (up.no_update, up.no_update)
    assert upload_db.find_shared(token) is not None
    out, rev = share_click(up.UNSHARE, summary.upload_id)
    assert rev == 1 and "Sharing stopped" in as_json(out)
    assert upload_db.find_shared(token) is None
    session_store.clear_cache()
    with request(SID_B, query_string={"upload": token}):
        assert ind_id not in get_store().catalog
    with request(SID_A):
        assert "Stop sharing" not in as_json(up.list_children("en"))
        assert ind_id in get_store().catalog  # the owner keeps it


def test_title_suggestion_from_the_file():
    url = data_url(GOOD)
    with request(SID_A):
        assert up.suggest_title(url, "andel_med_cykel.csv", "sv") == "andel med cykel"
        assert up.suggest_title(None, "x.csv", "sv") is up.no_update
    # applied clientside, and only to an empty field (typing is never overwritten)
    cb = next(v for k, v in dash_app.app.callback_map.items() if f"{up.TITLE}.value" in k)
    assert cb["inputs"] == [{"id": up.SUGGEST, "property": "data"}]
    assert cb["state"] == [{"id": up.TITLE, "property": "value"}]


def test_trends_notes_for_an_upload_claim_no_city_and_no_recomputation(upload_db):
    from pages import trends_logic as tl

    submit(GOOD)
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    with request(SID_A):
        ind = get_store().catalog[ind_id]
    for lang in ("sv", "en"):
        notes = tl.data_notes(ind, "sdo11", [2019, 2022, 2023], lang)
        assert t_recomputed(lang) not in " ".join(notes)
        assert tl.t("trends_upload_note", lang) in notes
        assert tl.t("trends_line_gaps", lang) in notes
    assert "where there is one" in tl.t("trends_intro", "en")
    assert "där den finns" in tl.t("trends_intro", "sv")


def t_recomputed(lang: str) -> str:
    return {"sv": "omräknade", "en": "recomputed"}[lang]


def test_an_upload_on_stadsdelar_is_mapped(upload_db):
    import json

    from indicators.store import base_store

    names = [f["properties"]["name"]
             for f in base_store().geojson("stadsdel")["features"]]
    text = "stadsdel;år;värde\n" + "".join(f"{n};2024;{i % 37},5\n" for i, n in enumerate(names))
    submit(text, filename="stadsdelar.csv")
    [summary] = upload_db.list_for_session(SID_A)
    ind_id = session_store.indicator_id(summary.upload_id)
    with request(SID_A):
        fig, _meta, _ = map_page.update_map(ind_id, "2024", "stadsdel", False, "white-bg",
                                            {"division": "sdo11", "lang": "sv"}, 0, "sv")
        figure = json.loads(as_json(fig))  # a new division: the full figure, not a Patch
        locations = [loc for tr in figure["data"] for loc in tr.get("locations", [])]
        assert len(set(locations)) == len(names)  # every stadsdel coloured, none grey
