"""Fuzz: random URL query parameters and random callback values never produce a server error.

* every registered page's layout(**params) with random query parameters (known names with
  plausible and junk values, and unknown names) returns a component;
* GET of every page path with a random query string, and GET /_dash-layout, answer < 500;
* POST /_dash-update-component for every server-side callback with plain ids (the map, trends,
  compare and data pages, the page router, the header) with random input/state values answers
  < 500 (a 204 "no update" or a 400 is fine; a 500 is a bug).
"""

from __future__ import annotations

import json
import string
from urllib.parse import urlencode

import dash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.build import MAP_DIVISIONS
from indicators.store import ensure_build

pytestmark = pytest.mark.mirror  # the app serves the build made from the data mirror


@pytest.fixture(scope="module", autouse=True)
def _built(registry):
    ensure_build()  # a fresh clone has no data/build yet: build once, as the app would

PARAM_NAMES = ["indicator", "year", "division", "lang", "fixed", "district", "districts",
               "area", "sex", "measure", "q", "tab", "selected", "mappable", "v", "basemap",
               "from", "to", "mode", "id", "page", "upload", "share"]
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def dash_app():
    import app as app_module

    client = app_module.server.test_client()
    assert client.get("/_dash-layout").status_code == 200  # registers the page callbacks
    return app_module.app


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


def _plausible() -> st.SearchStrategy:
    from indicators.store import get_store

    store = get_store()
    words = [*store.catalog, *MAP_DIVISIONS, "city", "sv", "en", "1", "0", "true", "total",
             "women", "men", "2010", "2022", "1800", "-1", "99999999999", "nan", "inf",
             *store.indicators["district_code"].drop_duplicates().head(20)]
    return st.sampled_from(words)


def junk_text() -> st.SearchStrategy:
    return st.one_of(
        st.text(max_size=40),
        st.text(alphabet=string.printable, max_size=200),
        st.sampled_from(["", " ", "%", "%00", "../../etc/passwd", "<script>alert(1)</script>",
                         "'; drop table x;--", "\x00", "🙂", "a" * 5000, "0x10", "1e309"]),
    )


@st.composite
def query_params(draw) -> dict[str, str | list[str]]:
    value = st.one_of(_plausible(), junk_text())
    names = st.one_of(st.sampled_from(PARAM_NAMES), st.text(min_size=1, max_size=12))
    params = draw(st.dictionaries(names, st.one_of(value, st.lists(value, max_size=3)),
                                  max_size=6))
    return params


def _pages() -> list[dict]:
    return [p for p in dash.page_registry.values() if callable(p.get("layout"))]


def test_pages_are_registered(dash_app):
    paths = {p["path"] for p in _pages()}
    assert {"/", "/trends", "/compare", "/data"} <= paths


@SETTINGS
@given(params=query_params(), data=st.data())
def test_layout_functions_accept_any_query(dash_app, params, data):
    page = data.draw(st.sampled_from(_pages()), label="page")
    # Dash passes single values as str and repeated ones as list (flask args.to_dict(flat))
    with dash_app.server.test_request_context(page["path"] + "?" + urlencode(params, True)):
        out = page["layout"](**params)
    assert out is not None


@SETTINGS
@given(params=query_params(), data=st.data())
def test_get_pages_with_random_query(client, params, data):
    page = data.draw(st.sampled_from(_pages()), label="page")
    resp = client.get(page["path"] + "?" + urlencode(params, True))
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]


def test_dash_layout(client):
    resp = client.get("/_dash-layout")
    assert resp.status_code == 200
    assert resp.headers["Content-Security-Policy"]


# --- callbacks ------------------------------------------------------------------------------


def _plain(cid) -> bool:
    return isinstance(cid, str) and not cid.startswith("{")


def server_callbacks(dash_app) -> list[tuple[str, dict]]:
    out = []
    for key, cb in dash_app.callback_map.items():
        if "callback" not in cb:
            continue  # clientside
        outputs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
        ids = [o.component_id for o in outputs] + [i["id"] for i in cb["inputs"] + cb["state"]]
        if all(_plain(i) for i in ids):
            out.append((key, cb))
    return out


def callback_value(dash_app) -> st.SearchStrategy:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                     st.floats(allow_nan=False, allow_infinity=False), _plausible(),
                     junk_text())
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=8)


URL_PROPS = {"pathname", "search", "hash", "href"}


def payload(key: str, cb: dict, values: list, changed: int) -> dict:
    outputs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
    outs = [{"id": o.component_id, "property": o.component_property.split("@")[0]}
            for o in outputs]
    props = cb["inputs"] + cb["state"]
    items = [{"id": p["id"], "property": p["property"],
              # dcc.Location's URL parts are always strings (or None) in a browser
              "value": v if p["property"] not in URL_PROPS or v is None else str(v)}
             for p, v in zip(props, values, strict=True)]
    n_in = len(cb["inputs"])
    return {
        "output": key,
        "outputs": outs if isinstance(cb["output"], list) else outs[0],
        "inputs": items[:n_in],
        "state": items[n_in:],
        "changedPropIds": [f"{cb['inputs'][changed]['id']}.{cb['inputs'][changed]['property']}"],
    }


def test_there_are_callbacks_to_fuzz(dash_app):
    keys = " ".join(k for k, _ in server_callbacks(dash_app))
    for needed in ("map-graph.figure", "trends-lines.figure", "compare-districts",
                   "_pages_content.children", "data-list.children"):
        assert needed in keys


@SETTINGS
@given(data=st.data())
def test_callbacks_with_random_values(dash_app, client, data):
    callbacks = server_callbacks(dash_app)
    key, cb = data.draw(st.sampled_from(callbacks), label="callback")
    n = len(cb["inputs"]) + len(cb["state"])
    values = data.draw(st.lists(callback_value(dash_app), min_size=n, max_size=n), label="values")
    changed = data.draw(st.integers(0, len(cb["inputs"]) - 1), label="changed")
    body = payload(key, cb, values, changed)
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json")
    assert resp.status_code < 500, (key, body, resp.get_data(as_text=True)[:300])


@pytest.mark.parametrize("key_part", ["map-graph.figure...map-meta", "_pages_content"])
def test_main_callbacks_answer_with_valid_values(dash_app, client, key_part):
    """The fuzz payloads are well formed: with plausible values the callback answers 200."""
    key, cb = next((k, c) for k, c in server_callbacks(dash_app) if key_part in k)
    if key_part == "_pages_content":
        values = ["/", "?lang=en"][: len(cb["inputs"]) + len(cb["state"])]
        values += [None] * (len(cb["inputs"]) + len(cb["state"]) - len(values))
    else:
        values = ["wage_income_mean", "2022", "regso", False, "white-bg", None, 0, "sv"]
    resp = client.post("/_dash-update-component", json=payload(key, cb, values, 0))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
