"""Exports of a chart and exactly the data behind it: CSV, XLSX, PPTX, PNG/SVG.

Every export explains itself: title, unit, year(s), district division, source with licence,
how values were carried to the districts, and the data version of the build, so a chart pasted
into a council presentation can be traced back to the data that drew it.

- `ChartMeta`: what an export says about its chart (built from the store by `chart_meta`).
- `chart_table`: the rows a chart of one indicator shows (districts x years).
- `to_csv`, `to_xlsx`: the table plus metadata columns (and an 'Om data'/'About' sheet).
- `to_image`: PNG/SVG in a presentation layout ('slide' 1920x1080, 'square' 1080x1080) with the
  source line inside the image; `presentation_figure` is the same figure without rendering.
- `to_pptx`: a 16:9 slide with title, chart image, takeaway and footnote.
- `takeaway`: one plain sentence about the gap between the highest and lowest district.

No side effects at import apart from registering UI strings.
"""

from __future__ import annotations

import copy
import io
import math
import re
import struct
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pages.i18n import DIVISION_LABELS, add_strings, fmt_number, t

if TYPE_CHECKING:
    from indicators.catalog import Indicator
    from indicators.store import Store

add_strings({
    "exp_licence": {"sv": "Licens", "en": "Licence"},
    "exp_data_version": {"sv": "Dataversion", "en": "Data version"},
    "exp_sheet_data": {"sv": "Data", "en": "Data"},
    "exp_sheet_about": {"sv": "Om data", "en": "About"},
    "exp_title": {"sv": "Titel", "en": "Title"},
    "exp_definition": {"sv": "Definition", "en": "Definition"},
    "exp_unit": {"sv": "Enhet", "en": "Unit"},
    "exp_years": {"sv": "År", "en": "Year(s)"},
    "exp_sex": {"sv": "Kön", "en": "Sex"},
    "exp_aggregation": {"sv": "Beräkning per område", "en": "How area values are computed"},
    "exp_note": {"sv": "Anmärkning", "en": "Note"},
    "exp_takeaway": {"sv": "Sammanfattning", "en": "Takeaway"},
    "exp_url": {"sv": "Webbadress", "en": "URL"},
    "exp_columns": {"sv": "Kolumner", "en": "Columns"},
    "exp_columns_text": {
        "sv": "Bladet Data har en rad per område och år. Kolumnerna unit, source, licence, "
              "aggregation_note, data_version, division och year upprepar metadata på varje rad "
              "så att raderna kan användas var för sig. Tomt värde = uppgift saknas.",
        "en": "The Data sheet has one row per area and year. The columns unit, source, licence, "
              "aggregation_note, data_version, division and year repeat the metadata on every "
              "row so rows can be used on their own. Empty value = no data.",
    },
    "exp_app": {"sv": "Skillnader i Stockholm", "en": "Differences in Stockholm"},
    "exp_sex_total": {"sv": "totalt", "en": "total"},
    "exp_sex_female": {"sv": "kvinnor", "en": "women"},
    "exp_sex_male": {"sv": "män", "en": "men"},
    "exp_agg_ratio": {
        "sv": "Kvot av summor: täljare och nämnare summeras över mindre områden innan kvoten tas.",
        "en": "Ratio of sums: numerator and denominator are summed over smaller areas before "
              "the ratio is taken.",
    },
    "exp_agg_sum": {"sv": "Summa över mindre områden.", "en": "Sum over smaller areas."},
    "exp_agg_weighted": {
        "sv": "Viktat medelvärde av mindre områdens värden.",
        "en": "Weighted mean of smaller areas' values.",
    },
    "exp_agg_published": {
        "sv": "Värden som källan publicerar per område.",
        "en": "Values as published by the source per area.",
    },
    "exp_agg_merged_weighted": {
        "sv": "Sammanslagna områden: befolkningsviktat medelvärde av delarna.",
        "en": "Merged areas: population-weighted mean of their parts.",
    },
    "exp_agg_merged_sum": {
        "sv": "Sammanslagna områden: summan av delarna.",
        "en": "Merged areas: the sum of their parts.",
    },
    "exp_gap_noun_district": {"sv": "stadsdel", "en": "district"},
    "exp_gap_noun_area": {"sv": "område", "en": "area"},
    "exp_pp": {"sv": "procentenheter", "en": "percentage points"},
    "exp_among_female": {"sv": " bland kvinnor", "en": " among women"},
    "exp_among_male": {"sv": " bland män", "en": " among men"},
    "exp_gap_one": {
        "sv": "Skillnaden i {what}{among} mellan högsta och lägsta {noun} var {a} {unit} {y}.",
        "en": "The gap in {what}{among} between the highest and lowest {noun} was {a} {unit} "
              "in {y}.",
    },
    "exp_gap_up": {
        "sv": "Skillnaden i {what}{among} mellan högsta och lägsta {noun} ökade från {a} till "
              "{b} {unit}, {y0}-{y1}.",
        "en": "The gap in {what}{among} between the highest and lowest {noun} grew from {a} to "
              "{b} {unit}, {y0}-{y1}.",
    },
    "exp_gap_down": {
        "sv": "Skillnaden i {what}{among} mellan högsta och lägsta {noun} minskade från {a} "
              "till {b} {unit}, {y0}-{y1}.",
        "en": "The gap in {what}{among} between the highest and lowest {noun} narrowed from {a} "
              "to {b} {unit}, {y0}-{y1}.",
    },
    "exp_gap_same": {
        "sv": "Skillnaden i {what}{among} mellan högsta och lägsta {noun} var oförändrad, {a} "
              "{unit}, {y0}-{y1}.",
        "en": "The gap in {what}{among} between the highest and lowest {noun} was unchanged at "
              "{a} {unit}, {y0}-{y1}.",
    },
})

Lang = Literal["sv", "en"]
Sex = Literal["total", "female", "male"]
ImageFormat = Literal["png", "svg"]

# Stable, language-independent column names of the CSV/XLSX data (machine-readable exports).
META_COLUMNS = ("unit", "source", "licence", "aggregation_note", "data_version",
                "division", "division_label", "year")
# CSV dialect per language: Excel with Swedish regional settings splits on ';' and reads ','
# as the decimal mark; a comma-separated file would open as one column there.
CSV_DIALECT: dict[str, tuple[str, str]] = {"sv": (";", ","), "en": (",", ".")}
BOM = "\ufeff"


# --------------------------------------------------------------------------------- metadata


class SourceRef(BaseModel):
    """One source of a chart: a short name for the image, the full citation, URL, licence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    url: str | None = None
    licence: str = Field(min_length=1)


class ChartMeta(BaseModel):
    """What an export says about its chart. Built by `chart_meta` from the store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    years: tuple[int, ...] = Field(min_length=1)
    division: str = Field(min_length=1)  # code, e.g. "sdo14"
    division_label: str = Field(min_length=1)  # e.g. "14 stadsdelsområden (2007-2020)"
    sources: tuple[SourceRef, ...] = Field(min_length=1)
    data_version: str = Field(min_length=1)
    lang: Lang = "sv"
    aggregation_note: str = ""
    takeaway: str = ""
    indicator_id: str | None = None
    definition: str = ""
    short_unit: str = ""
    decimals: int = Field(default=1, ge=0, le=4)
    sex: Sex = "total"
    notes: tuple[str, ...] = ()

    @field_validator("years")
    @classmethod
    def _sorted_years(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(v)))

    @property
    def year_label(self) -> str:
        return str(self.years[0]) if len(self.years) == 1 else f"{self.years[0]}-{self.years[-1]}"

    @property
    def source_lines(self) -> list[str]:
        """Full citations with their URLs, one per source (deduplicated)."""
        out = []
        for s in self.sources:
            line = s.citation if not s.url or s.url in s.citation else f"{s.citation} ({s.url})"
            out.append(line)
        return list(dict.fromkeys(out))

    @property
    def licences(self) -> list[str]:
        return list(dict.fromkeys(s.licence for s in self.sources))

    @property
    def short_source(self) -> str:
        """The source as short as a chart needs: names of publishers, grouped."""
        return "; ".join(name for name, _ in self.source_groups())

    def source_groups(self) -> list[tuple[str, str]]:
        """(short publisher name, licence) per publisher; when a publisher's files state their
        licence in different words, the shortest wording (the full list is in the data
        exports)."""
        names = [s.name for s in self.sources]
        short = dict(zip(names, _group_names(names), strict=True))
        groups: dict[str, list[str]] = {}
        for s in self.sources:
            groups.setdefault(short[s.name], []).append(s.licence)
        return [(name, min(lics, key=len)) for name, lics in groups.items()]

    @property
    def sex_label(self) -> str:
        return t(f"exp_sex_{self.sex}", self.lang)

    def footnote(self) -> str:
        """Source, licence, data version and division in one line (slides, images)."""
        lang = self.lang
        groups = self.source_groups()
        if len({lic for _, lic in groups}) == 1:
            src = (f"{t('source', lang)}: {self.short_source}. "
                   f"{t('exp_licence', lang)}: {groups[0][1].rstrip('.')}. ")
        else:
            src = (f"{t('source', lang)} ({t('exp_licence', lang).lower()}): "
                   + "; ".join(f"{n} ({lic})" for n, lic in groups) + ". ")
        return (
            src +
            f"{t('division', lang)}: {self.division_label}. "
            f"{t('exp_data_version', lang)}: {self.data_version}. {t('exp_app', lang)}."
        )


def _group_names(names: Sequence[str]) -> list[str]:
    """Each name, or its first word when several distinct names start with that word
    ('Valmyndigheten, kommunvalet 2014', 'Valmyndigheten valgeografi 2010' -> 'Valmyndigheten')."""
    def head(n: str) -> str:
        return (n.split() or [n])[0].rstrip(",:;")

    first: dict[str, set[str]] = {}
    for n in names:
        first.setdefault(head(n), set()).add(n)
    return [head(n) if len(first[head(n)]) > 1 else n for n in names]


def short_names(names: Iterable[str]) -> list[str]:
    """Publisher names grouped by `_group_names`, without duplicates, in order."""
    names = [n.strip() for n in names if n.strip()]
    return list(dict.fromkeys(_group_names(names)))


def _short_publisher(text: str) -> str:
    return text.split(" (")[0].split(",")[0].strip() or text.strip()


_URL_RE = re.compile(r"https?://\S+")


@lru_cache(maxsize=4)
def _citations_table(build_dir: str, data_version: str) -> pd.DataFrame:
    """Per-row citations of transcribed observations (read once per build)."""
    path = Path(build_dir) / "observations.parquet"
    if not path.is_file():
        return pd.DataFrame(columns=["source_id", "variable", "year", "citation"])
    obs = pd.read_parquet(path, columns=["source_id", "variable", "year", "citation"])
    obs = obs[obs["citation"].fillna("") != ""]
    return obs.drop_duplicates().reset_index(drop=True)


def chart_sources(store: Store, ind: Indicator, years: Sequence[int]) -> list[SourceRef]:
    """The indicator's registered sources; for hand-transcribed sources the publications cited
    by the rows of the charted years instead of the collective 'transcribed' entry."""
    reg = store.registry
    variables = {v for v in (ind.aggregation.variable, ind.aggregation.numerator,
                             ind.aggregation.denominator, ind.aggregation.weight) if v}
    out: list[SourceRef] = []
    for sid in ind.sources:
        if sid not in reg.sources:
            continue
        src = reg[sid]
        if src.root == "transcribed":
            cites = _citations_table(str(store.build_dir), str(store.info.get("data_version")))
            rows = cites[(cites["source_id"] == sid) & cites["variable"].isin(variables)
                         & cites["year"].isin(list(years))]
            found = list(dict.fromkeys(c for cell in rows["citation"] for c in cell.split(" | ")))
            for c in found:
                m = _URL_RE.search(c)
                out.append(SourceRef(name=_short_publisher(c), citation=c,
                                     url=m.group(0).rstrip(".,;)") if m else None,
                                     licence=src.licence))
            if found:
                continue
        out.append(SourceRef(
            name=_short_publisher(src.publisher),
            citation=f"{src.publisher}: {src.title}",
            url=src.homepage,
            licence=src.licence,
        ))
    return out


def aggregation_note(ind: Indicator, division: str, lang: str) -> str:
    """One or two sentences: how the source's values became the values of `division`."""
    agg = ind.aggregation
    if agg.kind == "ratio":
        parts = [t("exp_agg_ratio", lang)]
    elif agg.kind == "sum":
        parts = [t("exp_agg_sum", lang)]
    elif agg.kind == "weighted_mean":
        parts = [t("approx_note" if agg.approximate else "exp_agg_weighted", lang)]
    else:
        parts = [t("exp_agg_published", lang)]
        if ind.source_division != division and division not in ("city",):
            if agg.merge_weight:
                parts.append(t("exp_agg_merged_weighted", lang))
            elif agg.additive:
                parts.append(t("exp_agg_merged_sum", lang))
    if ind.source_division == "school":
        parts.append(t("schools_note", lang))
    return " ".join(parts)


def chart_meta(
    store: Store,
    indicator_id: str,
    division: str,
    years: int | Sequence[int],
    lang: str = "sv",
    sex: str = "total",
    takeaway_text: str | None = None,
) -> ChartMeta:
    """Metadata of a chart of one indicator on one division for the given year(s)."""
    lang = "en" if lang == "en" else "sv"
    ind = store.catalog[indicator_id]
    years = [int(years)] if isinstance(years, int) else [int(y) for y in years]
    label = DIVISION_LABELS.get(division, {}).get(lang, division)
    notes = []
    if ind.reliability_note is not None:
        notes.append(ind.reliability_note.get(lang))
    return ChartMeta(
        title=ind.title.get(lang),
        unit=ind.unit.get(lang),
        short_unit=ind.short_unit,
        decimals=ind.decimals,
        years=tuple(years),
        division=division,
        division_label=label,
        sources=tuple(chart_sources(store, ind, years)),
        data_version=str(store.info.get("data_version", "unknown")),
        lang=lang,
        aggregation_note=aggregation_note(ind, division, lang),
        takeaway=(takeaway(store, indicator_id, division, sex, lang)
                  if takeaway_text is None else takeaway_text),
        indicator_id=indicator_id,
        definition=ind.definition.get(lang),
        sex=sex,
        notes=tuple(notes),
    )


def chart_table(
    store: Store,
    indicator_id: str,
    division: str,
    years: int | Sequence[int] | None = None,
    sex: str = "total",
    mappable_only: bool = True,
) -> pd.DataFrame:
    """The rows a chart of the indicator shows: one per district and year. With
    `mappable_only` (as the map and the bars), values too poorly covered to be shown are
    blank, as on the chart ('no data'), and the row stays so the district is listed."""
    v = store.values(indicator_id, division, sex)
    if years is not None:
        ys = [int(years)] if isinstance(years, int) else [int(y) for y in years]
        v = v[v["year"].isin(ys)]
    cols = [c for c in ("indicator_id", "division", "district_code", "district_name", "year",
                        "sex", "value", "numerator", "denominator", "coverage", "mappable")
            if c in v.columns]
    out = v[cols].copy()
    if mappable_only and "mappable" in out:
        out.loc[~out["mappable"].astype(bool), "value"] = float("nan")
    out["year"] = out["year"].astype(int)
    return out.sort_values(["year", "district_name"]).reset_index(drop=True)


# --------------------------------------------------------------------------------- takeaway


def _is_percent(ind: Indicator) -> bool:
    return ind.short_unit.strip() == "%" or ind.unit.sv.lower().startswith("procent")


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def takeaway(store: Store, indicator_id: str, division: str, sex: str = "total",
             lang: str = "sv") -> str:
    """One plain sentence on the gap (range) between the highest and lowest district, first
    and last year with values; '' when the built inequality table has no range for it."""
    lang = "en" if lang == "en" else "sv"
    ind = store.catalog[indicator_id]
    q = store.inequality
    rows = q[(q["indicator_id"] == indicator_id) & (q["division"] == division)
             & (q["sex"] == sex) & (q["measure"] == "range") & q["value"].notna()]
    if rows.empty:
        return ""
    rows = rows.sort_values("year")
    d = ind.decimals
    unit = t("exp_pp", lang) if _is_percent(ind) else ind.unit.get(lang)
    noun = t("exp_gap_noun_district" if division.startswith("sdo") else "exp_gap_noun_area", lang)
    among = t(f"exp_among_{sex}", lang) if sex in ("female", "male") else ""
    words = {"what": _lower_first(ind.title.get(lang)), "among": among, "noun": noun,
             "unit": unit}
    first, last = rows.iloc[0], rows.iloc[-1]
    a, b = float(first["value"]), float(last["value"])
    y0, y1 = int(first["year"]), int(last["year"])
    if y0 == y1:
        return t("exp_gap_one", lang, a=fmt_number(a, d, lang), y=y0, **words)
    ra, rb = round(a, d), round(b, d)
    key = "exp_gap_same" if ra == rb else ("exp_gap_up" if rb > ra else "exp_gap_down")
    return t(key, lang, a=fmt_number(a, d, lang), b=fmt_number(b, d, lang), y0=y0, y1=y1,
             **words)


# --------------------------------------------------------------------------------- tables


def _with_meta(table: pd.DataFrame, meta: ChartMeta) -> pd.DataFrame:
    """The table with the metadata columns (the same on every row) after its own columns."""
    df = table.copy()
    if "year" not in df.columns:
        if len(meta.years) != 1:
            raise ValueError("the table has no 'year' column and the metadata spans several years")
        df["year"] = meta.years[0]
    if "division" not in df.columns:
        df["division"] = meta.division
    if "indicator_id" not in df.columns and meta.indicator_id:
        df.insert(0, "indicator_id", meta.indicator_id)
    if "indicator" not in df.columns:
        df.insert(1 if "indicator_id" in df.columns else 0, "indicator", meta.title)
    fixed = {
        "unit": meta.unit,
        "source": " | ".join(meta.source_lines),
        "licence": " | ".join(meta.licences),
        "aggregation_note": meta.aggregation_note,
        "data_version": meta.data_version,
        "division_label": meta.division_label,
    }
    for col, value in fixed.items():
        df[col] = value
    front = [c for c in df.columns if c not in META_COLUMNS]
    return df[front + [c for c in META_COLUMNS if c in df.columns]]


def to_csv(table: pd.DataFrame, meta: ChartMeta, *, sep: str | None = None,
           decimal: str | None = None) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads å/ä/ö), metadata columns on every row.
    Swedish exports use ';' and a decimal comma (what Excel with Swedish settings expects),
    English ones ',' and a decimal point; `sep`/`decimal` override."""
    dsep, ddec = CSV_DIALECT[meta.lang]
    df = _with_meta(table, meta)
    text = df.to_csv(index=False, sep=sep or dsep, decimal=decimal or ddec, lineterminator="\r\n")
    return (BOM + text).encode("utf-8")


def read_csv(data: bytes, lang: str = "sv") -> pd.DataFrame:
    """Read a CSV written by `to_csv` back (for tests and for users' scripts)."""
    sep, dec = CSV_DIALECT["en" if lang == "en" else "sv"]
    return pd.read_csv(io.BytesIO(data), sep=sep, decimal=dec, encoding="utf-8-sig",
                       dtype={"district_code": str, "data_version": str})


def to_xlsx(table: pd.DataFrame, meta: ChartMeta) -> bytes:
    """An Excel workbook: 'Data' (the table with metadata columns) and 'Om data'/'About'."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    lang = meta.lang
    df = _with_meta(table, meta)
    wb = Workbook()
    ws = wb.active
    ws.title = t("exp_sheet_data", lang)
    ws.append(list(df.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in df.itertuples(index=False):
        ws.append([_xl(v) for v in row])
    numfmt = "0" if meta.decimals == 0 else "0." + "0" * meta.decimals
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        if col == "value":
            for cell in ws[letter][1:]:
                cell.number_format = numfmt
        width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    if len(df):
        ws.auto_filter.ref = ws.dimensions

    about = wb.create_sheet(t("exp_sheet_about", lang))
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 100
    about.column_dimensions["C"].width = 50
    about.column_dimensions["D"].width = 50
    wrap = Alignment(wrap_text=True, vertical="top")
    rows: list[tuple[str, str]] = [
        (t("exp_title", lang), meta.title),
        (t("exp_definition", lang), meta.definition),
        (t("exp_unit", lang), meta.unit),
        (t("exp_years", lang), meta.year_label),
        (t("division", lang), meta.division_label),
        (t("exp_sex", lang), meta.sex_label),
        (t("exp_aggregation", lang), meta.aggregation_note),
        *[(t("exp_note", lang), n) for n in meta.notes],
        (t("exp_takeaway", lang), meta.takeaway),
        (t("exp_data_version", lang), meta.data_version),
        (t("exp_columns", lang), t("exp_columns_text", lang)),
    ]
    about.append([t("exp_app", lang)])
    about["A1"].font = Font(bold=True, size=14)
    about.append([])
    for key, value in rows:
        if value:
            about.append([key, value])
    about.append([])
    about.append([t("source", lang), "", t("exp_url", lang), t("exp_licence", lang)])
    header_row = about.max_row
    for cell in about[header_row]:
        cell.font = Font(bold=True)
    for s in meta.sources:
        about.append([t("source", lang), s.citation, s.url or "", s.licence])
        if s.url:
            link = about.cell(row=about.max_row, column=3)
            link.hyperlink = s.url
            link.style = "Hyperlink"
    for row in about.iter_rows(min_row=3):
        row[0].font = Font(bold=True)
        for cell in row:
            cell.alignment = wrap
    wb.properties.title = meta.title
    wb.properties.subject = f"{meta.division_label}, {meta.year_label}"
    wb.properties.description = meta.footnote()[:255]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xl(v: Any) -> Any:
    """Excel cell value: NaN/NA become empty cells; numpy scalars become Python ones."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


# --------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class Preset:
    width: int  # layout px (fonts and map zoom are laid out at this size)
    height: int
    scale: float  # output px = layout px * scale (PNG); SVG keeps layout px
    font: int
    title: int
    foot: int


PRESETS: dict[str, Preset] = {
    "slide": Preset(width=1280, height=720, scale=1.5, font=16, title=26, foot=12),  # 1920x1080
    "square": Preset(width=720, height=720, scale=1.5, font=15, title=22, foot=11),  # 1080x1080
}
FONT_FAMILY = "Arial, 'Liberation Sans', Helvetica, sans-serif"


def output_size(preset: str, fmt: str = "png") -> tuple[int, int]:
    p = PRESETS[preset]
    if fmt == "svg":
        return p.width, p.height
    return round(p.width * p.scale), round(p.height * p.scale)


def _wrap_html(text: str, width_px: int, font_px: int, em: float = 0.47) -> list[str]:
    """Lines of at most the characters that fit width_px (em: average character width)."""
    chars = max(20, int(width_px / (font_px * em)))
    return textwrap.wrap(text, chars) or [""]


def _bounds(fig: go.Figure) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the polygons the map traces show."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        else:
            for c in coords:
                walk(c)

    for tr in fig.data:
        if tr.type not in ("choroplethmap", "choroplethmapbox"):
            continue
        gj = tr.geojson
        if not isinstance(gj, dict):
            continue
        wanted = {str(x) for x in (tr.locations if tr.locations is not None else [])}
        for f in gj.get("features", []):
            if wanted and str(f.get("id")) not in wanted:
                continue
            geom = f.get("geometry") or {}
            walk(geom.get("coordinates") or [])
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def fit_map(bounds: tuple[float, float, float, float], width: int, height: int,
            pad: float = 0.05) -> tuple[dict[str, float], float]:
    """MapLibre center and zoom that fit `bounds` into a width x height px map (512 px tiles)."""
    w, s, e, n = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    fx = max((e - w) / 360.0, 1e-9)
    fy = max((merc(n) - merc(s)) / (2 * math.pi), 1e-9)
    zoom = math.log2(min(width * (1 - 2 * pad) / (512 * fx), height * (1 - 2 * pad) / (512 * fy)))
    lat = math.degrees(2 * math.atan(math.exp((merc(n) + merc(s)) / 2)) - math.pi / 2)
    return {"lon": (w + e) / 2, "lat": lat}, zoom


def _is_map(fig: go.Figure) -> bool:
    return any(tr.type in ("choroplethmap", "choroplethmapbox") for tr in fig.data)


def _label_width(labels: Iterable[Any], font_px: int) -> int:
    """Rough width in px of the longest tick label (Arial: about 0.55 em per character)."""
    longest = max((len(str(x)) for x in labels), default=0)
    return int(longest * font_px * 0.55) + 12


def presentation_figure(fig: go.Figure, preset: str = "slide",
                        meta: ChartMeta | None = None) -> go.Figure:
    """A copy of `fig` laid out for a slide or a square image: larger fonts, margins, the
    title/unit/year/division as title and the source line inside the image."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    p = PRESETS[preset]
    out = go.Figure(copy.deepcopy(fig.to_dict()))
    side = 48 if preset == "slide" else 28
    has_title = meta is not None or bool(fig.layout.title.text)
    title_lines = [""]
    if meta is not None:  # long titles wrap instead of running off the image
        title_lines = _wrap_html(f"{meta.title}, {meta.year_label}", p.width - 2 * side,
                                 p.title, em=0.56)
    # plotly.js drops the 0.7em baseline offset of the first line of a multi-line title:
    # move such titles down by that much so the first line is not cut off at the top
    shift = int(0.75 * p.title) if len(title_lines) > 1 else 0
    top = (int(p.title * 1.25 * len(title_lines) + p.font * 1.6 + 40) + shift if has_title
           else side)
    foot_lines = _wrap_html(meta.footnote(), p.width - 2 * side, p.foot) if meta else []
    foot_h = int(len(foot_lines) * p.foot * 1.3) + (14 if foot_lines else 0)
    left, right, below_plot = side, side, 12  # below_plot: room for axis ticks and title

    title: dict[str, Any] = {"x": side / p.width, "xanchor": "left",
                             "y": 1 - (14 + shift) / p.height,
                             "yanchor": "top", "yref": "container", "font": {"size": p.title}}
    if meta is not None:
        sub = f"{meta.unit} · {meta.division_label}"
        if meta.sex != "total":
            sub += f" · {meta.sex_label}"
        text = "<br>".join(title_lines)
        cut = text.rfind(",")  # bold the title, not the year
        title["text"] = f"<b>{text[:cut]}</b>{text[cut:]}"
        title["subtitle"] = {"text": sub, "font": {"size": p.font, "color": "#444"}}

    if _is_map(out):
        b = _bounds(out)
        if b is not None:
            bar = 120 if any(tr.showscale is not False for tr in out.data
                             if tr.type == "choroplethmap") else 0
            center, zoom = fit_map(b, p.width - left - right - bar,
                                   p.height - top - foot_h - below_plot)
            out.update_layout(map={"center": center, "zoom": zoom})
        out.update_traces(colorbar={"thickness": 20, "len": 0.8, "title": {"side": "top"}},
                          selector={"type": "choroplethmap"})
    else:
        horizontal = [tr for tr in out.data if tr.type == "bar" and tr.orientation == "h"]
        labels = (horizontal[0].y if horizontal and horizontal[0].y is not None
                  else out.layout.yaxis.ticktext)  # e.g. the compare profile's dot plot
        if labels is not None:  # room for the longest line of the (wrapped) labels
            left = side + _label_width([s for x in labels for s in str(x).split("<br>")],
                                       p.font)
        below_plot = int(p.font * 1.6) + (int(p.font * 1.8) if out.layout.xaxis.title.text
                                          else 0)
        out.update_layout(yaxis_automargin=True, xaxis_automargin=True,
                          xaxis_title_standoff=8)

    out.update_layout(
        width=p.width, height=p.height, autosize=False,
        font={"family": FONT_FAMILY, "size": p.font, "color": "#222"},
        title=title,
        margin={"l": left, "r": right, "t": top, "b": foot_h + below_plot, "autoexpand": True},
        paper_bgcolor="white",
    )
    if foot_lines:
        # paper x of the image's left edge + side, so the footer lines up with the title
        x0 = (side - left) / max(p.width - left - right, 1)
        out.add_annotation(
            text="<br>".join(foot_lines), showarrow=False, align="left",
            xref="paper", yref="paper", x=x0, y=0, xanchor="left", yanchor="top",
            yshift=-below_plot, font={"size": p.foot, "color": "#444"},
        )
    return out


def to_image(fig: go.Figure, fmt: ImageFormat = "png", preset: str = "slide",
             meta: ChartMeta | None = None, renderer: Any = None) -> bytes:
    """PNG (1920x1080 'slide', 1080x1080 'square') or SVG of the figure in presentation layout."""
    from pages import renderer as _renderer

    p = PRESETS.get(preset)
    if p is None:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    pf = presentation_figure(fig, preset, meta)
    r = renderer or _renderer.get_renderer()
    return r.render(pf, fmt, p.width, p.height, p.scale if fmt == "png" else 1)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError if `data` is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


# --------------------------------------------------------------------------------- slides


def to_pptx(image_png: bytes, meta: ChartMeta) -> bytes:
    """One 16:9 slide: title, the chart image (with alt text), the takeaway, a footnote with
    source, licence, district division and data version."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    img_w, img_h = png_size(image_png)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only": a real title placeholder
    margin = Inches(0.5)
    width = prs.slide_width - 2 * margin

    title = slide.shapes.title
    title.left, title.top, title.width, title.height = margin, Inches(0.25), width, Inches(0.8)
    title.text = f"{meta.title}, {meta.year_label}"
    tf = title.text_frame
    tf.word_wrap = True
    for para in tf.paragraphs:
        para.alignment = 1  # left
        for run in para.runs:
            run.font.size = Pt(28)
            run.font.bold = True

    top = Inches(1.05)
    if meta.takeaway:
        lines = math.ceil(len(meta.takeaway) / 95)  # about 95 characters a line at 18 pt
        box_h = Inches(0.34 * lines + 0.12)
        box = slide.shapes.add_textbox(margin, top, width, box_h)
        box.name = "Takeaway"
        box.text_frame.word_wrap = True
        box.text_frame.text = meta.takeaway
        for run in box.text_frame.paragraphs[0].runs:
            run.font.size = Pt(18)
        top += box_h + Inches(0.05)

    foot_h = Inches(0.55)
    foot_top = prs.slide_height - foot_h - Inches(0.15)
    avail_w, avail_h = width, foot_top - top - Inches(0.1)
    ratio = img_w / img_h
    pic_w = avail_w
    pic_h = Emu(int(pic_w / ratio))
    if pic_h > avail_h:
        pic_h = avail_h
        pic_w = Emu(int(pic_h * ratio))
    left = Emu(int((prs.slide_width - pic_w) / 2))
    pic = slide.shapes.add_picture(io.BytesIO(image_png), left, top, pic_w, pic_h)
    pic.name = "Chart"
    alt = f"{meta.title}, {meta.year_label}. {meta.unit}. {meta.division_label}. {meta.takeaway}"
    pic._element.nvPicPr.cNvPr.set("descr", alt.strip())

    foot = slide.shapes.add_textbox(margin, foot_top, width, foot_h)
    foot.name = "Footnote"
    foot.text_frame.word_wrap = True
    foot.text_frame.text = meta.footnote()
    for run in foot.text_frame.paragraphs[0].runs:
        run.font.size = Pt(10)
        run.font.color.rgb = RGBColor(0x44, 0x44, 0x44)

    slide.notes_slide.notes_text_frame.text = "\n".join(
        [meta.definition, meta.aggregation_note, *meta.notes, *meta.source_lines]
    ).strip()
    prs.core_properties.title = meta.title
    prs.core_properties.subject = f"{meta.division_label}, {meta.year_label}"
    prs.core_properties.comments = meta.footnote()[:255]  # the property's limit
    prs.core_properties.language = "sv-SE" if meta.lang == "sv" else "en-GB"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------- names


def filename(meta: ChartMeta, ext: str) -> str:
    """A file name that says what is in the file: indicator_division_years_version.ext."""
    base = meta.indicator_id or meta.title
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9]+", "-", base).strip("-").lower() or "chart"
    return f"{base}_{meta.division}_{meta.year_label}_{meta.data_version[:8]}.{ext.lstrip('.')}"
