"""The trends page without Dash: URL state, data shaping, figures and sentences.

Pure functions of the store, so they are tested without a server (tests/test_trends_page.py).
pages/trends.py only lays out the controls and wires the callbacks to these.

What the page shows: one line per district over the years (only mappable values; a missing or
too thinly covered value is a gap, never a zero), the city as a dashed reference line, and below
it one inequality measure over time with the verdict of indicators.inequality in plain words.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from indicators.aggregate import MIN_COVERAGE
from indicators.catalog import AREAS, Indicator
from indicators.inequality import REL_CHANGE
from indicators.session_store import publisher
from indicators.store import Store
from indicators.uploads import UPLOAD_SOURCE_ID
from pages.i18n import DIVISION_LABELS, LANGS, STRINGS, add_strings, fmt_number, t

# District divisions offered: regso (127 areas) and basomrade (~330) are too many lines to read.
TREND_DIVISIONS = ("sdo11", "sdo13", "sdo14")
DEFAULT_INDICATORS = ("employment_rate_20_64", "mean_income")
DEFAULT_DIVISION = "sdo11"
SEXES = ("total", "female", "male")
MEASURES = ("cv", "range", "ratio", "theil")
DEFAULT_MEASURE = "cv"  # the measure the verdict is judged on
MAX_SELECTED = 6
MAX_PARAM_CHARS = 2000  # longer query values are not even parsed

# Okabe-Ito (colour-blind safe), without yellow (unreadable on white) and black (the city line).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
GREYED = "#c8c8c8"
UNSELECTED = "#5f6b7a"  # all lines alike when nothing is highlighted
CITY = "#222222"
INEQ_LINE = "#0072B2"

# Years each district division was in use (first, last; None = still): values of other years
# are recomputed onto it.
DIVISION_PERIOD = {"sdo11": (2023, None), "sdo13": (2020, 2023), "sdo14": (2007, 2020)}
_COVERAGE_PCT = round(MIN_COVERAGE * 100)

add_strings({
    "trends_heading": {"sv": "Skillnader över tid", "en": "Differences over time"},
    "trends_intro": {
        "sv": "Varje linje är ett område; den streckade linjen, där den finns, är hela staden. "
              "Markera områden för "
              "att jämföra dem, och se nedan om skillnaderna mellan områdena har ökat "
              "eller minskat.",
        "en": "Each line is one area; the dashed line, where there is one, is the whole city. "
              "Highlight areas to compare them, and see below whether the differences between "
              "areas have grown or shrunk.",
    },
    "trends_sex": {"sv": "Kön", "en": "Sex"},
    "trends_sex_total": {"sv": "Alla", "en": "All"},
    "trends_sex_female": {"sv": "Kvinnor", "en": "Women"},
    "trends_sex_male": {"sv": "Män", "en": "Men"},
    "trends_districts": {"sv": "Markera områden", "en": "Highlight areas"},
    "trends_districts_help": {
        "sv": f"Upp till {MAX_SELECTED}. Övriga visas i grått. Du kan också klicka på ett "
              "namn i förklaringen bredvid diagrammet.",
        "en": f"Up to {MAX_SELECTED}. The others are shown in grey. You can also click a name "
              "in the legend beside the chart.",
    },
    "trends_districts_placeholder": {"sv": "Välj område", "en": "Pick an area"},
    "trends_legend_title": {"sv": "Klicka för att markera", "en": "Click to highlight"},
    "trends_city_line": {"sv": "Hela staden", "en": "Whole city"},
    "trends_measure": {"sv": "Mått på skillnaden", "en": "Measure of the difference"},
    "trends_measure_cv": {
        "sv": "Variationskoefficient (befolkningsviktad)",
        "en": "Coefficient of variation (population-weighted)",
    },
    "trends_measure_range": {"sv": "Spridning (högsta − lägsta)",
                             "en": "Range (highest − lowest)"},
    "trends_measure_ratio": {"sv": "Kvot (högsta / lägsta)", "en": "Ratio (highest / lowest)"},
    "trends_measure_theil": {"sv": "Theilindex (befolkningsviktat)",
                             "en": "Theil index (population-weighted)"},
    "trends_measure_cv_help": {
        "sv": "Standardavvikelsen mellan områdena delad med stadens medelvärde; oberoende av "
              "enhet och nivå. Större tal = större skillnader.",
        "en": "The standard deviation between areas divided by the city mean; independent of "
              "unit and level. Larger = bigger differences.",
    },
    "trends_measure_range_help": {
        "sv": "Avståndet mellan området med högst och området med lägst värde, i indikatorns "
              "enhet.",
        "en": "The distance between the area with the highest and the one with the lowest "
              "value, in the indicator's unit.",
    },
    "trends_measure_ratio_help": {
        "sv": "Högsta värdet delat med lägsta: hur många gånger större. Bara för positiva värden.",
        "en": "Highest value divided by lowest: how many times larger. Positive values only.",
    },
    "trends_measure_theil_help": {
        "sv": "Ett mått på ojämlikhet som väger in alla områden; 0 = alla lika. Bara för "
              "positiva värden.",
        "en": "An inequality measure that takes every area into account; 0 = all equal. "
              "Positive values only.",
    },
    "trends_ineq_heading": {"sv": "Har skillnaderna ökat eller minskat?",
                            "en": "Have the differences grown or shrunk?"},
    "trends_times": {"sv": "gånger", "en": "times"},
    "trends_n_districts": {"sv": "Områden med värde", "en": "Areas with a value"},
    "trends_year": {"sv": "År", "en": "Year"},
    "trends_verdict_widening": {
        "sv": "Skillnaderna mellan områdena har ökat {first}–{last}.",
        "en": "The differences between areas have widened {first}–{last}.",
    },
    "trends_verdict_narrowing": {
        "sv": "Skillnaderna mellan områdena har minskat {first}–{last}.",
        "en": "The differences between areas have narrowed {first}–{last}.",
    },
    "trends_verdict_no_clear_change": {
        "sv": "Ingen tydlig förändring av skillnaderna mellan områdena {first}–{last}.",
        "en": "No clear change in the differences between areas {first}–{last}.",
    },
    "trends_verdict_too_few_years": {
        "sv": "För få år för att bedöma utvecklingen: bara {first} går att jämföra.",
        "en": "Too few years to judge the trend: only {first} can be compared.",
    },
    "trends_verdict_none": {
        "sv": "Skillnaderna går inte att mäta här: inget år har värden för tillräckligt "
              "många områden.",
        "en": "The differences cannot be measured here: no year has values for enough areas.",
    },
    "trends_verdict_short_widening": {"sv": "skillnaderna har ökat",
                                      "en": "the differences have widened"},
    "trends_verdict_short_narrowing": {"sv": "skillnaderna har minskat",
                                       "en": "the differences have narrowed"},
    "trends_verdict_short_no_clear_change": {"sv": "ingen tydlig förändring",
                                             "en": "no clear change"},
    "trends_verdict_short_too_few_years": {"sv": "för få år", "en": "too few years"},
    "trends_verdict_label": {"sv": "Bedömning", "en": "Verdict"},
    "trends_verdict_detail": {
        "sv": "Befolkningsviktad variationskoefficient {first_cv} år {first} och {last_cv} år "
              "{last} ({change}); {n} år med jämförbara värden.",
        "en": "Population-weighted coefficient of variation {first_cv} in {first} and "
              "{last_cv} in {last} ({change}); {n} years with comparable values.",
    },
    "trends_verdict_rule": {
        "sv": "Regel: skillnaderna har ökat (minskat) om den befolkningsviktade "
              "variationskoefficienten är mer än {pct} % högre (lägre) det sista året än det "
              "första och minst hälften av stegen år för år går åt samma håll; annars ingen "
              "tydlig förändring.",
        "en": "Rule: the differences widened (narrowed) if the population-weighted coefficient "
              "of variation is more than {pct} % higher (lower) in the last year than in the "
              "first and at least half of the year-to-year steps go the same way; otherwise no "
              "clear change.",
    },
    "trends_verdict_on_cv": {
        "sv": "Bedömningen görs alltid på variationskoefficienten, oavsett vilket mått "
              "diagrammet visar.",
        "en": "The verdict is always judged on the coefficient of variation, whichever measure "
              "the chart shows.",
    },
    "trends_gap_years": {
        "sv": "Inget värde för {years}: färre än två tredjedelar av områdena har ett värde "
              "det året, så skillnaden mäts inte.",
        "en": "No value for {years}: fewer than two thirds of the areas have a value that "
              "year, so the difference is not measured.",
    },
    "trends_undefined_years": {
        "sv": "Måttet går inte att beräkna {years}: något område har värdet noll eller lägre.",
        "en": "The measure cannot be computed for {years}: some area has a value of zero or "
              "below.",
    },
    "trends_line_gaps": {
        "sv": "Luckor i linjerna betyder att värdet saknas eller bygger på för liten del av "
              f"området (täckning under {_COVERAGE_PCT} %); de ritas aldrig som noll. "
              "För markerade områden binder en prickad linje ihop värdena på var sin sida "
              "om en lucka.",
        "en": "Gaps in the lines mean the value is missing or based on too small a part of the "
              f"area (coverage below {_COVERAGE_PCT} %); they are never drawn as zero. "
              "For highlighted areas a dotted line joins the values on either side of a gap.",
    },
    "trends_recomputed": {
        "sv": "Indelningen i {division} gällde inte {when}; värdena för de åren är omräknade "
              "till den.",
        "en": "The division into {division} was not in use {when}; the values for those years "
              "are recomputed onto it.",
    },
    "trends_upload_note": {
        "sv": "Egen uppladdning: värdena visas som de laddades upp, på sin egen indelning; det "
              "finns ingen linje för hela staden.",
        "en": "Own upload: the values are shown as uploaded, on their own division; there is no "
              "line for the whole city.",
    },
    "trends_before": {"sv": "före {year}", "en": "before {year}"},
    "trends_after": {"sv": "efter {year}", "en": "after {year}"},
    "trends_and": {"sv": "och", "en": "and"},
    "trends_param_lang": {"sv": "språk", "en": "language"},
    "trends_param_area": {"sv": "område", "en": "area"},
    "trends_param_indicator": {"sv": "indikator", "en": "indicator"},
    "trends_param_division": {"sv": "indelning", "en": "division"},
    "trends_param_sex": {"sv": "kön", "en": "sex"},
    "trends_param_measure": {"sv": "mått", "en": "measure"},
    "trends_param_districts": {"sv": "markerade områden", "en": "highlighted areas"},
    "trends_notes_title": {"sv": "Om uppgifterna", "en": "About the data"},
    "trends_reliability": {"sv": "Tillförlitlighet", "en": "Reliability"},
    "trends_lines_table": {"sv": "Visa data som tabell (värden per område och år)",
                           "en": "Show data as a table (values per area and year)"},
    "trends_ineq_table": {"sv": "Visa data som tabell (måttet per år)",
                          "en": "Show data as a table (the measure per year)"},
    "trends_source_note": {"sv": "Fullständiga källor: sidan Data och källor.",
                           "en": "Full sources: the Data and sources page."},
})


# ----------------------------------------------------------------------------- availability


@dataclass
class _Availability:
    store: Store
    years: dict[tuple[str, str, str], list[int]]  # (indicator, division, sex) -> mappable years


_AVAILABILITY: dict[int, _Availability] = {}


def _availability(store: Store) -> _Availability:
    cached = _AVAILABILITY.get(id(store))
    if cached is not None and cached.store is store:
        return cached
    v = store.indicators
    m = v[v["mappable"] & v["division"].isin(TREND_DIVISIONS)]
    years = {
        key: sorted(int(y) for y in g.unique())
        for key, g in m.groupby(["indicator_id", "division", "sex"])["year"]
    }
    cached = _Availability(store, years)
    _AVAILABILITY[id(store)] = cached
    return cached


def trend_years(store: Store, indicator: str, division: str, sex: str = "total") -> list[int]:
    """Years in which at least one district has a mappable value."""
    return _availability(store).years.get((indicator, division, sex), [])


def trend_divisions(store: Store, indicator: str) -> list[str]:
    """Divisions with at least two years of values (for any sex)."""
    return [
        d for d in TREND_DIVISIONS
        if any(len(trend_years(store, indicator, d, s)) >= 2 for s in SEXES)
    ]


def trend_sexes(store: Store, indicator: str, division: str) -> list[str]:
    return [s for s in SEXES if trend_years(store, indicator, division, s)]


def trend_indicators(store: Store) -> list[str]:
    """Indicators with a time series to show, in catalog order."""
    return [i for i in store.catalog if trend_divisions(store, i)]


def district_names(store: Store, division: str) -> dict[str, str]:
    return {f["id"]: f["properties"].get("name", f["id"])
            for f in store.geojson(division)["features"]}


# ----------------------------------------------------------------------------- URL state


@dataclass
class TrendsState:
    lang: str
    area: str
    indicator: str
    division: str
    sex: str
    measure: str
    districts: tuple[str, ...]
    problems: list[str] = field(default_factory=list)

    def query(self) -> str:
        """The canonical query string of this view (only validated values)."""
        return (
            f"?lang={self.lang}&area={self.area}&indicator={self.indicator}"
            f"&division={self.division}&sex={self.sex}&measure={self.measure}"
            f"&districts={','.join(self.districts)}"
        )


def _str_param(params: dict[str, object], key: str) -> str | None:
    """A usable string value, else None; repeated, non-string or huge values count as absent."""
    v = params.get(key)
    if isinstance(v, str) and len(v) <= MAX_PARAM_CHARS:
        return v
    return None


def default_districts(store: Store, indicator: str, division: str, sex: str) -> tuple[str, ...]:
    """The highest and the lowest district in the last year with values: the gap itself."""
    v = store.values(indicator, division, sex)
    v = v[v["mappable"] & v["value"].notna()]
    if v.empty:
        return ()
    last = v[v["year"] == v["year"].max()]
    if len(last) < 2:
        return ()
    hi = str(last.loc[last["value"].idxmax(), "district_code"])
    lo = str(last.loc[last["value"].idxmin(), "district_code"])
    return (hi, lo) if hi != lo else (hi,)


def parse_trends_state(store: Store, params: dict[str, object]) -> TrendsState:
    """Validated page state; never raises. Invalid values fall back and are named in
    `problems` by their parameter name only (the value itself is never echoed)."""
    problems: list[str] = []
    raw_lang = params.get("lang")
    lang = raw_lang if raw_lang in LANGS else "sv"
    if raw_lang is not None and raw_lang not in LANGS:
        problems.append("lang")

    options = trend_indicators(store)
    indicator = _str_param(params, "indicator")
    area_param = _str_param(params, "area")
    if indicator not in options:
        if params.get("indicator") is not None:
            problems.append("indicator")
        in_area = [i for i in options if store.catalog[i].area == area_param]
        defaults = [i for i in DEFAULT_INDICATORS if i in options]
        indicator = in_area[0] if in_area else (defaults or options)[0]
    area = store.catalog[indicator].area
    if params.get("area") is not None and area_param not in AREAS:
        problems.append("area")

    divisions = trend_divisions(store, indicator)
    division = _str_param(params, "division")
    if division not in divisions:
        if params.get("division") is not None:
            problems.append("division")
        division = DEFAULT_DIVISION if DEFAULT_DIVISION in divisions else divisions[0]

    sexes = trend_sexes(store, indicator, division)
    sex = _str_param(params, "sex")
    if sex not in sexes:
        if params.get("sex") is not None:
            problems.append("sex")
        sex = "total" if "total" in sexes else sexes[0]

    measure = _str_param(params, "measure")
    if measure not in MEASURES:
        if params.get("measure") is not None:
            problems.append("measure")
        measure = DEFAULT_MEASURE

    raw = params.get("districts")
    if raw is None:
        districts = default_districts(store, indicator, division, sex)
    else:
        valid = set(district_names(store, division))
        if isinstance(raw, str) and len(raw) <= MAX_PARAM_CHARS:
            asked = [c.strip() for c in raw.split(",") if c.strip()]
        elif isinstance(raw, list | tuple) and all(isinstance(c, str) for c in raw):
            asked = [c for c in raw if c]  # a multi-select's value, or a repeated parameter
        else:
            asked = None
        if asked is None:
            problems.append("districts")
            districts = default_districts(store, indicator, division, sex)
        else:
            kept = list(dict.fromkeys(c for c in asked if c in valid))
            if len(kept) < len(asked) or len(kept) > MAX_SELECTED:
                problems.append("districts")
            districts = tuple(kept[:MAX_SELECTED])
            if asked and not kept:  # nothing usable asked for: the default, not an empty view
                districts = default_districts(store, indicator, division, sex)
    return TrendsState(lang, area, indicator, division, sex, measure, districts, problems)


# ----------------------------------------------------------------------------- data


def district_series(store: Store, indicator: str, division: str, sex: str) -> pd.DataFrame:
    """district_code, district_name, year, value, coverage on the full grid of districts x years
    with any mappable value; non-mappable and missing values are NaN (drawn as gaps)."""
    years = trend_years(store, indicator, division, sex)
    names = district_names(store, division)
    v = store.values(indicator, division, sex)
    v = v[v["mappable"] & v["year"].isin(years)]
    for code, name in zip(v["district_code"], v["district_name"], strict=True):
        names.setdefault(str(code), str(name))
    grid = pd.MultiIndex.from_product([list(names), years], names=["district_code", "year"])
    out = (
        v.assign(year=v["year"].astype(int))
        .set_index(["district_code", "year"])[["value", "coverage"]]
        .reindex(grid)
        .reset_index()
    )
    out.insert(1, "district_name", out["district_code"].map(names))
    return out


def city_series(store: Store, indicator: str, sex: str, years: Sequence[int]) -> pd.DataFrame:
    """The city value for the years within the districts' span (year, value)."""
    c = store.values(indicator, "city", sex)
    if not len(years) or c.empty:
        return pd.DataFrame({"year": pd.Series(dtype=int), "value": pd.Series(dtype=float)})
    c = c[(c["year"] >= min(years)) & (c["year"] <= max(years)) & c["value"].notna()]
    return (c.assign(year=c["year"].astype(int))[["year", "value"]]
            .sort_values("year").reset_index(drop=True))


def inequality_series(
    store: Store, indicator: str, division: str, sex: str, measure: str
) -> pd.DataFrame:
    """year, value, n_districts on the districts' year grid. A year the inequality table leaves
    out (too few districts) has value NaN and n_districts = the districts that had a value."""
    years = trend_years(store, indicator, division, sex)
    q = store.inequality
    q = q[(q["indicator_id"] == indicator) & (q["division"] == division) & (q["sex"] == sex)
          & (q["measure"] == measure)]
    q = q.assign(year=q["year"].astype(int)).set_index("year")
    v = store.values(indicator, division, sex)
    have = v[v["mappable"] & v["value"].notna()].groupby("year")["district_code"].nunique()
    rows = []
    for y in years:
        if y in q.index:
            r = q.loc[y]
            rows.append((y, float(r["value"]), int(r["n_districts"]), True))
        else:
            rows.append((y, math.nan, int(have.get(y, 0)), False))
    return pd.DataFrame(rows, columns=["year", "value", "n_districts", "measured"])


def verdict_row(store: Store, indicator: str, division: str, sex: str) -> dict | None:
    vr = store.verdicts
    vr = vr[(vr["indicator_id"] == indicator) & (vr["division"] == division)
            & (vr["sex"] == sex)]
    return None if vr.empty else vr.iloc[0].to_dict()


# ----------------------------------------------------------------------------- text


def sex_label(sex: str, lang: str) -> str:
    return t(f"trends_sex_{sex}", lang)


def measure_label(measure: str, lang: str) -> str:
    return t(f"trends_measure_{measure}", lang)


def measure_decimals(measure: str, ind: Indicator) -> int:
    return {"range": ind.decimals, "ratio": 2, "cv": 3, "theil": 4}[measure]


def year_span(years: Sequence[int]) -> str:
    if not len(years):
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def notice_text(problems: Sequence[str], lang: str) -> str:
    """The fallback notice, naming the parameters (in the UI language), never their values."""
    names = [t(f"trends_param_{p}", lang) for p in dict.fromkeys(problems)
             if f"trends_param_{p}" in STRINGS]
    return t("notice_fallback", lang, what=", ".join(names))


def _verdict_key(verdict: str) -> str:
    return verdict.replace(" ", "_")


def verdict_sentences(row: dict | None, lang: str) -> tuple[str, str | None, str]:
    """(headline, detail or None, the rule in one line)."""
    rule = t("trends_verdict_rule", lang, pct=fmt_number(REL_CHANGE * 100, 0, lang))
    if row is None:
        return t("trends_verdict_none", lang), None, rule
    first, last = int(row["first_year"]), int(row["last_year"])
    key = _verdict_key(str(row["verdict"]))
    headline = t(f"trends_verdict_{key}", lang, first=first, last=last)
    if row["verdict"] == "too few years":
        return headline, None, rule
    first_cv, last_cv = float(row["first_cv"]), float(row["last_cv"])
    change = (last_cv - first_cv) / abs(first_cv) * 100 if first_cv else math.nan
    sign = "+" if change > 0 else ""
    detail = t(
        "trends_verdict_detail", lang,
        first_cv=fmt_number(first_cv, 3, lang), last_cv=fmt_number(last_cv, 3, lang),
        first=first, last=last, n=int(row["n_years"]),
        change=f"{sign}{fmt_number(change, 1, lang)} %",
    )
    return headline, detail, rule


def verdict_short(row: dict | None, lang: str) -> str:
    if row is None:
        return t("trends_verdict_none", lang)
    text = t(f"trends_verdict_short_{_verdict_key(str(row['verdict']))}", lang)
    span = year_span([int(row["first_year"]), int(row["last_year"])])
    return f"{text} ({span})" if row["verdict"] != "too few years" else text


def gap_notes(ineq: pd.DataFrame, lang: str) -> list[str]:
    """Say why the inequality line has gaps: too few districts, or a measure not defined."""
    out = []
    missing = [str(y) for y in ineq.loc[~ineq["measured"], "year"]]
    if missing:
        out.append(t("trends_gap_years", lang, years=", ".join(missing)))
    undefined = [str(y) for y in ineq.loc[ineq["measured"] & ineq["value"].isna(), "year"]]
    if undefined:
        out.append(t("trends_undefined_years", lang, years=", ".join(undefined)))
    return out


def data_notes(ind: Indicator, division: str, years: Sequence[int], lang: str) -> list[str]:
    """What a reader must know about this series: schools, approximation, reliability."""
    notes = []
    if ind.source_division == "school":
        notes.append(t("schools_note", lang))
    if ind.aggregation.approximate:
        notes.append(t("approx_note", lang))
    if ind.reliability_note is not None:
        notes.append(f"{t('trends_reliability', lang)}: {ind.reliability_note.get(lang)}")
    if UPLOAD_SOURCE_ID in ind.sources:  # not recomputed onto the division, no city series
        notes.append(t("trends_upload_note", lang))
        notes.append(t("trends_line_gaps", lang))
        return notes
    start, end = DIVISION_PERIOD.get(division, (None, None))
    when = []
    if start is not None and len(years) and years[0] < start:
        when.append(t("trends_before", lang, year=start))
    if end is not None and len(years) and years[-1] > end:
        when.append(t("trends_after", lang, year=end))
    if when:
        notes.append(t("trends_recomputed", lang, division=DIVISION_LABELS[division][lang],
                       when=f" {t('trends_and', lang)} ".join(when)))
    notes.append(t("trends_line_gaps", lang))
    return notes


def chart_notes(ind: Indicator, lang: str) -> list[str]:
    """The notes short enough to print on the chart itself (screenshots travel alone)."""
    notes = []
    if ind.source_division == "school":
        notes.append(t("schools_note", lang))
    if ind.aggregation.approximate:
        notes.append(t("approx_note", lang))
    if ind.reliability_note is not None:
        first_sentence = ind.reliability_note.get(lang).split(". ")[0].rstrip(".") + "."
        notes.append(f"{t('trends_reliability', lang)}: {first_sentence}")
    return notes


def _short_publisher(publisher: str) -> str:
    return publisher.split(",")[0].split(" (")[0].strip()


def citations(store: Store, ind: Indicator, lang: str = "sv") -> list[str]:
    """Full citations (publisher: title) of the indicator's registered sources."""
    reg = store.registry
    return [f"{_short_publisher(publisher(reg[s], lang))}: {reg[s].title}"
            for s in ind.sources if s in reg.sources]


def chart_source(store: Store, ind: Indicator, lang: str) -> str:
    """A source line short enough for the chart: one source in full, else the publishers."""
    reg = store.registry
    srcs = [reg[s] for s in ind.sources if s in reg.sources]
    if len(srcs) == 1:
        body = f"{_short_publisher(publisher(srcs[0], lang))}: {srcs[0].title}"
    else:
        body = "; ".join(dict.fromkeys(_short_publisher(publisher(s, lang)) for s in srcs))
    return f"{t('source', lang)}: {body}"


def source_text(store: Store, ind: Indicator, lang: str) -> str:
    """The line under a chart card: every citation in full."""
    return f"{t('source', lang)}: " + "; ".join(citations(store, ind, lang)) + "."


# ----------------------------------------------------------------------------- figures


NARROW = 700  # px: below this window width, figures stack their legend and wrap their text


def _chars(width: int | None, px_per_char: float) -> int:
    """How many characters of text fit across a figure in a window this wide."""
    return max(30, int(((width or 1400) - 90) / px_per_char))


def _wrap(lines: Sequence[str], width: int = 150) -> list[str]:
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width) or [""]
    return out


def _footer(layout: dict, lines: Sequence[str], base_margin: int = 40,
            width: int | None = None) -> None:
    """Source and notes printed under the plot area, inside the figure."""
    wrapped = _wrap(lines, min(150, _chars(width, 6.3)))
    layout.setdefault("annotations", []).append(dict(
        text="<br>".join(wrapped), xref="paper", yref="paper", x=0, y=0, xanchor="left",
        yanchor="top", yshift=-base_margin + 4, showarrow=False, align="left",
        font={"size": 11, "color": "#555"},
    ))
    layout.setdefault("margin", {})["b"] = base_margin + 15 * len(wrapped)


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """Built from plain dicts and not re-validated: property-by-property validation took most
    of the callback's time. The tests check the result through the usual Figure API."""
    return go.Figure(data=[dict(tr, type="scatter") for tr in traces], layout=layout,
                     _validate=False)


def _separators(lang: str) -> str:
    return ",\u202f" if lang == "sv" else ".,"


def _title_block(bold: str, rest: str, sub: Sequence[str], size: int,
                 width: int | None) -> tuple[dict, int]:
    """The figure title (bold part, rest, subtitle lines) and the top margin it needs. Wide:
    two lines as designed; narrow: wrapped to the window, pinned to the top of the figure."""
    small = "<span style='font-size:13px'>{}</span>"
    if (width or NARROW) >= NARROW:
        text = f"<b>{bold}</b>{rest}<br>" + small.format(" · ".join(s for s in sub if s))
        return {"text": text, "x": 0.01, "xanchor": "left", "font": {"size": size}}, 70
    head = textwrap.wrap(bold + rest, _chars(width, size * 0.6), break_long_words=False)
    subs = [line for s in sub if s
            for line in textwrap.wrap(s, _chars(width, 7), break_long_words=False)]
    text = "<br>".join([*(f"<b>{h}</b>" for h in head), *(small.format(x) for x in subs)])
    title = {"text": text, "x": 0.01, "xanchor": "left", "font": {"size": size},
             # plotly.js anchors a multi-line title's top at its first baseline: pad by a line
             "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": size + 4}}
    return title, round(size * 1.35 * len(head) + 17 * len(subs) + size + 14)


def _line_title(ind: Indicator, years: Sequence[int], division: str, sex: str, lang: str,
                width: int | None = None) -> tuple[dict, int]:
    title = ind.title.get(lang)
    if sex != "total":
        title += f", {sex_label(sex, lang).lower()}"
    span = year_span(years)
    return _title_block(title, f", {span}" if span else "",
                        [ind.unit.get(lang), DIVISION_LABELS[division][lang]], 16, width)


def _xaxis(years: Sequence[int], width: int | None = None) -> dict:
    axis = {"title": None, "showgrid": False, "ticks": "outside", "tickformat": "d"}
    if (width or NARROW) < NARROW and len(years) > 6:
        axis |= {"tickmode": "linear", "tick0": years[0],
                 "dtick": max(1, math.ceil((years[-1] - years[0]) / 4))}
    elif 0 < len(years) <= 16:
        axis |= {"tickmode": "array", "tickvals": list(years),
                 "ticktext": [str(y) for y in years]}
    if len(years) == 1:
        axis["range"] = [years[0] - 1, years[0] + 1]
    return axis


def _has_inner_gap(values: pd.Series) -> bool:
    known = np.flatnonzero(values.notna().to_numpy())
    return len(known) >= 2 and bool(values.iloc[known[0]:known[-1] + 1].isna().any())


def colours_for(selected: Sequence[str]) -> dict[str, str]:
    """Highlight colour per selected district, by selection order (stable while adding)."""
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(selected)}


def lines_figure(
    series: pd.DataFrame,
    city: pd.DataFrame,
    ind: Indicator,
    division: str,
    sex: str,
    selected: Sequence[str],
    lang: str,
    footer: Sequence[str] = (),
    width: int | None = None,
) -> go.Figure:
    """One line per district over the years, the city dashed; selected districts coloured,
    the rest grey (still hoverable). Gaps (NaN) stay gaps. `width`: the browser window's, for
    narrow screens (legend above the plot, wrapped text)."""
    years = sorted(int(y) for y in series["year"].unique())
    # plain lists: per-district pandas slicing would dominate the callback's time
    per: dict[str, tuple[str, list[int], list[float]]] = {}
    ordered = series.sort_values("year", kind="stable")
    for code, name, year, value in zip(
        ordered["district_code"].tolist(), ordered["district_name"].tolist(),
        ordered["year"].astype(int).tolist(), ordered["value"].astype(float).tolist(),
        strict=True,
    ):
        per.setdefault(code, (name, [], []))
        per[code][1].append(year)
        per[code][2].append(value)
    colours = colours_for([c for c in selected if c in per])
    last = {c: next((v for v in reversed(vals) if not math.isnan(v)), None)
            for c, (_, _, vals) in per.items()}
    ranked = sorted((c for c in per if last[c] is not None), key=lambda c: -last[c])
    order = {c: i for i, c in enumerate(ranked)}
    unit = ind.short_unit_for(lang)
    traces = []
    # grey lines first (underneath), highlighted lines on top
    for code in sorted(per, key=lambda c: c in colours):
        name, xs, ys = per[code]
        highlighted = code in colours
        colour = colours.get(code, GREYED if colours else UNSELECTED)
        text = [f"{fmt_number(v, ind.decimals, lang)} {unit}".strip() for v in ys]
        if highlighted and _has_inner_gap(pd.Series(ys)):
            known = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
            traces.append(dict(  # a dotted bridge over missing years, under the line
                x=[x for x, _ in known], y=[y for _, y in known], mode="lines",
                showlegend=False, line={"color": colour, "width": 1.5, "dash": "dot"},
                hoverinfo="skip", meta=code,
            ))
        traces.append(dict(
            x=xs, y=ys, name=name, meta=code, mode="lines+markers",
            connectgaps=False,
            line={"color": colour, "width": 3 if highlighted else (1.2 if colours else 1.6)},
            marker={"size": 7 if highlighted else 4, "color": colour},
            opacity=1.0 if highlighted or not colours else 0.9,
            customdata=text,
            hovertemplate=f"<b>{name}</b><br>%{{x}}: %{{customdata}}<extra></extra>",
            legendrank=100 + order.get(code, len(order)),
        ))
    if len(city):
        name = t("trends_city_line", lang)
        text = [f"{fmt_number(v, ind.decimals, lang)} {unit}".strip() for v in city["value"]]
        traces.append(dict(
            x=city["year"].tolist(), y=city["value"].tolist(), name=name, meta="",
            mode="lines+markers",
            line={"color": CITY, "width": 2.2, "dash": "dash"}, marker={"size": 5, "color": CITY},
            customdata=text, legendrank=1,
            hovertemplate=f"<b>{name}</b><br>%{{x}}: %{{customdata}}<extra></extra>",
        ))
    title, top = _line_title(ind, years, division, sex, lang, width)
    layout = dict(
        title=title,
        xaxis=_xaxis(years, width),
        yaxis={"title": {"text": ind.unit.get(lang)}, "gridcolor": "#ececec", "zeroline": False},
        legend={"title": {"text": t("trends_legend_title", lang), "font": {"size": 11}},
                "itemclick": "toggle", "itemdoubleclick": False, "tracegroupgap": 0,
                "font": {"size": 12}},
        hovermode="closest",
        plot_bgcolor="white",
        separators=_separators(lang),
        margin={"l": 60, "r": 10, "t": top},
    )
    if (width or NARROW) < NARROW:  # legend in two columns between the title and the plot
        rows = math.ceil(sum(tr.get("showlegend") is not False for tr in traces) / 2) + 1
        layout["legend"] |= {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.01,
                             "yanchor": "bottom", "entrywidthmode": "fraction",
                             "entrywidth": 0.5, "font": {"size": 11}}
        layout["legend"]["title"]["side"] = "top"
        layout["margin"] = {"l": 45, "r": 8, "t": top + 19 * rows + 8}
        layout["yaxis"]["title"] = {"text": None}  # the unit is in the title
    _footer(layout, footer, width=width)
    return _figure(traces, layout)


def inequality_figure(
    ineq: pd.DataFrame,
    measure: str,
    ind: Indicator,
    division: str,
    sex: str,
    lang: str,
    verdict: str = "",
    footer: Sequence[str] = (),
    width: int | None = None,
) -> go.Figure:
    """The chosen inequality measure per year; unmeasured years are gaps."""
    years = [int(y) for y in ineq["year"]]
    d = measure_decimals(measure, ind)
    unit = {"range": ind.short_unit, "ratio": t("trends_times", lang)}.get(measure, "")
    text = [
        (f"{fmt_number(v, d, lang)} {unit}".strip()
         + f"<br>{t('trends_n_districts', lang)}: {n}") if np.isfinite(v)
        else f"{t('no_data', lang)}<br>{t('trends_n_districts', lang)}: {n}"
        for v, n in zip(ineq["value"], ineq["n_districts"], strict=True)
    ]
    traces = []
    if _has_inner_gap(ineq["value"]):
        known = ineq.dropna(subset=["value"])
        traces.append(dict(  # dotted bridge over unmeasured years
            x=known["year"].tolist(), y=known["value"].tolist(), mode="lines",
            hoverinfo="skip", line={"color": INEQ_LINE, "width": 1.5, "dash": "dot"},
        ))
    traces.append(dict(
        x=ineq["year"].tolist(), y=ineq["value"].tolist(), mode="lines+markers", connectgaps=False,
        line={"color": INEQ_LINE, "width": 2.5}, marker={"size": 7, "color": INEQ_LINE},
        customdata=text, name=measure_label(measure, lang),
        hovertemplate="%{x}: %{customdata}<extra></extra>",
    ))
    title = measure_label(measure, lang)
    sub_title = ind.title.get(lang) + (f", {sex_label(sex, lang).lower()}" if sex != "total"
                                       else "")
    extra = f"{t('trends_verdict_label', lang)}: {verdict}" if verdict else ""
    narrow = (width or NARROW) < NARROW
    title_layout, top = _title_block(title, f" – {sub_title}, {year_span(years)}",
                                     [DIVISION_LABELS[division][lang], extra], 15, width)
    layout = dict(
        title=title_layout,
        xaxis=_xaxis(years, width),
        yaxis={"title": {"text": {"range": ind.unit.get(lang),
                                  "ratio": t("trends_times", lang)}.get(measure, "")},
               "gridcolor": "#ececec", "zeroline": False, "rangemode": "tozero"},
        showlegend=False, plot_bgcolor="white", separators=_separators(lang),
        margin={"l": 45 if narrow else 60, "r": 8 if narrow else 20, "t": top},
    )
    _footer(layout, footer, width=width)
    return _figure(traces, layout)


# ----------------------------------------------------------------------------- tables


def lines_table_frame(series: pd.DataFrame, city: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Exactly what the line chart draws: one row per area (city last), one column per year."""
    wide = series.pivot(index=["district_code", "district_name"], columns="year",
                        values="value")
    years = list(wide.columns)
    last = wide.ffill(axis=1).iloc[:, -1] if years else pd.Series(dtype=float)
    wide = wide.loc[last.sort_values(ascending=False, na_position="last").index]
    wide = wide.reset_index().drop(columns="district_code")
    if len(city):
        row = {"district_name": t("trends_city_line", lang)}
        row |= dict(zip(city["year"], city["value"], strict=True))
        wide = pd.concat([wide, pd.DataFrame([row])], ignore_index=True)
    wide.columns = [str(c) for c in wide.columns]
    return wide


def inequality_table_frame(ineq: pd.DataFrame) -> pd.DataFrame:
    return ineq[["year", "value", "n_districts"]].assign(year=ineq["year"].astype(str))
