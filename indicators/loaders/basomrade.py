"""SCB figures per basområde 2000-2014 (Gapminder open-numbers DDF), Stockholm only.

Source `scb_basomrade_series_2000_2014`: one DDF CSV per measure (`basomrade,year,<concept>`),
the entities file `ddf--entities--geo--basomrade.csv` (id -> name, municipality, baskod2010)
and `ddf--concepts.csv`. Stockholm = municipality `0180_stockholm` (356 ids).

Variables (division `basomrade`, year = the DDF year, sex total/female/male for all four):

- `population`: registered population on 31 December (concept population_20xx_12_31), persons.
- `employment_rate_20_64`: share of residents aged 20-64 who are förvärvsarbetande
  (concept employment_rate_aged_20_64, "Andel förvärvsarbetande"), in PERCENT 0-100.
- `higher_education_3y_share_25_64`: share of residents aged 25-64 with a post-secondary
  education of 3 years or more ("lång högskoleutbildning"; concept
  higher_education_min_3_years_percent_of_population_aged_25_64), in PERCENT 0-100.
- `mean_income_20plus_tkr`: mean income ("Medelinkomst") of residents aged 20 and over, in
  thousand SEK (the DDF gives SEK; divided by 1000 here), current prices of each year.
  The DDF concept id says `mean_income_aged_lt_20` ("less than 20"), but that is a mislabel:
  the values (Stockholm 2000: 40-785 thousand SEK per person) are adult incomes, and the same
  numbers are published as `mean_income_aged_gt_20` ("Mean income", population "20+") in the
  successor dataset open-numbers/ddf--sodertornsmodellen, whose ETL builds them from SCB's
  'MedelkonBas' files, column 'inkl 0' (persons with no income included). The mirror's
  concepts file states neither the income concept nor the unit.

Every share in the project is in percent, so the DDF's fractions (0-1) are multiplied by 100;
a share outside 0-1 in the file is an error (it would mean the file already is in percent).
Shares and means come without their denominators (persons 20-64, 25-64, 20+): aggregating
them to districts needs a population weight and is an approximation.

Codes. `code` is the basområde code of the 2010 polygons (TopoJSON property BASKOD2010, source
`basomrade_2010_boundaries`), taken from the entities' `baskod2010`. Three cases differ, all
in an explicit table below and checked against the polygons' BASKOD2000 lineage:

- 14 entity ids (all named 'Okänd', values 2000-2009 only) carry BASKOD2000 codes that are
  not 2010 polygons: Kista's areas renumbered in 2010 (2260xxx -> 2242xxx, one polygon each,
  populations continuous) get their 2010 code; areas split in 2010 get a UNION code, the 2010
  codes joined by '+', e.g. '2240521+2240522' (Norra Rinkeby 2000-2009). So Rinkeby-Kista is
  not short of data in 2000-2009: its values sit under these ids.
- 1120131 Norra Bantorget Ö before 2010 covered what became 1120132 Norra Bantorget V (the
  polygon lineage does not say so; the population does: 783 in 2009 -> 643 + 221 in 2010), so
  its 2000-2009 values get the code '1120131+1120132'. Likewise 2150400 (Hammarbyhöjden
  2000-2009) -> '2150401+2150402': 8,663 in 2009 -> Blåsut 531 + Hammarbyhöjden 8,245 in 2010,
  although the lineage lists only 2150402.
- `polygons(code)` splits a code into its 2010 polygon codes. A crosswalk built on the 2010
  polygons has no row for a union code, so an inner join on `code` would silently drop
  Rinkeby, Tensta, Östberga, Norra Station, Hammarbyhöjden and Norra Bantorget Ö 2000-2009:
  `union_crosswalk` derives rows for the union codes from their parts' rows.

Coverage. 77 of the 419 Stockholm 2010 polygons have no entity and no values in any year
(some populated, e.g. Kistagången and Isafjordsgatan in Kista, Skanstull), and the Stockholm
sum of `population` is 0.4 % (2000) to 3.8 % (2014) below the official city population.
`coverage(observations)` reports per variable, sex and year how many areas have values and
how much population they hold. Missing values stay missing: no row, never a zero.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.registry import Registry
from indicators.observations import validate

SOURCE = "scb_basomrade_series_2000_2014"
BOUNDARIES = "basomrade_2010_boundaries"
DIVISION = "basomrade"
MUNICIPALITY = "0180_stockholm"
STOCKHOLM_KOMKOD = 80  # KOMKOD in the TopoJSON: the last digits of kommun 0180
ENTITIES = "ddf--entities--geo--basomrade.csv"
CONCEPTS_FILE = "ddf--concepts.csv"
FIRST_2010_YEAR = 2010


@dataclass(frozen=True)
class Measure:
    variable: str
    kind: str  # 'count', 'share' (fraction -> percent) or 'sek' (SEK -> thousand SEK)


MEASURES: dict[str, Measure] = {
    "population_20xx_12_31": Measure("population", "count"),
    "employment_rate_aged_20_64": Measure("employment_rate_20_64", "share"),
    "higher_education_min_3_years_percent_of_population_aged_25_64": Measure(
        "higher_education_3y_share_25_64", "share"
    ),
    "mean_income_aged_lt_20": Measure("mean_income_20plus_tkr", "sek"),
}
SEX_SUFFIXES = {"": "total", "_female": "female", "_male": "male"}

# Stockholm entity codes that are not 2010 polygons (BASKOD2000 codes of the 'Okänd' ids):
# -> the 2010 code, or the union of 2010 codes ('+'), that is the same territory.
PRE2010_CODES: dict[str, str] = {
    # renumbered in 2010, one polygon each (lineage BASKOD2000 -> BASKOD2010)
    "2260120": "2242120",  # Centrala Akalla
    "2260130": "2242130",  # Södra Akalla
    "2260220": "2242220",  # Norra Husby
    "2260230": "2242230",  # Södra Husby
    "2260310": "2242310",  # Kista Centrum
    "2260320": "2242320",  # Övre Kista
    "2260330": "2242330",  # Nedre Kista
    # split in 2010 (lineage: two polygons with this BASKOD2000)
    "1140210": "1140211+1140212",  # Norra Station 1 + 2 (1140211 has no values)
    "2121020": "2121021+2121022",  # Östbergahöjden + Östbergavägen (2121022 has no values)
    "2240520": "2240521+2240522",  # Norra Rinkeby: Kvarnby + Askeby
    "2240530": "2240531+2240532",  # Södra Rinkeby: Knutby + Bredby
    "2240820": "2240821+2240822",  # Norra Tensta
    "2240830": "2240831+2240832",  # Södra Tensta
    # split in 2010, inferred from the population (lineage lists only 2150402)
    "2150400": "2150401+2150402",  # Blåsut + Hammarbyhöjden
}
# 2010 codes whose territory before 2010 included another 2010 polygon (population evidence):
# values for years before 2010 get the union code.
PRE2010_LARGER: dict[str, str] = {
    "1120131": "1120131+1120132",  # Norra Bantorget Ö + V
}

_YEAR = re.compile(r"^\d{4}$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class BasomradeError(ValueError):
    """A DDF file that does not have the expected shape; the message names file and place."""


def polygons(code: str) -> tuple[str, ...]:
    """The 2010 polygon codes (BASKOD2010) a basområde code stands for."""
    return tuple(code.split("+"))


def _files(registry: Registry) -> dict[str, Path]:
    return {p.name: p for p in registry.files(SOURCE)}


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    """All cells as text; raises naming the file if a column is missing or a row is ragged."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                         encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BasomradeError(f"{path.name}: unreadable CSV ({exc})") from None
    except pd.errors.EmptyDataError:
        raise BasomradeError(f"{path.name}: empty file") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BasomradeError(
            f"{path.name}: no column(s) {missing}; found {list(df.columns)} (renamed column?)"
        )
    short = df[columns].isna().any(axis=1)
    if short.any():
        line = int(np.flatnonzero(short.to_numpy())[0]) + 2
        raise BasomradeError(f"{path.name} line {line}: too few fields (truncated row?)")
    return df


def read_concepts(path: Path) -> pd.DataFrame:
    return _read_csv(path, ["concept", "name", "concept_type", "format"]).set_index("concept")


def read_entities(path: Path, municipality: str = MUNICIPALITY) -> pd.DataFrame:
    """Entity id -> name, baskod2010 for one municipality; checks id prefix == baskod2010."""
    df = _read_csv(path, ["basomrade", "name", "municipality", "baskod2010"])
    df = df[df["municipality"] == municipality]
    if df.empty:
        raise BasomradeError(f"{path.name}: no basområde of municipality {municipality!r}")
    bad = ~df["baskod2010"].str.fullmatch(r"\d{7}")
    if bad.any():
        raise BasomradeError(
            f"{path.name}: baskod2010 {df.loc[bad, 'baskod2010'].iloc[0]!r} of "
            f"{df.loc[bad, 'basomrade'].iloc[0]} is not a 7-digit code"
        )
    prefix = df["basomrade"].str.split("_").str[0]
    bad = prefix != df["baskod2010"]
    if bad.any():
        raise BasomradeError(
            f"{path.name}: id {df.loc[bad, 'basomrade'].iloc[0]} does not start with its "
            f"baskod2010 {df.loc[bad, 'baskod2010'].iloc[0]}"
        )
    if df["basomrade"].duplicated().any() or df["baskod2010"].duplicated().any():
        raise BasomradeError(f"{path.name}: repeated basområde id or baskod2010")
    return df.set_index("basomrade")[["name", "baskod2010"]]


def read_datapoints(path: Path, concept: str) -> pd.DataFrame:
    """(basomrade, year, value) of one DDF datapoints file, strictly parsed."""
    df = _read_csv(path, ["basomrade", "year", concept])
    if list(df.columns) != ["basomrade", "year", concept]:
        raise BasomradeError(
            f"{path.name}: columns {list(df.columns)}, expected ['basomrade', 'year', {concept!r}]"
        )
    for col, pattern in (("year", _YEAR), (concept, _NUMBER)):
        text = df[col].str.strip()
        bad = ~text.str.fullmatch(pattern)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            what = "empty value" if not text.iloc[i] else f"{df[col].iloc[i]!r} is not a number"
            if col == "year" and text.iloc[i]:
                what = f"{df[col].iloc[i]!r} is not a year"
            raise BasomradeError(f"{path.name} line {i + 2}, column {col!r}: {what}")
    out = pd.DataFrame({
        "basomrade": df["basomrade"].str.strip(),
        "year": df["year"].astype("int64"),
        "value": df[concept].astype("float64"),
    })
    dup = out.duplicated(["basomrade", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise BasomradeError(f"{path.name} line {i + 2}: repeated basområde and year")
    return out


def read_polygon_codes(path: Path, komkod: int = STOCKHOLM_KOMKOD) -> pd.DataFrame:
    """BASKOD2010, BASKOD2000 and BASN2010 of the 2010 polygons of one municipality.

    Reads the TopoJSON's properties only (no geometry).
    """
    try:
        topo = json.loads(path.read_bytes())
        geoms = [g for obj in topo["objects"].values() for g in obj["geometries"]]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise BasomradeError(
            f"{path.name}: not a TopoJSON with objects/geometries ({exc})"
        ) from None
    rows = []
    for g in geoms:
        p = g.get("properties") or {}
        try:
            if int(p["KOMKOD"]) == komkod:
                name = str(p.get("BASN2010", ""))
                rows.append((str(p["BASKOD2010"]), str(p["BASKOD2000"]), name))
        except (KeyError, TypeError, ValueError) as exc:
            raise BasomradeError(f"{path.name}: polygon properties {p} lack {exc}") from None
    if not rows:
        raise BasomradeError(f"{path.name}: no polygons with KOMKOD {komkod}")
    return pd.DataFrame(rows, columns=["baskod2010", "baskod2000", "name"])


def code_of(baskod: str, year: int) -> str:
    """The observation code of an entity's baskod2010 in a year (see module docstring)."""
    if baskod in PRE2010_CODES:
        if year >= FIRST_2010_YEAR:
            raise BasomradeError(
                f"entity code {baskod} is a pre-2010 code but has a value for {year}"
            )
        return PRE2010_CODES[baskod]
    if year < FIRST_2010_YEAR and baskod in PRE2010_LARGER:
        return PRE2010_LARGER[baskod]
    return baskod


def load(registry: Registry | None = None) -> pd.DataFrame:
    """Observations of the DDF series for Stockholm (see the module docstring)."""
    registry = registry or Registry()
    files = _files(registry)
    for name in (ENTITIES, CONCEPTS_FILE):
        if name not in files:
            raise BasomradeError(f"source {SOURCE} has no file {name}")
    entities = read_entities(files[ENTITIES])
    all_ids = set(_read_csv(files[ENTITIES], ["basomrade"])["basomrade"])
    concepts = read_concepts(files[CONCEPTS_FILE])
    polygon_codes = set(read_polygon_codes(registry.file(BOUNDARIES))["baskod2010"])

    unknown = sorted(set(entities["baskod2010"]) - polygon_codes - set(PRE2010_CODES))
    if unknown:
        raise BasomradeError(
            f"{ENTITIES}: Stockholm baskod2010 {unknown} match no 2010 polygon and are not in "
            "PRE2010_CODES (check the polygons' BASKOD2000 before adding them)"
        )
    parts = []
    for base, measure in MEASURES.items():
        for suffix, sex in SEX_SUFFIXES.items():
            concept = base + suffix
            fname = f"ddf--datapoints--{concept}--by--basomrade--year.csv"
            if fname not in files:
                raise BasomradeError(f"source {SOURCE} has no file {fname}")
            if concept not in concepts.index:
                raise BasomradeError(f"{CONCEPTS_FILE}: no concept {concept!r}")
            if measure.kind == "share" and concepts.loc[concept, "format"] != "share":
                raise BasomradeError(
                    f"{CONCEPTS_FILE}: {concept} has format "
                    f"{concepts.loc[concept, 'format']!r}, expected 'share'"
                )
            df = read_datapoints(files[fname], concept)
            stray = sorted(set(df["basomrade"]) - all_ids)
            if stray:
                raise BasomradeError(f"{fname}: basområde ids not in {ENTITIES}: {stray[:5]}")
            df = df[df["basomrade"].isin(entities.index)]
            if measure.kind == "share":
                bad = ~df["value"].between(0, 1)
                if bad.any():
                    row = df[bad].iloc[0]
                    raise BasomradeError(
                        f"{fname}: share {row['value']} for {row['basomrade']} {row['year']} "
                        "is outside 0-1"
                    )
                df = df.assign(value=(df["value"] * 100).round(6))
            elif measure.kind == "sek":
                df = df.assign(value=(df["value"] / 1000).round(6))
            elif (df["value"] < 0).any():
                raise BasomradeError(f"{fname}: negative count")
            baskod = df["basomrade"].map(entities["baskod2010"])
            codes = [code_of(b, y) for b, y in zip(baskod, df["year"], strict=True)]
            parts.append(pd.DataFrame({
                "source_id": SOURCE, "division": DIVISION, "code": codes,
                "year": df["year"].to_numpy(), "sex": sex, "variable": measure.variable,
                "value": df["value"].to_numpy(), "citation": "",
            }))
    obs = pd.concat(parts, ignore_index=True)
    components = {c for code in obs["code"].unique() for c in polygons(code)}
    stray = sorted(components - polygon_codes)
    if stray:
        raise BasomradeError(f"codes {stray} are not 2010 polygons of Stockholm")
    return validate(obs, SOURCE)


def coverage(
    observations: pd.DataFrame,
    city_population: Mapping[int, float] | pd.Series | None = None,
    reference_year: int | None = None,
) -> pd.DataFrame:
    """Per variable, sex and year: how many basområden have values and how many people they hold.

    Columns: variable, sex, year, n_areas (codes with a value), n_polygons (2010 polygons they
    cover), population_covered (total `population` that year of the codes with a value),
    population_loaded (total `population` of all codes that year) and share_of_loaded (%).
    With `city_population` (year -> official city population): official_population and
    share_of_official (%). With `reference_year`: reference_share (%), the share of the
    reference year's loaded population living in polygons that have a value in the row's year
    (the README's measure; it works across the 2010 recoding because it compares polygons).
    """
    obs = observations[observations["division"] == DIVISION]
    pop = obs[(obs["variable"] == "population") & (obs["sex"] == "total")]
    pop_by_year = {y: g.set_index("code")["value"] for y, g in pop.groupby("year")}
    ref = None
    if reference_year is not None:
        if reference_year not in pop_by_year:
            raise ValueError(f"no population for reference year {reference_year}")
        ref = pop_by_year[reference_year]
    rows = []
    for (variable, sex, year), g in obs.groupby(["variable", "sex", "year"], sort=True):
        codes = set(g["code"])
        p = pop_by_year.get(year, pd.Series(dtype="float64"))
        covered = float(p[p.index.isin(codes)].sum())
        loaded = float(p.sum())
        row = {
            "variable": variable, "sex": sex, "year": int(year),
            "n_areas": len(codes),
            "n_polygons": len({c for code in codes for c in polygons(code)}),
            "population_covered": covered,
            "population_loaded": loaded,
            "share_of_loaded": 100 * covered / loaded if loaded else np.nan,
        }
        if ref is not None:
            have = {c for code in codes for c in polygons(code)}
            inside = [set(polygons(code)) <= have for code in ref.index]
            row["reference_share"] = 100 * float(ref[inside].sum()) / float(ref.sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    if city_population is not None:
        official = pd.Series(city_population, dtype="float64")
        out["official_population"] = out["year"].map(official)
        out["share_of_official"] = 100 * out["population_covered"] / out["official_population"]
    return out


def union_crosswalk(
    crosswalk: pd.DataFrame,
    codes: Iterable[str],
    part_weights: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Crosswalk rows for union codes ('2240521+2240522') from the rows of their polygons.

    `crosswalk` has rows (from_division, from_code, to_division, to_code, ..., weight) with
    from_code a 2010 polygon; for each union code among `codes` the result has one row per
    target with weight = sum_p w_p * weight(p -> target) / sum_p w_p over its parts p, where
    w_p is `part_weights[p]` (e.g. the 2014 population; missing counts 0) or 1 for every part
    when none of them has a weight. `pop_share` is set to the same value, `area_share` to
    NaN (the parts' areas are not in a crosswalk) and `rule` to 'union of 2010 polygons'.
    Codes that are not unions are ignored. Raises if a part has no row in `crosswalk`.

    Note for coverage: a union row and its parts' rows describe the same territory in
    different years; counting reference population over both would count it twice.
    """
    unions = sorted({c for c in codes if "+" in c})
    if not unions:
        return crosswalk.iloc[0:0].copy()
    weights = pd.Series(part_weights if part_weights is not None else {}, dtype="float64")
    rows = []
    for union in unions:
        parts = polygons(union)
        sub = crosswalk[crosswalk["from_code"].isin(parts)]
        missing = sorted(set(parts) - set(sub["from_code"]))
        if missing:
            raise BasomradeError(f"crosswalk has no rows for {missing} (parts of {union})")
        w = weights.reindex(list(parts)).fillna(0.0).clip(lower=0)
        if w.sum() == 0:
            w = pd.Series(1.0, index=list(parts))
        w = w / w.sum()
        combined = (
            sub.assign(weight=sub["weight"] * sub["from_code"].map(w))
            .groupby(["from_division", "to_division", "to_code"], as_index=False)["weight"]
            .sum()
        )
        rows.append(combined.assign(from_code=union))
    out = pd.concat(rows, ignore_index=True)
    out = out.assign(pop_share=out["weight"], area_share=np.nan, rule="union of 2010 polygons")
    return out[[c for c in crosswalk.columns if c in out.columns]]
