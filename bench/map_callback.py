"""Benchmark: the map page's map callback, per update, against a naive baseline. Run by hand:

    uv run python bench/map_callback.py [--n 40]

Each row POSTs the real callback payload to /_dash-update-component through Flask's test client
(in process: Dash's routing, the callback, JSON encoding; no network) and reports the server time
per update (wall median and 95th percentile, CPU median) and the response size (raw and gzip).
"uncached" clears the page's per-view caches before every call, its own and the shared one (the
first time anyone asks for that view); "cached" is a view asked for before in this process.
With SKILLNADER_REDIS_URL set (the shared cache), "shared hit" rows clear only this process's
cache: the view was computed by another worker or instance and comes from Redis.

The baseline builds px.choropleth_map from the full-resolution RegSO boundaries (EPSG:3006 ->
EPSG:4326, loaded once) on every call and serialises it with plotly's JSON encoder: geometry,
values and layout resent on each update. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time

import plotly.express as px
from plotly.io.json import to_json_plotly

OUTPUT = "..map-graph.figure...map-meta.data...map-version.data.."


def payload(indicator: str, year: int, division: str, meta_division: str | None,
            changed: str = "map-year.value", lang: str = "sv") -> dict:
    meta = {"division": meta_division, "lang": lang} if meta_division else None
    return {
        "output": OUTPUT,
        "outputs": [{"id": "map-graph", "property": "figure"},
                    {"id": "map-meta", "property": "data"},
                    {"id": "map-version", "property": "data"}],
        "inputs": [{"id": "map-indicator", "property": "value", "value": indicator},
                   {"id": "map-year", "property": "value", "value": str(year)},
                   {"id": "map-division", "property": "value", "value": division},
                   {"id": "map-fixed", "property": "checked", "value": False}],
        "state": [{"id": "map-basemap", "property": "value", "value": "white-bg"},
                  {"id": "map-meta", "property": "data", "value": meta},
                  {"id": "map-version", "property": "data", "value": 1},
                  {"id": "map-lang", "property": "data", "value": lang}],
        "changedPropIds": [changed],
    }


def measure(client, bodies: list[dict], clear=None) -> dict:
    times, cpu, sizes, gz = [], [], [], []
    for body in bodies:
        if clear:
            clear()
        t0, c0 = time.perf_counter(), time.process_time()
        resp = client.post("/_dash-update-component", json=body)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"{resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        data = resp.get_data()
        if b'"__dash_patch_update"' not in data and body["state"][1]["value"]:
            raise RuntimeError("expected a Patch for a recolour")
        sizes.append(len(data))
        gz.append(len(gzip.compress(data, 6)))
    return {"ms_median": statistics.median(times),
            "ms_p95": sorted(times)[max(0, int(len(times) * 0.95) - 1)],
            "cpu_median": statistics.median(cpu),
            "bytes": statistics.median(sizes), "gzip": statistics.median(gz)}


def baseline(store, n: int) -> dict:
    from data.registry import Registry
    from geo.boundaries import load_boundaries

    gdf = load_boundaries(Registry(), "regso").to_crs("EPSG:4326")
    geojson = json.loads(gdf.set_index("code")[["name", "geometry"]].to_json())
    v = store.values("wage_income_mean", "regso")
    years = sorted(v["year"].unique())
    times, cpu, sizes, gz = [], [], [], []
    for i in range(n):
        year = years[i % len(years)]
        t0, c0 = time.perf_counter(), time.process_time()
        df = v[v["year"] == year]
        fig = px.choropleth_map(df, geojson=geojson, locations="district_code",
                                color="value", hover_name="district_name",
                                map_style="white-bg", zoom=9, center={"lat": 59.33, "lon": 18.0})
        text = to_json_plotly(fig)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        sizes.append(len(text.encode()))
        gz.append(len(gzip.compress(text.encode(), 6)))
    return {"ms_median": statistics.median(times),
            "ms_p95": sorted(times)[max(0, int(len(times) * 0.95) - 1)],
            "cpu_median": statistics.median(cpu),
            "bytes": statistics.median(sizes), "gzip": statistics.median(gz)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="calls per row")
    args = parser.parse_args()

    import app as dash_app
    from indicators.store import get_store
    from pages import map as map_page

    store = get_store()
    client = dash_app.server.test_client()
    client.get("/")  # Dash sets up its routes and the pages router on the first request
    client.get("/_dash-layout")
    client.get("/_dash-dependencies")
    n = args.n
    from pages import hardening

    with dash_app.server.app_context():
        shared = hardening.cache_is_shared()

    def clear_all():
        map_page.view.cache_clear()
        with dash_app.server.app_context():
            hardening.cache.clear()

    def years_cycle(ind, div):
        ys = store.years(ind, div)
        return [ys[i % len(ys)] for i in range(n)]

    rows: list[tuple[str, dict]] = []
    for label, ind, div in [
        ("recolour, year, sdo11 (11 units)", "employment_rate_20_64", "sdo11"),
        ("recolour, year, regso (127 units)", "wage_income_mean", "regso"),
        ("recolour, year, basomrade (419 units)", "employment_rate_20_64", "basomrade"),
    ]:
        bodies = [payload(ind, y, div, div) for y in years_cycle(ind, div)]
        rows.append((label + " uncached", measure(client, bodies, clear_all)))
        rows.append((label + " cached", measure(client, bodies)))
        if shared:
            rows.append((label + " shared hit (Redis)",
                         measure(client, bodies, map_page.view.cache_clear)))
    sdo11 = [i for i in store.mappable_indicators() if store.years(i, "sdo11")]
    bodies = [payload(sdo11[i % len(sdo11)], store.years(sdo11[i % len(sdo11)], "sdo11")[-1],
                      "sdo11", "sdo11", "map-indicator.value") for i in range(n)]
    rows.append(("recolour, indicator, sdo11 uncached",
                 measure(client, bodies, clear_all)))
    for div, ind in [("sdo11", "employment_rate_20_64"), ("regso", "wage_income_mean"),
                     ("basomrade", "employment_rate_20_64")]:
        bodies = [payload(ind, store.years(ind, div)[-1], div, None, "map-division.value")] * n
        rows.append((f"new division {div}: full figure (geometry by URL)",
                     measure(client, bodies, clear_all)))
    for div in ("sdo11", "regso", "basomrade"):
        resp = client.get(f"/geo/{div}.geojson", headers={"Accept-Encoding": "gzip"})
        raw = len(gzip.decompress(resp.get_data()))
        rows.append((f"  geometry {div}, once per division (browser-cached GET)",
                     {"ms_median": float("nan"), "ms_p95": float("nan"),
                      "cpu_median": float("nan"), "bytes": raw,
                      "gzip": len(resp.get_data())}))
    rows.append(("BASELINE px.choropleth_map, full-res RegSO, per call", baseline(store, n)))

    width = max(len(r[0]) for r in rows)
    print(f"{'update':<{width}}  {'ms p50':>7}  {'ms p95':>7}  {'cpu p50':>7}  {'bytes':>9}  "
          f"{'gzip':>8}")
    for label, r in rows:
        cells = ["" if r[k] != r[k] else f"{r[k]:7.1f}"
                 for k in ("ms_median", "ms_p95", "cpu_median")]
        print(f"{label:<{width}}  {cells[0]:>7}  {cells[1]:>7}  {cells[2]:>7}  "
              f"{int(r['bytes']):>9,}  {int(r['gzip']):>8,}")
    print(f"shared cache: {'Redis' if shared else 'none (in-process SimpleCache)'}")
    print("ms: wall time per update in process (Flask test client: routing, callback, JSON);"
          " cpu: process CPU time (robust to a busy machine). bytes: the response body.")


if __name__ == "__main__":
    main()
