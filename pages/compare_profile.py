"""District profile: one to four districts against the city, every indicator of the five areas.

Pure functions, no Dash page registration, so they are tested without a server:

- `parse_compare_state`: the URL query -> validated state (never raises, never echoes input).
- `build_profile`: the long indicator table -> per division a compact year x district matrix per
  indicator (computed once per division and cached by the page).
- `select_rows`: a profile and the chosen districts -> one `ProfileRow` per indicator (and sex),
  with the latest year that has values for the chosen districts, the city value of that year,
  the index (city = 100) and the change since the first year.
- `area_figure` / `area_table`: the per-area dot plot and table.

The comparison is an index, city = 100 (district value / city value x 100), so indicators with
different units share one axis; the table also shows every value in its own unit.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from dash import html
from plotly.colors import sample_colorscale

from geo.names import DISTRICT_NAMES, DIVISION_CODES, MERGES, normalise
from indicators.catalog import AREAS, Indicator
from indicators.session_store import publisher
from pages import figures
from pages.i18n import DIVISION_LABELS, LANGS, add_strings, fmt_number, t

DIVISIONS = ("sdo11", "sdo13", "sdo14")
DEFAULT_DIVISION = "sdo11"
DEFAULT_DISTRICTS = {
    "sdo11": ("jarva", "bromma"),
    "sdo13": ("rinkeby_kista", "bromma"),
    "sdo14": ("rinkeby_kista", "bromma"),
}
MAX_DISTRICTS = 4
MAX_PARAM_CHARS = 400  # a longer districts parameter is not parsed at all
INCOMPLETE_BELOW = 0.95  # coverage below this marks a value as incomplete
SATURATE_AT = 1.5  # index 150 (or 67) gets the full better/worse colour
INDEX_RANGE = (10.0, 1000.0)  # the plot's log axis never goes beyond these
SEX_ORDER = ("total", "female", "male")

# District markers: Okabe-Ito colours that are neither the WORSE orange nor the BETTER purple
# of the background bands, plus a distinct symbol each (readable without colour).
DISTRICT_STYLE = (
    ("#000000", "circle"),
    ("#0072B2", "diamond"),
    ("#009E73", "square"),
    ("#56B4E9", "triangle-up"),
)

add_strings({
    "cmp_title": {"sv": "Jämför stadsdelar", "en": "Compare districts"},
    "cmp_intro": {
        "sv": "Välj ett till fyra stadsdelsområden. Varje indikator i rapportens fem områden "
              "visas för det senaste år som har uppgifter för de valda områdena, jämförd med "
              "hela staden.",
        "en": "Choose one to four districts. Every indicator of the report's five areas is "
              "shown for the latest year with data for the chosen districts, compared with "
              "the whole city.",
    },
    "cmp_districts_label": {"sv": "Stadsdelsområden (1–4)", "en": "Districts (1–4)"},
    "cmp_districts_placeholder": {"sv": "Välj stadsdelsområden", "en": "Choose districts"},
    "cmp_nothing_found": {"sv": "Inget område matchar", "en": "No matching district"},
    "cmp_pick_one": {
        "sv": "Välj minst ett stadsdelsområde för att se profilen.",
        "en": "Choose at least one district to see the profile.",
    },
    "cmp_notice_districts": {
        "sv": "Länken innehöll okända stadsdelsområden för den valda indelningen; de visas inte.",
        "en": "The link named districts unknown on the chosen division; they are not shown.",
    },
    "cmp_notice_too_many": {
        "sv": "Högst fyra stadsdelsområden kan jämföras; de fyra första visas.",
        "en": "At most four districts can be compared; the first four are shown.",
    },
    "cmp_notice_division": {
        "sv": "Länken innehöll en okänd indelning; visar {division}.",
        "en": "The link had an unknown division; showing {division}.",
    },
    "cmp_notice_lang": {
        "sv": "Okänt språk i länken; visar svenska.",
        "en": "Unknown language in the link; showing Swedish.",
    },
    "cmp_notice_default": {
        "sv": "Visar standardjämförelsen: {names}.",
        "en": "Showing the default comparison: {names}.",
    },
    "cmp_index": {"sv": "Index (staden = 100)", "en": "Index (city = 100)"},
    "cmp_how_index": {
        "sv": "Index = stadsdelens värde / stadens värde × 100, samma år. 100 = som staden, "
              "150 = 50 procent högre, 50 = hälften så högt.",
        "en": "Index = district value / city value × 100, same year. 100 = as the city, "
              "150 = 50 per cent higher, 50 = half as high.",
    },
    "cmp_legend_colour": {
        "sv": "Färg efter indikatorns riktning: lila = bättre än staden, orange = sämre än "
              "staden, starkare färg = större skillnad. Grått = neutral indikator (varken "
              "bättre eller sämre) eller ingen jämförelse.",
        "en": "Colour by the indicator's direction: purple = better than the city, orange = "
              "worse than the city, stronger colour = larger difference. Grey = neutral "
              "indicator (neither better nor worse) or no comparison.",
    },
    "cmp_better": {"sv": "bättre än staden", "en": "better than the city"},
    "cmp_worse": {"sv": "sämre än staden", "en": "worse than the city"},
    "cmp_same": {"sv": "som staden", "en": "same as the city"},
    "cmp_neutral": {"sv": "neutral indikator", "en": "neutral indicator"},
    "cmp_incomplete": {
        "sv": "* Ofullständigt underlag: täckning under 95 procent.",
        "en": "* Incomplete: coverage below 95 per cent.",
    },
    "cmp_coverage": {"sv": "täckning {pct} %", "en": "coverage {pct}%"},
    "cmp_city_missing": {"sv": "Stadsvärde saknas för {year}", "en": "No city value for {year}"},
    "cmp_latest_seen": {"sv": "Senast {year}: {value}", "en": "Latest {year}: {value}"},
    "cmp_no_data_division": {
        "sv": "Saknar uppgifter på denna indelning: {names}.",
        "en": "No data on this division: {names}.",
    },
    "cmp_chart_title": {
        "sv": "{area}: {names} jämfört med staden",
        "en": "{area}: {names} compared with the city",
    },
    "cmp_chart_sub": {
        "sv": "Index, staden = 100 (logaritmisk skala) · senaste år per indikator · {division}",
        "en": "Index, city = 100 (log scale) · latest year per indicator · {division}",
    },
    "cmp_no_chart": {
        "sv": "Inget diagram: ingen indikator i området har både stadsdelsvärde och stadsvärde "
              "för samma år. Alla värden finns i tabellen.",
        "en": "No chart: no indicator in this area has both a district value and a city value "
              "for the same year. All values are in the table.",
    },
    "cmp_lower": {"sv": "← lägre än staden", "en": "← lower than the city"},
    "cmp_higher": {"sv": "högre än staden →", "en": "higher than the city →"},
    "cmp_sparse_note": {
        "sv": "Gles serie: uppgifter finns bara för vissa år och områden; visas inte på kartan.",
        "en": "Sparse series: values exist only for some years and areas; not mapped.",
    },
    "cmp_count_note": {
        "sv": "Antal: jämförs inte med staden (stadens värde är hela stadens antal).",
        "en": "A count: not compared with the city (the city value is the whole city's count).",
    },
    "cmp_sex_female": {"sv": "kvinnor/flickor", "en": "women/girls"},
    "cmp_sex_male": {"sv": "män/pojkar", "en": "men/boys"},
    "cmp_hollow": {"sv": "Ofylld = täckning < 95 %", "en": "Hollow = coverage < 95%"},
    "cmp_and": {"sv": "och", "en": "and"},
    "cmp_transcribed": {
        "sv": "officiella uppgifter återgivna i sekundärkällor (se Data och källor)",
        "en": "official figures quoted in secondary sources (see Data and sources)",
    },
    "cmp_notes": {"sv": "Noter", "en": "Notes"},
    "cmp_jump": {"sv": "Områden:", "en": "Areas:"},
    "cmp_not_compared": {"sv": "ingen jämförelse", "en": "no comparison"},
})


# --------------------------------------------------------------------------------------------
# URL state


@dataclass
class CompareState:
    lang: str
    division: str
    districts: tuple[str, ...]
    problems: list[str] = field(default_factory=list)  # keys of cmp_notice_* strings

    def query(self) -> dict[str, str]:
        """The canonical query (ordered as in the shared link format)."""
        return {"districts": ",".join(self.districts), "division": self.division,
                "lang": self.lang}


def _one(value: object) -> object:
    """A repeated query key arrives as a list: take the first (the notice names the key)."""
    return value[0] if isinstance(value, list) and value else value


def _district_tokens(raw: object) -> list[str] | None:
    """`jarva,bromma` (or a repeated key) -> tokens; None when not a usable string."""
    items = raw if isinstance(raw, list) else [raw]
    tokens: list[str] = []
    for item in items:
        if not isinstance(item, str) or len(item) > MAX_PARAM_CHARS:
            return None
        tokens += [p.strip() for p in item.split(",") if p.strip()]
    return tokens


def resolve_code(token: str, division: str) -> str | None:
    """A district code or any spelling of its name -> code on `division`, else None."""
    if token in DIVISION_CODES[division]:
        return token
    key = normalise(token)
    for code in DIVISION_CODES[division]:
        if normalise(code.replace("_", " ")) == key or normalise(DISTRICT_NAMES[code]) == key:
            return code
    return None


def parse_compare_state(params: Mapping[str, object]) -> CompareState:
    """Validate the query; an invalid value falls back and is named in `problems`."""
    problems: list[str] = []
    lang = _one(params.get("lang"))
    if lang is not None and lang not in LANGS:
        problems.append("cmp_notice_lang")
    lang = lang if lang in LANGS else "sv"

    division = _one(params.get("division"))
    if division is not None and division not in DIVISIONS:
        problems.append("cmp_notice_division")
    division = division if division in DIVISIONS else DEFAULT_DIVISION

    raw = params.get("districts")
    codes: list[str] = []
    if raw is not None:
        tokens = _district_tokens(raw)
        if tokens is None:
            problems.append("cmp_notice_districts")
            tokens = []
        unknown = False
        for token in tokens:
            code = resolve_code(token, division)
            if code is None:
                unknown = True
            elif code not in codes:
                codes.append(code)
        if unknown:
            problems.append("cmp_notice_districts")
        if len(codes) > MAX_DISTRICTS:
            problems.append("cmp_notice_too_many")
            codes = codes[:MAX_DISTRICTS]
    if not codes:
        if problems and "cmp_notice_districts" in problems:
            problems.append("cmp_notice_default")
        codes = list(DEFAULT_DISTRICTS[division])
    return CompareState(lang, division, tuple(codes), list(dict.fromkeys(problems)))


def notice_texts(state: CompareState) -> list[str]:
    """The visible notice lines; built from fixed strings and valid codes only."""
    out = []
    for key in state.problems:
        if key == "cmp_notice_division":
            out.append(t(key, state.lang, division=DIVISION_LABELS[state.division][state.lang]))
        elif key == "cmp_notice_default":
            out.append(t(key, state.lang, names=join_names(state.districts, state.lang)))
        else:
            out.append(t(key, state.lang))
    return out


def map_districts(codes: Iterable[str], division: str) -> list[str]:
    """Carry a selection to another division: kept, merged (rinkeby_kista -> jarva) or split
    (jarva -> rinkeby_kista, spanga_tensta); at most four."""
    out: list[str] = []
    valid = DIVISION_CODES[division]
    for code in codes:
        if code in valid:
            found = [code]
        else:
            found = [m[code] for (_src, dst), m in MERGES.items() if dst == division and code in m]
            if not found:
                found = [c for (src, _dst), m in MERGES.items() if src == division
                         for c, merged in m.items() if merged == code and c != code]
        for c in found:
            if c in valid and c not in out:
                out.append(c)
    return out[:MAX_DISTRICTS]


def district_options(division: str) -> list[dict[str, str]]:
    return [{"value": c, "label": DISTRICT_NAMES[c]} for c in DIVISION_CODES[division]]


def join_names(codes: Iterable[str], lang: str) -> str:
    names = [DISTRICT_NAMES.get(c, c) for c in codes]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {t('cmp_and', lang)} " + names[-1]


# --------------------------------------------------------------------------------------------
# Precomputed profile per division


@dataclass(frozen=True)
class Series:
    """One indicator (and sex) on one division: a year x district matrix and the city series."""

    indicator_id: str
    sex: str
    years: tuple[int, ...]
    codes: tuple[str, ...]
    values: np.ndarray  # (len(years), len(codes)); NaN = missing
    coverage: np.ndarray  # same shape; NaN where missing
    city: dict[int, float]


@dataclass(frozen=True)
class DivisionProfile:
    division: str
    series: dict[str, list[Series]]  # area -> series, in catalog order
    without_data: dict[str, list[str]]  # area -> indicator ids without values on the division


def build_profile(indicators: pd.DataFrame, catalog: Mapping[str, Indicator],
                  division: str) -> DivisionProfile:
    """From the store's long table: done once per division, then only indexed."""
    codes = DIVISION_CODES[division]
    col_of = {c: i for i, c in enumerate(codes)}
    df = indicators[indicators["division"].isin([division, "city"]) & indicators["value"].notna()]
    groups = dict(tuple(df.groupby(["indicator_id", "division", "sex"], sort=False)))
    series: dict[str, list[Series]] = {a: [] for a in AREAS}
    without: dict[str, list[str]] = {a: [] for a in AREAS}
    for ind_id, ind in catalog.items():
        if ind.area not in series:
            continue
        sexes = [s for s in SEX_ORDER if (ind_id, division, s) in groups]
        if "total" in sexes:
            sexes = ["total"]
        added = False
        for sex in sexes:
            g = groups[(ind_id, division, sex)]
            cols = g["district_code"].map(col_of)
            g, cols = g[cols.notna()], cols[cols.notna()].to_numpy(dtype=int)
            years = np.unique(g["year"].to_numpy(dtype=int))
            if not len(years):
                continue
            rows = np.searchsorted(years, g["year"].to_numpy(dtype=int))
            vals = np.full((len(years), len(codes)), np.nan)
            cov = np.full((len(years), len(codes)), np.nan)
            vals[rows, cols] = g["value"].to_numpy(dtype=float)
            cov[rows, cols] = g["coverage"].to_numpy(dtype=float)
            c = groups.get((ind_id, "city", sex))
            city = ({} if c is None else
                    {int(y): float(v) for y, v in zip(c["year"], c["value"], strict=True)})
            series[ind.area].append(Series(
                ind_id, sex, tuple(int(y) for y in years), tuple(codes), vals, cov, city))
            added = True
        if not added:
            without[ind.area].append(ind_id)
    return DivisionProfile(division, series, without)


# --------------------------------------------------------------------------------------------
# Selection: one row per indicator (and sex) for the chosen districts


@dataclass
class Cell:
    value: float | None  # in the row's latest year; None = missing
    coverage: float | None
    index: float | None  # city = 100; None when not comparable
    first_year: int | None = None  # the earliest year with a value, when before the latest
    first_value: float | None = None
    first_coverage: float | None = None
    seen_year: int | None = None  # when missing in the latest year: the last year with a value
    seen_value: float | None = None

    @property
    def incomplete(self) -> bool:
        return self.coverage is not None and self.coverage < INCOMPLETE_BELOW


@dataclass
class ProfileRow:
    indicator_id: str
    sex: str
    year: int
    cells: dict[str, Cell]  # district code -> cell
    city: float | None  # city value of `year`; None = absent
    city_first_year: int | None
    city_first_value: float | None
    comparable: bool  # an index makes sense (not a count) and the city value exists


def is_count(ind: Indicator) -> bool:
    """Counts and areas (sums) are not compared with the city's total."""
    return ind.aggregation.kind == "sum" or ind.unit.sv in {
        "personer", "hushåll", "lägenheter", "kvadratkilometer"}


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def select_rows(profile: DivisionProfile, catalog: Mapping[str, Indicator],
                districts: Iterable[str]) -> dict[str, list[ProfileRow]]:
    """Rows per area for the chosen districts (fast: only array indexing)."""
    districts = [d for d in districts if d in DIVISION_CODES[profile.division]]
    out: dict[str, list[ProfileRow]] = {}
    for area, series_list in profile.series.items():
        rows = []
        for s in series_list:
            ind = catalog[s.indicator_id]
            cols = [s.codes.index(d) for d in districts]
            sub = s.values[:, cols]
            have = ~np.isnan(sub)
            with_values = np.flatnonzero(have.any(axis=1))
            yi = int(with_values[-1]) if len(with_values) else len(s.years) - 1
            year = s.years[yi]
            city = s.city.get(year)
            comparable = city is not None and city != 0 and not is_count(ind)
            cells = {}
            for j, d in enumerate(districts):
                v = _num(sub[yi, j])
                cov = _num(s.coverage[yi, cols[j]])
                idx = 100.0 * v / city if comparable and v is not None else None
                cell = Cell(v, cov, idx)
                present = np.flatnonzero(have[: yi + 1, j])
                if v is not None and len(present) and present[0] < yi:
                    f = int(present[0])
                    cell.first_year = s.years[f]
                    cell.first_value = float(sub[f, j])
                    cell.first_coverage = _num(s.coverage[f, cols[j]])
                if v is None and len(present):
                    cell.seen_year = s.years[int(present[-1])]
                    cell.seen_value = float(sub[int(present[-1]), j])
                cells[d] = cell
            city_years = sorted(y for y in s.city if y < year)
            city_first = city_years[0] if city is not None and city_years else None
            rows.append(ProfileRow(
                s.indicator_id, s.sex, year, cells, city, city_first,
                s.city[city_first] if city_first is not None else None, comparable))
        out[area] = rows
    return out


# --------------------------------------------------------------------------------------------
# Colour and words for a comparison


def verdict(index: float | None, direction: str) -> str:
    """'better' / 'worse' / 'same' relative to the city; 'neutral' or 'none' otherwise."""
    if index is None:
        return "none"
    if direction == "neutral":
        return "neutral"
    if abs(index - 100) < 0.5:
        return "same"
    higher = index > 100
    return "better" if higher == (direction == "higher_is_better") else "worse"


def _strength(index: float) -> float:
    """-1..1: how far from the city on a log scale, saturating at SATURATE_AT."""
    if index <= 0:
        return -1.0
    return max(-1.0, min(1.0, math.log(index / 100) / math.log(SATURATE_AT)))


def index_colours(index: float | None, direction: str) -> tuple[str, str]:
    """(background, text) for an index badge, sampled from figures.colour_scale so the page
    uses the same better/worse colours as the map; neutral and missing are grey."""
    if index is None or direction == "neutral":
        return "#e9ecef", "#212529"
    x = _strength(index)
    bg = sample_colorscale(figures.colour_scale(direction), [0.5 + 0.5 * x])[0]
    return bg, ("#ffffff" if abs(x) > 0.55 else "#212529")


# --------------------------------------------------------------------------------------------
# Text helpers


def sex_label(sex: str, lang: str) -> str:
    return "" if sex == "total" else t(f"cmp_sex_{sex}", lang)


def row_title(ind: Indicator, sex: str, lang: str) -> str:
    label = sex_label(sex, lang)
    return ind.title.get(lang) + (f" ({label})" if label else "")


def short_unit(ind: Indicator, lang: str) -> str:
    return ind.short_unit_for(lang)


def fmt_value(value: float | None, ind: Indicator, lang: str) -> str:
    if value is None:
        return t("no_data", lang)
    unit = short_unit(ind, lang)
    return f"{fmt_number(value, ind.decimals, lang)} {unit}".strip() if unit else (
        fmt_number(value, ind.decimals, lang))


def fmt_signed(value: float, decimals: int, lang: str) -> str:
    """+8,9 / −1,2 / 0,0 (never −0,0)."""
    if round(value, decimals) == 0:
        return fmt_number(0.0, decimals, lang)
    text = fmt_number(value, decimals, lang)
    return "+" + text if value > 0 else text


def change_text(first_year: int, first_value: float, year: int, value: float,
                ind: Indicator, lang: str, first_incomplete: bool = False) -> str:
    """'2000 → 2014: 61,2 → 70,1 (+8,9)'."""
    star = "*" if first_incomplete else ""
    d = ind.decimals
    return (f"{first_year} → {year}: {fmt_number(first_value, d, lang)}{star} → "
            f"{fmt_number(value, d, lang)} ({fmt_signed(value - first_value, d, lang)})")


def index_text(index: float | None, lang: str) -> str:
    return fmt_number(index, 0, lang) if index is not None else "–"


def indicator_notes(ind: Indicator, lang: str) -> list[str]:
    """Notes a row carries: schools located there, reliability, sparse series, counts."""
    notes = []
    if ind.source_division == "school":
        notes.append(t("schools_note", lang))
    if ind.aggregation.approximate:
        notes.append(t("approx_note", lang))
    if ind.reliability_note is not None:
        notes.append(ind.reliability_note.get(lang))
    if not ind.mappable:
        notes.append(t("cmp_sparse_note", lang))
    if is_count(ind):
        notes.append(t("cmp_count_note", lang))
    return notes


_SHORT_PUBLISHERS = ("SCB", "Skolverket", "Valmyndigheten", "Stockholms stad")


def short_publisher(publisher: str) -> str:
    """'Valmyndigheten, riksdagsvalet 2010, ...' -> 'Valmyndigheten' (for in-chart lines)."""
    if "(SCB)" in publisher:
        return "SCB"
    for name in _SHORT_PUBLISHERS:
        if publisher.startswith(name):
            return name
    return publisher.split(",")[0]


def source_names(indicator_ids: Iterable[str], catalog: Mapping[str, Indicator],
                 registry: object, lang: str, full: bool = False) -> list[str]:
    """Deduplicated citations: publisher (short) or 'publisher: title' when `full`."""
    out: list[str] = []
    for ind_id in indicator_ids:
        for sid in catalog[ind_id].sources:
            src = getattr(registry, "sources", {}).get(sid)
            if src is None:
                continue
            if src.root == "transcribed":
                text = t("cmp_transcribed", lang)
            elif full:
                text = f"{publisher(src, lang).split(',')[0]}: {src.title}"
            else:
                text = short_publisher(publisher(src, lang))
            if text not in out:
                out.append(text)
    return out


def _wrap(text: str, width: int = 46) -> str:
    return "<br>".join(textwrap.wrap(text, width=width)) or text


# --------------------------------------------------------------------------------------------
# Figure: per area, one row per indicator, one marker per district at its index


def chart_rows(rows: list[ProfileRow]) -> list[ProfileRow]:
    return [r for r in rows if r.comparable and any(c.index is not None for c in r.cells.values())]


def area_figure(rows: list[ProfileRow], area: str, districts: list[str],
                catalog: Mapping[str, Indicator], division: str, lang: str,
                sources: list[str]) -> dict | None:
    """Dot plot of index (city = 100) per indicator; None when nothing is comparable.

    Returned as a plain figure dict (`go.Figure(fig)` validates it in the tests): building a
    go.Figure validates every property and took most of a callback's time.

    Each indicator row has a faint background: purple on the side of the city line that is
    better, orange on the side that is worse (none for neutral indicators), so a marker's
    position reads as better/worse while its colour and symbol say which district it is.
    """
    rows = chart_rows(rows)
    if not rows:
        return None
    n = len(districts)
    indices = [c.index for r in rows for c in r.cells.values()
               if c.index is not None and c.index > 0]
    lo = max(INDEX_RANGE[0], min([*indices, 100.0]) / 1.25)
    hi = min(INDEX_RANGE[1], max([*indices, 100.0]) * 1.25)
    lo, hi = min(lo, 80.0), max(hi, 125.0)
    log_lo, log_hi = math.log10(lo), math.log10(hi)
    p100 = (2 - log_lo) / (log_hi - log_lo)  # the city line as a fraction of the x domain

    traces: list[dict] = []
    shapes = []
    labels = []
    for i, r in enumerate(rows):
        ind = catalog[r.indicator_id]
        labels.append(_wrap(row_title(ind, r.sex, lang)) + f" ({r.year})")
        if ind.direction != "neutral":
            left, right = ((figures.WORSE, figures.BETTER) if ind.direction == "higher_is_better"
                           else (figures.BETTER, figures.WORSE))
            for x0, x1, colour in ((0, p100, left), (p100, 1, right)):
                shapes.append({"type": "rect", "xref": "x domain", "yref": "y", "x0": x0,
                               "x1": x1, "y0": i - 0.45, "y1": i + 0.45, "fillcolor": colour,
                               "opacity": 0.12, "line": {"width": 0}, "layer": "below"})
    any_incomplete = False
    for j, code in enumerate(districts):
        colour, symbol = DISTRICT_STYLE[j % len(DISTRICT_STYLE)]
        offset = (j - (n - 1) / 2) * (0.6 / max(n, 1)) if n > 1 else 0.0
        xs, ys, symbols, hover, texts, where = [], [], [], [], [], []
        for i, r in enumerate(rows):
            cell = r.cells.get(code)
            if cell is None or cell.index is None:
                continue
            ind = catalog[r.indicator_id]
            ys.append(i + offset)
            if lo * 1.04 <= cell.index <= hi / 1.04:
                xs.append(cell.index)
                symbols.append(symbol + ("-open" if cell.incomplete else ""))
                texts.append("")
                where.append("middle right")
            else:  # beyond the axis (index 0 has no place on a log scale): an arrow at the edge
                xs.append(lo * 1.04 if cell.index < lo * 1.04 else hi / 1.04)
                symbols.append("triangle-left" if cell.index < lo * 1.04 else "triangle-right")
                texts.append(index_text(cell.index, lang))
                where.append("middle right" if cell.index < lo * 1.04 else "middle left")
            any_incomplete |= cell.incomplete
            word = verdict(cell.index, ind.direction)
            cov = (" (" + t("cmp_coverage", lang, pct=fmt_number(100 * cell.coverage, 0, lang))
                   + ")") if cell.incomplete else ""
            hover.append(
                f"<b>{DISTRICT_NAMES[code]}</b><br>{row_title(ind, r.sex, lang)}<br>"
                f"{r.year}: {fmt_value(cell.value, ind, lang)}{cov}<br>"
                f"{t('city_value', lang)}: {fmt_value(r.city, ind, lang)}<br>"
                f"{t('cmp_index', lang)}: {index_text(cell.index, lang)}"
                + (f" ({t('cmp_' + word, lang)})" if word in ("better", "worse", "same") else "")
            )
        traces.append({
            "type": "scatter", "x": xs, "y": ys, "mode": "markers+text",
            "text": texts, "textposition": where, "textfont": {"color": colour},
            "name": DISTRICT_NAMES[code],
            "marker": {"color": colour, "symbol": symbols, "size": 11,
                       "line": {"color": colour, "width": 2}},
            "hovertext": hover, "hoverinfo": "text",
        })
    if any_incomplete:
        traces.append({
            "type": "scatter", "x": [None], "y": [None], "mode": "markers",
            "name": t("cmp_hollow", lang), "hoverinfo": "skip",
            "marker": {"color": "#555", "symbol": "circle-open", "size": 11,
                       "line": {"width": 2}}})
    shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": 100, "x1": 100,
                   "y0": 0, "y1": 1, "line": {"color": "#333", "width": 1.5, "dash": "dash"}})
    ticks = [v for v in (10, 25, 50, 75, 100, 150, 200, 400, 1000) if lo <= v <= hi]
    names = join_names(districts, lang)
    title = (f"<b>{t('cmp_chart_title', lang, area=AREAS[area][lang], names=names)}</b><br>"
             f"<sup>{t('cmp_chart_sub', lang, division=DIVISION_LABELS[division][lang])}</sup>")
    top, bottom = 118, 104
    height = top + bottom + max(len(rows) * (24 + 10 * n), 90)
    layout = dict(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        shapes=shapes,
        xaxis={"type": "log", "range": [log_lo, log_hi], "tickvals": ticks,
               "ticktext": [fmt_number(v, 0, lang) for v in ticks],
               "title": {"text": t("cmp_index", lang)}, "showgrid": True,
               "gridcolor": "#e5e5e5", "zeroline": False, "side": "bottom"},
        yaxis={"tickvals": list(range(len(rows))), "ticktext": labels,
               "range": [len(rows) - 0.5, -0.5], "automargin": True, "showgrid": False,
               "zeroline": False, "tickfont": {"size": 12}},
        annotations=[
            {"text": t("cmp_lower", lang), "xref": "x domain", "yref": "paper",
             "x": p100 - 0.01, "y": 1.0, "xanchor": "right", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 11, "color": "#555"}},
            {"text": t("cmp_higher", lang), "xref": "x domain", "yref": "paper",
             "x": p100 + 0.01, "y": 1.0, "xanchor": "left", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 11, "color": "#555"}},
            {"text": _wrap(f"{t('source', lang)}: " + "; ".join(sources) + ".", 150),
             "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left",
             "yanchor": "top", "yshift": -62, "showarrow": False, "align": "left",
             "font": {"size": 10, "color": "#666"}},
        ],
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "top",
                "yref": "container", "font": {"size": 13}},
        margin={"l": 10, "r": 20, "t": top, "b": bottom},
        height=height,
        plot_bgcolor="white",
        hovermode="closest",
        showlegend=True,  # also for a single district: the legend names the marker
        separators=",\u202f" if lang == "sv" else ".,",
    )
    return {"data": traces, "layout": layout}


# --------------------------------------------------------------------------------------------
# Table: per area, indicators x (year, city, districts)


# Plain html elements styled by assets/compare.css: a profile has a few hundred cells, and
# Mantine components per cell made the browser take about a second to render a change.


def _div(text: str, cls: str) -> html.Div:
    return html.Div(text, className=cls)


def _value_block(value: float | None, coverage: float | None, ind: Indicator,
                 lang: str) -> list:
    if value is None:
        return [_div(t("no_data", lang), "cmp-missing")]
    star = "*" if coverage is not None and coverage < INCOMPLETE_BELOW else ""
    out = [_div(fmt_value(value, ind, lang) + star, "cmp-value")]
    if star:
        out.append(_div(t("cmp_coverage", lang, pct=fmt_number(100 * coverage, 0, lang)),
                        "cmp-sub"))
    return out


def _badge(cell: Cell, ind: Indicator, lang: str) -> html.Span | None:
    if cell.index is None:
        return None
    bg, fg = index_colours(cell.index, ind.direction)
    word = verdict(cell.index, ind.direction)
    spoken = t("cmp_" + word, lang) if word in ("better", "worse", "same", "neutral") else ""
    return html.Span(
        [f"{t('cmp_index', lang).split(' ')[0]} {index_text(cell.index, lang)}",
         html.Span(f" ({spoken})", className="cmp-sr")],
        className="cmp-badge", style={"backgroundColor": bg, "color": fg}, title=spoken,
        **{"data-verdict": word},
    )


def _district_cell(cell: Cell, row: ProfileRow, ind: Indicator, lang: str) -> html.Td:
    parts = _value_block(cell.value, cell.coverage, ind, lang)
    badge = _badge(cell, ind, lang)
    if badge is not None:
        parts.append(badge)
    if cell.first_year is not None and cell.value is not None:
        parts.append(_div(change_text(
            cell.first_year, cell.first_value, row.year, cell.value, ind, lang,
            cell.first_coverage is not None and cell.first_coverage < INCOMPLETE_BELOW),
            "cmp-sub"))
    if cell.value is None and cell.seen_year is not None:
        parts.append(_div(t("cmp_latest_seen", lang, year=cell.seen_year,
                            value=fmt_value(cell.seen_value, ind, lang)), "cmp-sub"))
    return html.Td(parts, **{"data-verdict": verdict(cell.index, ind.direction)})


def _city_cell(row: ProfileRow, ind: Indicator, lang: str) -> html.Td:
    if row.city is None:
        return html.Td(_div(t("cmp_city_missing", lang, year=row.year), "cmp-missing cmp-sub"))
    parts = [_div(fmt_value(row.city, ind, lang), "cmp-value")]
    if row.city_first_year is not None:
        parts.append(_div(change_text(row.city_first_year, row.city_first_value, row.year,
                                      row.city, ind, lang), "cmp-sub"))
    return html.Td(parts)


def area_table(rows: list[ProfileRow], districts: list[str],
               catalog: Mapping[str, Indicator], lang: str) -> html.Div:
    """One row per indicator: title (unit, note numbers), year, city, each district."""
    notes: list[str] = []
    body = []
    any_incomplete = False
    for r in rows:
        ind = catalog[r.indicator_id]
        marks = []
        for note in indicator_notes(ind, lang):
            if note not in notes:
                notes.append(note)
            marks.append(notes.index(note) + 1)
        unit_line = ind.unit.get(lang) + (
            f" · {t('cmp_notes', lang).lower()} " + ", ".join(map(str, sorted(marks)))
            if marks else "")
        first = [_div(row_title(ind, r.sex, lang), "cmp-title"), _div(unit_line, "cmp-sub")]
        cells = [html.Th(first, scope="row"), html.Td(str(r.year)), _city_cell(r, ind, lang)]
        for d in districts:
            cell = r.cells[d]
            any_incomplete |= cell.incomplete or (
                cell.first_coverage is not None and cell.first_coverage < INCOMPLETE_BELOW)
            cells.append(_district_cell(cell, r, ind, lang))
        body.append(html.Tr(cells, **{"data-indicator": r.indicator_id}))
    head = html.Thead(html.Tr(
        [html.Th(t("indicator", lang), scope="col"), html.Th(t("year", lang), scope="col"),
         html.Th(t("city_value", lang), scope="col")]
        + [html.Th(DISTRICT_NAMES[d], scope="col") for d in districts]))
    table = html.Div(
        html.Table([head, html.Tbody(body)], className="cmp-table",
                   style={"minWidth": f"{500 + 170 * len(districts)}px"}),
        className="cmp-scroll",
    )
    foot = []
    if any_incomplete:
        foot.append(_div(t("cmp_incomplete", lang), "cmp-foot"))
    if notes:
        foot.append(html.Ol([html.Li(n) for n in notes], className="cmp-notes"))
    return html.Div([table, *foot])
