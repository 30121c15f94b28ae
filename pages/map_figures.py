"""Map page builders: pure functions from the store to figures, patches and texts.

The map's geometry is sent once per division: the choropleth traces name it by URL
(`geojson="/geo/sdo11.geojson?v=..."`; plotly.js fetches it once and keeps it in
window.PlotlyGeoAssets). A change of indicator, year or colour option sends only `MapData`
through `map_patch`: values, ranks and differences, the units without data, the hover template,
colour range and titles (a few KB; names come from the geometry's properties).

Trace 0 holds the districts without a mappable value (grey, "no data", never a zero on the
colour scale); trace 1 the coloured ones. `map_figure` and `map_patch` are built from the same
`trace_props`, so a patched figure equals a freshly built one.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.colors import sample_colorscale

from indicators.catalog import Indicator
from indicators.session_store import publisher
from indicators.store import Store
from pages.figures import MISSING, colour_scale
from pages.i18n import DIVISION_LABELS, add_strings, fmt_number, t
from pages.state import map_years, memo

add_strings({
    "map_rank_dir": {"sv": "Rang {r} av {n} (1 = bäst)", "en": "Rank {r} of {n} (1 = best)"},
    "map_rank_neutral": {"sv": "Plats {r} av {n} (1 = högst)",
                         "en": "Place {r} of {n} (1 = highest)"},
    "map_pp": {"sv": "procentenheter", "en": "percentage points"},
    "map_missing_legend": {"sv": "Uppgift saknas eller för låg täckning",
                           "en": "No data or too little coverage"},
    "map_missing_count": {"sv": "{k} av {n} områden", "en": "{k} of {n} areas"},
    "map_ranking": {"sv": "Rangordning", "en": "Ranking"},
    "map_top_bottom": {
        "sv": "de {k} högsta och {k} lägsta av {n} områden; alla finns i tabellen",
        "en": "the {k} highest and {k} lowest of {n} areas; the table lists all",
    },
    "map_transcribed": {
        "sv": "Stockholms stad m.fl., publicerade tabeller (källa per värde under Data och källor)",
        "en": "City of Stockholm and others, published tables (source per value under "
              "Data and sources)",
    },
    "map_fixed_note": {
        "sv": "Färgskalan är densamma för alla år ({a}–{b})",
        "en": "Same colour scale for all years ({a}–{b})",
    },
    "map_count_note": {
        "sv": "Antal, inte andel: stora områden får höga värden",
        "en": "A count, not a share: large areas get high values",
    },
})

TOP_BOTTOM = 15  # a ranking longer than 2 * TOP_BOTTOM shows the ends only
LINE_COLOUR = "#6b6b6b"  # district edges: visible on a pale fill and on the white background
LINE_WIDTH = 0.7
# Map area the server's first view is fitted to (the browser refits to its real size).
VIEW_PX = (760, 520)


# --- data ---------------------------------------------------------------------------------


@dataclass
class MapData:
    """Everything one view (indicator, division, year, language) draws.

    Trace 1 has every unit of the division in geometry order (`all_codes`, sent once with the
    full figure) and z = None where a unit has no mappable value: plotly draws nothing there
    and trace 0 (the grey "no data" units, `missing_codes`) shows instead.
    """

    indicator: str
    division: str
    year: int
    lang: str
    all_codes: list[str]
    z: list[float | None]  # per all_codes
    custom: list[list]  # per all_codes: [rank, difference from the city] (None if missing)
    hovertemplate: str
    missing_codes: list[str]
    codes: list[str]  # coloured units, geometry order (ranking, gap)
    names: list[str]
    values: list[float]
    ranks: list[int]  # per coloured unit
    diffs: list[float | None]  # per coloured unit: difference from the city value
    zmin: float
    zmax: float
    fixed: bool
    city: float | None
    title: str
    subtitle: str
    annotations: list[dict] = field(default_factory=list)
    n_units: int = 0


def is_count(ind: Indicator) -> bool:
    """Counts (persons, recipients): a city value is a total, not comparable to a district."""
    return ind.aggregation.kind == "sum" or (
        ind.aggregation.kind == "published" and ind.aggregation.additive
    )


def district_names(store: Store, division: str) -> dict[str, str]:
    """Code -> name for every unit of the division's geometry (in geometry order)."""
    return memo(store, ("names", division), lambda: {
        f["id"]: f["properties"].get("name", f["id"]) for f in store.geojson(division)["features"]
    })


def division_bbox(store: Store, division: str) -> list[float]:
    return memo(store, ("bbox", division), lambda: geo_bbox(store.geojson(division)))


def geo_bbox(geojson: dict) -> list[float]:
    """[west, south, east, north] of a FeatureCollection in lon/lat."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for part in c:
                walk(part)

    for f in geojson["features"]:
        walk(f["geometry"]["coordinates"])
    return [min(xs), min(ys), max(xs), max(ys)]


def _merc_y(lat: float) -> float:
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def fit_view(bbox: list[float], width: float, height: float, pad: float = 0.04) -> dict:
    """Center and zoom that show the bbox in a width x height px map (MapLibre, 512 px tiles);
    the same arithmetic as fitView in assets/map.js."""
    w, s, e, n = bbox
    dx = (e - w) / 360
    dy = abs(_merc_y(s) - _merc_y(n))
    zx = math.log2(width * (1 - 2 * pad) / (512 * dx))
    zy = math.log2(height * (1 - 2 * pad) / (512 * dy))
    ym = (_merc_y(s) + _merc_y(n)) / 2
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ym))))
    return {"center": {"lon": (w + e) / 2, "lat": lat}, "zoom": round(min(zx, zy), 3)}


def zrange_all_years(store: Store, indicator: str, division: str) -> tuple[float, float]:
    """Colour range over every map year of the indicator on the division (fixed scale)."""
    def make():
        v = store.values(indicator, division)
        v = v[v["mappable"] & v["year"].isin(map_years(store, indicator, division))]
        return float(v["value"].min()), float(v["value"].max())
    return memo(store, ("zrange", indicator, division), make)


def ranks(values: np.ndarray, direction: str) -> np.ndarray:
    """1 = best (directional) or highest (neutral); ties share the better rank."""
    s = pd.Series(values)
    return s.rank(ascending=direction == "lower_is_better", method="min").astype(int).to_numpy()


def diff_unit(ind: Indicator, lang: str) -> str:
    return t("map_pp", lang) if ind.short_unit == "%" else ind.short_unit_for(lang)


def value_text(value: float, ind: Indicator, lang: str) -> str:
    return f"{fmt_number(value, ind.decimals, lang)} {ind.short_unit_for(lang)}".strip()


def signed(value: float, decimals: int, lang: str) -> str:
    text = fmt_number(value, decimals, lang)
    return ("+" + text) if value > 0 else text


def by_year(store: Store, indicator: str, division: str) -> dict[int, dict]:
    """year -> {code: (value, coverage)} of the mappable values, split once per process."""
    def make():
        v = store.values(indicator, division)
        v = v[v["mappable"]]
        out: dict[int, dict] = {}
        for y, c, val, cov in zip(v["year"], v["district_code"], v["value"], v["coverage"],
                                  strict=True):
            out.setdefault(int(y), {})[c] = (float(val), float(cov))
        return out
    return memo(store, ("by_year", indicator, division), make)


def city_values(store: Store, indicator: str) -> dict[int, float]:
    def make():
        v = store.values(indicator, "city")
        return {int(y): float(x) for y, x in zip(v["year"], v["value"], strict=True)}
    return memo(store, ("city", indicator), make)


def view_frame(store: Store, indicator: str, division: str, year: int) -> pd.DataFrame:
    """All units of the division (geometry order) with value, coverage, rank (NaN where there is
    no mappable value) and difference from the city value (NaN for counts)."""
    ind = store.catalog[indicator]
    names = district_names(store, division)
    by_code = by_year(store, indicator, division).get(year, {})
    codes = list(names)
    value = np.array([by_code.get(c, (np.nan, np.nan))[0] for c in codes], dtype=float)
    coverage = np.array([by_code.get(c, (np.nan, np.nan))[1] for c in codes], dtype=float)
    has = ~np.isnan(value)
    rank = np.full(len(codes), np.nan)
    rank[has] = ranks(value[has], ind.direction)
    city = city_values(store, indicator).get(year)
    diff = value - city if (city is not None and not is_count(ind)) else np.full(len(codes), np.nan)
    return pd.DataFrame({"district_code": codes, "district_name": list(names.values()),
                         "value": value, "coverage": coverage, "rank": rank, "diff": diff})


def source_short(store: Store, ind: Indicator, lang: str) -> str:
    """Publishers only (one line under a chart); the card's text gives the full citations."""
    out: list[str] = []
    for sid in ind.sources:
        src = store.registry.sources.get(sid)
        if src is None:
            continue
        if src.root == "transcribed":
            name = t("map_transcribed", lang)
        else:
            low = (src.publisher + " " + src.title).lower()
            if "valgeografi" in low or "polygon" in low or "boundar" in low:
                continue  # boundaries used to place the values; cited in full below the chart
            name = publisher(src, lang).split(",")[0].split(" (")[0]
            name = {"SCB statistics per basområde": "SCB"}.get(name, name)
        if name not in out:
            out.append(name)
    return "; ".join(out)


def source_full(store: Store, ind: Indicator, lang: str) -> str:
    out: list[str] = []
    for sid in ind.sources:
        src = store.registry.sources.get(sid)
        if src is not None:
            text = f"{publisher(src, lang).split(',')[0]}: {src.title}"
            if text not in out:
                out.append(text)
    return "; ".join(out)


def caveats(ind: Indicator, lang: str) -> list[str]:
    """What the reader must know to read the numbers right (schools, approximations...)."""
    notes = []
    if ind.source_division == "school":
        notes.append(t("schools_note", lang))
    if ind.aggregation.approximate:
        notes.append(t("approx_note", lang))
    if is_count(ind):
        notes.append(t("map_count_note", lang) + ".")
    if ind.reliability_note is not None:
        notes.append(ind.reliability_note.get(lang))
    return notes


def _wrap(text: str, width: int) -> str:
    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def footer_annotations(store: Store, ind: Indicator, lang: str, n_missing: int, n_units: int,
                       fixed_range: tuple[float, float] | None, with_missing: bool = True,
                       width: int = 120) -> list[dict]:
    """Source line (and missing-data legend) inside the figure, so a screenshot explains itself."""
    lines = [f"{t('source', lang)}: {source_short(store, ind, lang)}."]
    lines += caveats(ind, lang)
    text = "<br>".join(_wrap(line, width) for line in lines)
    anns = [{
        "text": text, "showarrow": False, "xref": "paper", "yref": "paper",
        "x": 0, "y": 0, "xanchor": "left", "yanchor": "top", "yshift": -6, "align": "left",
        "font": {"size": 10, "color": "#555"}, "name": "source",
    }]
    if with_missing:
        legend = (f"<span style='color:{MISSING}'>■</span> {t('map_missing_legend', lang)}"
                  f" ({t('map_missing_count', lang, k=n_missing, n=n_units)})")
        if fixed_range is not None:
            a, b = (fmt_number(x, ind.decimals, lang) for x in fixed_range)
            legend += " · " + t("map_fixed_note", lang, a=a, b=b)
        anns.append({
            "text": legend, "showarrow": False, "xref": "paper", "yref": "paper",
            "x": 0.005, "y": 0.005, "xanchor": "left", "yanchor": "bottom", "align": "left",
            "font": {"size": 12, "color": "#333"}, "bgcolor": "rgba(255,255,255,0.85)",
            "name": "missing",
        })
    return anns


def footer_lines(store: Store, ind: Indicator, lang: str, width: int = 120) -> int:
    lines = [f"{t('source', lang)}: {source_short(store, ind, lang)}.", *caveats(ind, lang)]
    return sum(len(textwrap.wrap(x, width=width, break_long_words=False)) or 1 for x in lines)


def title_parts(ind: Indicator, year: int, division: str, lang: str,
                kind: str = "") -> tuple[str, str]:
    """Title (indicator, year) and subtitle ((kind ·) unit · division)."""
    parts = [kind] if kind else []
    parts += [ind.unit.get(lang), DIVISION_LABELS[division][lang]]
    return f"<b>{ind.title.get(lang)}</b>, {year}", " · ".join(parts)


def title_layout(title: str, subtitle: str) -> dict:
    return {"text": title, "x": 0.01, "xanchor": "left", "y": 0.975, "yanchor": "top",
            "font": {"size": 16}, "subtitle": {"text": subtitle, "font": {"size": 12}}}


def hover_texts(df: pd.DataFrame, ind: Indicator, lang: str, n: int) -> list[str]:
    """Name, value with unit, rank of n, difference from the city value (the ranking bars; the
    map uses the equivalent `hover_template`). df: name, value, rank, diff."""
    key = "map_rank_neutral" if ind.direction == "neutral" else "map_rank_dir"
    unit = diff_unit(ind, lang)
    out = []
    for name, value, rank, diff in zip(df["name"], df["value"], df["rank"], df["diff"],
                                       strict=True):
        parts = [f"<b>{name}</b>", value_text(value, ind, lang), t(key, lang, r=int(rank), n=n)]
        if diff is not None and not pd.isna(diff):
            parts.append(f"{t('diff_city', lang)}: "
                         f"{signed(diff, ind.decimals, lang)} {unit}".rstrip())
        out.append("<br>".join(parts))
    return out


def hover_template(ind: Indicator, lang: str, n: int, with_diff: bool) -> str:
    """The map's hover: name from the geometry, value, rank and difference from the data;
    numbers formatted by plotly with the layout's separators (sv: 1 234,5)."""
    d = ind.decimals
    key = "map_rank_neutral" if ind.direction == "neutral" else "map_rank_dir"
    parts = ["<b>%{properties.name}</b>",
             f"%{{z:,.{d}f}} {ind.short_unit_for(lang)}".rstrip(),
             t(key, lang, r="%{customdata[0]}", n=n)]
    if with_diff:
        parts.append(f"{t('diff_city', lang)}: %{{customdata[1]:+,.{d}f}} "
                     f"{diff_unit(ind, lang)}".rstrip())
    return "<br>".join(parts) + "<extra></extra>"


def map_data(store: Store, indicator: str, division: str, year: int, lang: str,
             fixed: bool = False) -> MapData:
    ind = store.catalog[indicator]
    df = view_frame(store, indicator, division, year)
    has = df["value"].notna().to_numpy()
    shown = df[has].reset_index(drop=True)
    zr_all = zrange_all_years(store, indicator, division) if fixed else None
    zmin, zmax = zr_all or (float(shown["value"].min()), float(shown["value"].max()))
    if zmax <= zmin:
        zmin, zmax = zmin - 1, zmax + 1
    digits = ind.decimals + 2
    z = [round(float(v), digits) if ok else None for v, ok in zip(df["value"], has, strict=True)]
    with_diff = bool(shown["diff"].notna().any())
    custom = [[int(r), round(float(dv), digits) if with_diff else None] if ok else [None, None]
              for r, dv, ok in zip(df["rank"], df["diff"], has, strict=True)]
    return MapData(
        indicator=indicator, division=division, year=year, lang=lang,
        all_codes=df["district_code"].tolist(), z=z, custom=custom,
        hovertemplate=hover_template(ind, lang, len(shown), with_diff),
        missing_codes=df.loc[~has, "district_code"].tolist(),
        codes=shown["district_code"].tolist(), names=shown["district_name"].tolist(),
        values=[float(x) for x in shown["value"]],
        ranks=[int(r) for r in shown["rank"]],
        diffs=[None if pd.isna(x) else float(x) for x in shown["diff"]],
        zmin=zmin, zmax=zmax, fixed=fixed,
        city=city_values(store, indicator).get(year),
        title=title_parts(ind, year, division, lang)[0],
        subtitle=title_parts(ind, year, division, lang)[1],
        annotations=footer_annotations(store, ind, lang, int((~has).sum()), len(df), zr_all),
        n_units=len(df),
    )


# --- map ----------------------------------------------------------------------------------


def trace_props(data: MapData, ind: Indicator) -> tuple[dict, dict]:
    """What changes with indicator, year or colour option, for trace 0 (no data) and trace 1
    (coloured). Everything else (geometry, locations of trace 1, styling) is sent once."""
    missing = {"locations": data.missing_codes, "z": [0] * len(data.missing_codes)}
    shown = {
        "z": data.z, "customdata": data.custom, "hovertemplate": data.hovertemplate,
        "zmin": data.zmin, "zmax": data.zmax, "colorscale": colour_scale(ind.direction),
        "colorbar": {"title": {"text": ind.unit.get(data.lang), "side": "right",
                               "font": {"size": 12}},
                     "tickformat": f",.{min(ind.decimals, 1)}~f",
                     "thickness": 14, "len": 0.8, "x": 1.0, "xanchor": "left",
                     "outlinewidth": 0, "tickfont": {"size": 11}},
    }
    return missing, shown


def separators(lang: str) -> str:
    return ".," if lang == "en" else ",\u202f"


def map_layout(data: MapData, basemap: str, bbox: list[float], footer: int) -> dict:
    view = fit_view(bbox, *VIEW_PX)
    return {
        "map": {"style": basemap, **view},
        "margin": {"l": 4, "r": 4, "t": 62, "b": 14 + 13 * footer},
        "title": title_layout(data.title, data.subtitle),
        "annotations": data.annotations,
        "showlegend": False,
        "uirevision": data.division,  # keeps the reader's zoom while values change
        "separators": separators(data.lang),
        "paper_bgcolor": "white",
        "hoverlabel": {"bgcolor": "white", "font": {"size": 13}, "align": "left"},
        "font": {"family": "Liberation Sans, Arial, sans-serif"},
        "meta": {"division": data.division, "bbox": bbox},
    }


def map_figure(data: MapData, store: Store, geo_url: str | dict,
               basemap: str = "white-bg") -> go.Figure:
    """The full map: both traces name the geometry by URL (the browser fetches it once), or
    carry it inline when `geo_url` is the GeoJSON itself (exports)."""
    ind = store.catalog[data.indicator]
    missing, shown = trace_props(data, ind)
    opacity = 1.0 if basemap == "white-bg" else 0.7
    marker = {"line": {"color": LINE_COLOUR, "width": LINE_WIDTH}, "opacity": opacity}
    nd = t("no_data", data.lang)
    fig = go.Figure([
        go.Choroplethmap(
            geojson=geo_url, **missing, colorscale=[[0, MISSING], [1, MISSING]], zmin=0, zmax=1,
            showscale=False, marker=marker, name=nd,
            hovertemplate=f"<b>%{{properties.name}}</b><br>{nd}<extra></extra>",
        ),
        go.Choroplethmap(geojson=geo_url, locations=data.all_codes, **shown, marker=marker,
                         name="values"),
    ])
    bbox = division_bbox(store, data.division)
    fig.update_layout(map_layout(data, basemap, bbox, footer_lines(store, ind, data.lang)))
    return fig


def export_map_figure(data: MapData, store: Store) -> go.Figure:
    """The map for static exports: self-contained (the web GeoJSON inline instead of the page's
    geometry URL, which a renderer or another site cannot fetch) on the offline background."""
    return map_figure(data, store, store.geojson(data.division), "white-bg")


def map_patch(data: MapData, store: Store) -> Patch:
    """What changes between two views of one division: values and texts, no geometry."""
    ind = store.catalog[data.indicator]
    missing, shown = trace_props(data, ind)
    p = Patch()
    p["data"][0].update(missing)
    p["data"][1].update(shown)
    p["layout"]["title"]["text"] = data.title
    p["layout"]["title"]["subtitle"]["text"] = data.subtitle
    p["layout"]["annotations"] = data.annotations
    p["layout"]["margin"]["b"] = 14 + 13 * footer_lines(store, ind, data.lang)
    return p


# --- ranking ------------------------------------------------------------------------------


def ranking_rows(data: MapData, selected: str | None = None) -> pd.DataFrame:
    """The bars drawn: all coloured districts, or the ends of a long ranking (plus a selected
    district from the middle), lowest value first (plotly draws the first bar at the bottom)."""
    df = pd.DataFrame({"code": data.codes, "name": data.names, "value": data.values,
                       "rank": data.ranks, "diff": data.diffs}).sort_values("value", kind="stable")
    if len(df) > 2 * TOP_BOTTOM:
        keep = set(df["code"].iloc[:TOP_BOTTOM]) | set(df["code"].iloc[-TOP_BOTTOM:])
        if selected:
            keep.add(selected)
        df = df[df["code"].isin(keep)]
    return df.reset_index(drop=True)


def ranking_figure(data: MapData, store: Store) -> go.Figure:
    ind = store.catalog[data.indicator]
    lang = data.lang
    df = ranking_rows(data)
    scale = colour_scale(ind.direction)
    span = (data.zmax - data.zmin) or 1.0
    colours = sample_colorscale(scale, list(((df["value"] - data.zmin) / span).clip(0, 1)))
    kind = t("map_ranking", lang)
    title, subtitle = title_parts(ind, data.year, data.division, lang, kind)
    if len(df) < len(data.codes):
        subtitle += "<br>" + t("map_top_bottom", lang, k=TOP_BOTTOM, n=data.n_units)
    labels = [value_text(v, ind, lang) for v in df["value"]]
    fig = go.Figure(go.Bar(
        x=df["value"], y=df["name"], orientation="h", customdata=df["code"],
        marker={"color": colours, "line": {"color": "#555", "width": 0.5}},
        text=labels, textposition="inside", insidetextanchor="end", textfont={"size": 11},
        constraintext="none",
        hovertext=hover_texts(df, ind, lang, len(data.codes)), hoverinfo="text",
    ))
    shapes, anns = [], []
    if data.city is not None and np.isfinite(data.city) and not is_count(ind):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": data.city,
                       "x1": data.city, "y0": 0, "y1": 1, "layer": "below",
                       "line": {"dash": "dash", "color": "#333", "width": 1.2}})
        anns.append({"x": data.city, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                     "xanchor": "right", "showarrow": False, "font": {"size": 11},
                     "text": f"{t('city_value', lang)} {value_text(data.city, ind, lang)}"})
    footer = footer_annotations(store, ind, lang, 0, 0, None, with_missing=False, width=70)
    n_footer = footer[0]["text"].count("<br>") + 1
    xmax = max(df["value"].max(), data.city or 0) if len(df) else 1.0
    fig.update_layout(
        title=title_layout(title, subtitle),
        margin={"l": 8, "r": 16, "t": 78 + 14 * subtitle.count("<br>"),
                "b": 58 + 13 * n_footer},
        xaxis={"title": {"text": ind.unit.get(lang), "font": {"size": 12}},
               "range": [0, xmax * 1.04], "gridcolor": "#eee", "zeroline": True,
               "zerolinecolor": "#999"},
        yaxis={"automargin": True, "tickfont": {"size": 11 if len(df) <= 20 else 9}},
        separators=separators(lang), plot_bgcolor="white", paper_bgcolor="white",
        shapes=shapes, annotations=[*anns, {**footer[0], "yshift": -50}],
        showlegend=False, bargap=0.25,
        hoverlabel={"bgcolor": "white", "font": {"size": 13}, "align": "left"},
        font={"family": "Liberation Sans, Arial, sans-serif"},
        uirevision=f"{data.division}",
    )
    return fig


# --- words ----------------------------------------------------------------------------------


add_strings({
    "map_gap_hilo": {
        "sv": "År {year} har {hi} det högsta värdet ({hv}) och {lo} det lägsta ({lv}).",
        "en": "In {year}, {hi} has the highest value ({hv}) and {lo} the lowest ({lv}).",
    },
    "map_gap_ratio": {
        "sv": "Det högsta värdet är {ratio} gånger det lägsta (skillnad {diff}).",
        "en": "The highest value is {ratio} times the lowest (a difference of {diff}).",
    },
    "map_gap_noratio": {
        "sv": "Skillnaden mellan högst och lägst är {diff}.",
        "en": "The difference between highest and lowest is {diff}.",
    },
    "map_trend_widening": {
        "sv": "Skillnaderna mellan områdena har ökat från {a} till {b}.",
        "en": "The gap between the areas has widened from {a} to {b}.",
    },
    "map_trend_narrowing": {
        "sv": "Skillnaderna mellan områdena har minskat från {a} till {b}.",
        "en": "The gap between the areas has narrowed from {a} to {b}.",
    },
    "map_trend_nochange": {
        "sv": "Ingen tydlig förändring av skillnaderna från {a} till {b}.",
        "en": "No clear change in the gap from {a} to {b}.",
    },
    "map_trend_few": {
        "sv": "Bara ett år med uppgifter ({a}): utvecklingen över tid går inte att bedöma.",
        "en": "Only one year of data ({a}): the change over time cannot be judged.",
    },
    "map_trend_none": {
        "sv": "Utvecklingen över tid går inte att bedöma för den här indelningen.",
        "en": "The change over time cannot be judged for this division.",
    },
    "map_trend_measure": {
        "sv": "Mått: viktad variationskoefficient (spridningen i förhållande till medelvärdet), "
              "{a}: {ca}, {b}: {cb}. Ökat/minskat betyder minst 5 % förändring, åt samma håll "
              "i minst hälften av stegen mellan åren.",
        "en": "Measure: weighted coefficient of variation (spread relative to the mean), "
              "{a}: {ca}, {b}: {cb}. Widened/narrowed means at least a 5% change, in the same "
              "direction in at least half of the steps between years.",
    },
    "map_gap_title": {"sv": "Skillnaden i korthet", "en": "The gap in brief"},
})


def gap_summary(store: Store, data: MapData) -> dict:
    """Plain-language facts about the gap: highest/lowest, ratio, trend verdict (data only)."""
    ind = store.catalog[data.indicator]
    lang = data.lang
    out: dict = {"sentences": [], "measure": None, "verdict": None}
    if len(data.values) < 2:
        out["sentences"].append(t("no_data", lang))
        return out
    vals = np.asarray(data.values)
    hi, lo = int(vals.argmax()), int(vals.argmin())
    out["sentences"].append(t(
        "map_gap_hilo", lang, year=data.year, hi=data.names[hi], lo=data.names[lo],
        hv=value_text(vals[hi], ind, lang), lv=value_text(vals[lo], ind, lang)))
    diff = f"{fmt_number(vals[hi] - vals[lo], ind.decimals, lang)} {diff_unit(ind, lang)}".strip()
    if vals[lo] > 0:
        out["sentences"].append(t("map_gap_ratio", lang,
                                  ratio=fmt_number(vals[hi] / vals[lo], 2, lang), diff=diff))
    else:
        out["sentences"].append(t("map_gap_noratio", lang, diff=diff))
    vr = store.verdicts
    vr = vr[(vr["indicator_id"] == data.indicator) & (vr["division"] == data.division)
            & (vr["sex"] == "total")]
    if not len(vr):
        out["sentences"].append(t("map_trend_none", lang))
        return out
    r = vr.iloc[0]
    a, b = int(r["first_year"]), int(r["last_year"])
    key = {"widening": "map_trend_widening", "narrowing": "map_trend_narrowing",
           "no clear change": "map_trend_nochange", "too few years": "map_trend_few"}
    out["verdict"] = str(r["verdict"])
    out["sentences"].append(t(key.get(out["verdict"], "map_trend_none"), lang, a=a, b=b))
    if out["verdict"] != "too few years":
        out["measure"] = t("map_trend_measure", lang, a=a, b=b,
                           ca=fmt_number(float(r["first_cv"]), 3, lang),
                           cb=fmt_number(float(r["last_cv"]), 3, lang))
    return out
