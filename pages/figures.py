"""Figure builders: pure functions from store data to Plotly figures (tested without a server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from indicators.catalog import Indicator
from pages.i18n import DIVISION_LABELS, fmt_number, t

# Colour-blind-safe (ColorBrewer PuOr): worse is always orange, better always purple.
WORSE, MID, BETTER = "#b35806", "#f7f7f7", "#542788"
NEUTRAL_SCALE = [[0.0, "#f1eef6"], [0.5, "#74a9cf"], [1.0, "#034e7b"]]
MISSING = "#bdbdbd"
MAP_STYLE = "white-bg"  # renders offline; tile styles need the network
STOCKHOLM_CENTER = {"lat": 59.325, "lon": 18.02}


def colour_scale(direction: str) -> list[list]:
    """The one colour scale helper: low-to-high values, coloured by what 'worse' means."""
    if direction == "higher_is_better":
        return [[0.0, WORSE], [0.5, MID], [1.0, BETTER]]
    if direction == "lower_is_better":
        return [[0.0, BETTER], [0.5, MID], [1.0, WORSE]]
    return NEUTRAL_SCALE


def source_line(ind: Indicator, citations: list[str], lang: str) -> str:
    return f"{t('source', lang)}: " + "; ".join(citations)


def title_text(ind: Indicator, year: int, division: str, lang: str) -> str:
    unit = ind.unit.get(lang)
    where = DIVISION_LABELS[division][lang]
    return f"<b>{ind.title.get(lang)}</b>, {year}<br><sup>{unit} · {where}</sup>"


def hover_rows(
    df: pd.DataFrame, ind: Indicator, city: float | None, lang: str
) -> list[str]:
    """Hover text per district: value and unit, rank, difference from the city value."""
    n = len(df)
    ascending = ind.direction == "lower_is_better"
    rank = df["value"].rank(ascending=ascending, method="min")
    out = []
    for (_, row), r in zip(df.iterrows(), rank, strict=True):
        parts = [
            f"<b>{row['district_name']}</b>",
            f"{fmt_number(row['value'], ind.decimals, lang)} {ind.short_unit}".strip(),
        ]
        if ind.direction != "neutral":
            parts.append(f"{t('rank', lang)}: {int(r)} {t('of', lang)} {n}")
        if city is not None:
            diff = row["value"] - city
            sign = "+" if diff > 0 else ""
            parts.append(
                f"{t('diff_city', lang)}: {sign}{fmt_number(diff, ind.decimals, lang)} "
                f"{ind.short_unit}".strip()
            )
        out.append("<br>".join(parts))
    return out


def choropleth(
    geojson: dict,
    values: pd.DataFrame,
    all_codes: list[str],
    names: dict[str, str],
    ind: Indicator,
    year: int,
    division: str,
    lang: str,
    city: float | None,
    zrange: tuple[float, float] | None = None,
) -> go.Figure:
    """Map of one indicator-year; districts without a mappable value are grey 'no data'."""
    shown = values[values["mappable"]]
    missing = [c for c in all_codes if c not in set(shown["district_code"])]
    fig = go.Figure()
    if missing:
        fig.add_trace(
            go.Choroplethmap(
                geojson=geojson, locations=missing, z=[0] * len(missing),
                colorscale=[[0, MISSING], [1, MISSING]], showscale=False,
                marker_line_color="white", marker_line_width=0.6,
                hovertext=[f"<b>{names.get(c, c)}</b><br>{t('no_data', lang)}" for c in missing],
                hoverinfo="text", name=t("no_data", lang),
            )
        )
    if len(shown):
        zmin, zmax = zrange or (float(shown["value"].min()), float(shown["value"].max()))
        fig.add_trace(
            go.Choroplethmap(
                geojson=geojson,
                locations=shown["district_code"],
                z=shown["value"],
                zmin=zmin, zmax=zmax,
                colorscale=colour_scale(ind.direction),
                marker_line_color="white", marker_line_width=0.6,
                hovertext=hover_rows(shown, ind, city, lang), hoverinfo="text",
                colorbar={"title": {"text": ind.short_unit or ind.unit.get(lang)}, "thickness": 14},
                name=ind.title.get(lang),
            )
        )
    fig.update_layout(
        map={"style": MAP_STYLE, "center": STOCKHOLM_CENTER, "zoom": 9.1},
        margin={"l": 0, "r": 0, "t": 56, "b": 0},
        title={"text": title_text(ind, year, division, lang), "x": 0.01, "font": {"size": 15}},
        showlegend=False,
        uirevision=division,  # keep the user's zoom while indicator or year changes
    )
    return fig


def ranking_bars(values: pd.DataFrame, ind: Indicator, city: float | None, lang: str) -> go.Figure:
    shown = values[values["mappable"]].sort_values("value")
    lo, hi = (shown["value"].min(), shown["value"].max()) if len(shown) else (0, 1)
    span = (hi - lo) or 1.0
    scale = colour_scale(ind.direction)
    from plotly.colors import sample_colorscale

    colours = sample_colorscale(scale, list(((shown["value"] - lo) / span).clip(0, 1)))
    fig = go.Figure(
        go.Bar(
            x=shown["value"], y=shown["district_name"], orientation="h",
            marker_color=colours, marker_line_color="#555", marker_line_width=0.5,
            hovertext=hover_rows(shown, ind, city, lang), hoverinfo="text",
            customdata=shown["district_code"],
        )
    )
    if city is not None and np.isfinite(city):
        fig.add_vline(x=city, line_dash="dash", line_color="#333",
                      annotation_text=f"{t('city_value', lang)} "
                      f"{fmt_number(city, ind.decimals, lang)}",
                      annotation_position="top")
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        xaxis_title=f"{ind.unit.get(lang)}",
        yaxis={"automargin": True},
        separators=",\u202f" if lang == "sv" else ".,",
        plot_bgcolor="white",
        height=max(300, 26 * len(shown) + 80),
    )
    return fig
