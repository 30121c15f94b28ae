"""`skillnader build`: sources -> observations -> crosswalks -> district indicators -> parquet.

run() is the whole pipeline in three steps (load, process, save). The output directory is
replaced atomically: a failed build leaves the previous good build in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from data.registry import PROJECT_ROOT, Registry
from geo import boundaries, crosswalk, simplify
from geo.names import DISTRICT_NAMES, SDO_DIVISIONS
from indicators import observations
from indicators.aggregate import MIN_COVERAGE, aggregate, needed_variables
from indicators.catalog import CATALOG_DIR, Indicator, load_catalog
from indicators.inequality import inequality_table, verdict_table
from indicators.loaders import LOADERS, get_loader

log = logging.getLogger(__name__)

BUILD_DIR = PROJECT_ROOT / "data" / "build"
FINE_DIVISIONS = ("regso", "basomrade")  # mapped on their own as finer units
# A year counts for maps and inequality when this share of a division's districts has a value.
MAP_MIN_SHARE = 2 / 3
# stadsdelar have no values of their own in the sources, but analysts upload data on them
MAP_DIVISIONS = (*SDO_DIVISIONS, *FINE_DIVISIONS, "stadsdel")
# Web simplification tolerance per division, metres (geo/simplify.py keeps shared edges).
TOLERANCE_M = {"sdo11": 60, "sdo13": 60, "sdo14": 60, "regso": 25, "basomrade": 20,
               "stadsdel": 25}
# A published value merged to a later division borrows the population of the nearest year
# within this many years when its own year has none.
MERGE_WEIGHT_YEARS = 3
INDICATOR_COLUMNS = [
    "indicator_id", "division", "district_code", "district_name", "year", "sex", "value",
    "numerator", "denominator", "coverage", "mappable", "source_division", "source_ids",
]


# --- load -----------------------------------------------------------------------------------


def load_observations(registry: Registry) -> pd.DataFrame:
    frames = []
    for name in LOADERS:
        t0 = time.perf_counter()
        frames.append(get_loader(name)(registry))
        log.info("loaded %s: %d rows in %.1f s", name, len(frames[-1]), time.perf_counter() - t0)
    obs = pd.concat(frames, ignore_index=True)
    return observations.validate(pd.concat([obs, _derived(obs)], ignore_index=True))


def _derived(obs: pd.DataFrame) -> pd.DataFrame:
    """Variables computed from others on the same unit."""
    return pd.concat([_area_type_population(obs), _school_weights(obs)], ignore_index=True)


def _school_weights(obs: pd.DataFrame) -> pd.DataFrame:
    """One pupil weight per school for every year it has results, so that all years are
    weighted alike: pupils with final grades 2024/25, else year-9 pupils enrolled 2019/20."""
    school = obs[obs["division"] == "school"]
    counts = school[school["variable"] == "pupils_grade9"].groupby("code")["value"].last()
    enrolled = school[school["variable"] == "pupils_grade9_enrolled"]
    enrolled = enrolled.groupby("code")["value"].last()
    weight = counts.combine_first(enrolled)
    results = school[school["variable"].isin(
        ["merit_value", "passed_all_subjects_share", "eligible_upper_secondary_share"]
    )][["source_id", "code", "year", "sex"]].drop_duplicates(["code", "year", "sex"])
    results = results[results["code"].isin(weight.index)]
    return results.assign(
        division="school", variable="school_weight", value=results["code"].map(weight).to_numpy(),
        citation="",
    )[list(observations.COLUMNS)]


def _area_type_population(obs: pd.DataFrame) -> pd.DataFrame:
    """Population of RegSO of socio-economic area type 1-2 (0 elsewhere), same year."""
    types = obs[(obs["division"] == "regso") & (obs["variable"] == "area_type")]
    pop = obs[
        (obs["division"] == "regso")
        & (obs["variable"] == "population")
        & (obs["source_id"] == "scb_regso_population_birth_region")
    ]
    m = pop.merge(types[["code", "year", "value"]], on=["code", "year"], suffixes=("", "_type"))
    m = m.assign(
        value=np.where(m["value_type"].isin([1, 2]), m["value"], 0.0),
        variable="population_area_type_1_2",
        source_id="scb_regso_socioeconomic_area_type",
    )
    return m[list(observations.COLUMNS)]


# --- process --------------------------------------------------------------------------------


def _identity(codes: pd.Series, division: str) -> pd.DataFrame:
    u = pd.Series(codes.unique())
    return pd.DataFrame(
        {"from_division": division, "from_code": u, "to_division": division, "to_code": u,
         "weight": 1.0}
    )


def _to_city(codes: pd.Series, division: str) -> pd.DataFrame:
    u = pd.Series(codes.unique())
    return pd.DataFrame(
        {"from_division": division, "from_code": u, "to_division": "city",
         "to_code": "stockholm", "weight": 1.0}
    )


def _crosswalk_for(cw: pd.DataFrame, obs_div: pd.DataFrame, src: str, dst: str) -> pd.DataFrame:
    if dst == "city":
        return _to_city(obs_div["code"], src)
    if src == dst:
        return _identity(obs_div["code"], src)
    return cw[(cw["from_division"] == src) & (cw["to_division"] == dst)]


def _targets(src: str) -> tuple[str, ...]:
    if src in SDO_DIVISIONS:  # published per district: only merges forward in time
        return (*SDO_DIVISIONS[SDO_DIVISIONS.index(src):], "city")
    if src in ("city", "sdo18", "stadsdel"):
        return (src,)
    own = (src,) if src in FINE_DIVISIONS else ()
    return (*SDO_DIVISIONS, *own, "city")


def _reference(obs_div: pd.DataFrame, ind: Indicator) -> pd.Series | None:
    """Coverage reference: each unit's total population in the division's latest year, else
    its aggregation weight (pupils of a school), else None (units count equally)."""
    pop = obs_div[(obs_div["variable"] == "population") & (obs_div["sex"] == "total")]
    if pop.empty and ind.aggregation.weight:
        pop = obs_div[obs_div["variable"] == ind.aggregation.weight]
        return pop.groupby("code")["value"].max() if len(pop) else None
    if pop.empty:
        return None
    latest = pop[pop["year"] == pop["year"].max()]
    return latest.groupby("code")["value"].sum()


def _nearest_year_weights(pop: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """(code, year, sex, weight) for the requested years, borrowing the nearest year's value."""
    out = []
    have = sorted(pop["year"].unique())
    for y in years:
        if not have:
            break
        near = min(have, key=lambda h: (abs(h - y), -h))
        if abs(near - y) <= MERGE_WEIGHT_YEARS:
            out.append(pop[pop["year"] == near].assign(year=y))
    if not out:
        return pd.DataFrame(columns=["code", "year", "sex", "weight"])
    return pd.concat(out)[["code", "year", "sex", "value"]].rename(columns={"value": "weight"})


def build_indicator(
    ind: Indicator, obs: pd.DataFrame, cw: pd.DataFrame, built: pd.DataFrame
) -> pd.DataFrame:
    rows = obs[obs["source_id"].isin(ind.sources) & obs["variable"].isin(needed_variables(ind))]
    # a weight may come from another source of the same units (population for wage income)
    if ind.aggregation.weight:
        extra = obs[obs["variable"] == ind.aggregation.weight]
        rows = pd.concat([rows, extra]).drop_duplicates(
            ["division", "code", "year", "sex", "variable"]
        )
    out = []
    for src, obs_div in rows.groupby("division"):
        merge_w = None
        if ind.aggregation.kind == "published" and ind.aggregation.merge_weight and len(built):
            pop = built[
                (built["indicator_id"] == ind.aggregation.merge_weight)
                & (built["division"] == src)
            ].rename(columns={"district_code": "code"})
            merge_w = _nearest_year_weights(pop, sorted(obs_div["year"].unique()))
        published = ind.aggregation.kind == "published"
        for dst in _targets(src):
            mergeable = merge_w is not None or ind.aggregation.additive
            if published and dst not in (src, "city") and not mergeable:
                continue  # without weights a merged share would be a guess
            if published and dst == "city" and src != "city":
                continue  # city values of published series come from the city rows
            xw = _crosswalk_for(cw, obs_div, src, dst)
            if xw.empty:
                continue
            res = aggregate(ind, obs_div, xw, dst, _reference(obs_div, ind), merge_w)
            if res.empty:
                continue
            out.append(res.assign(division=dst, source_division=src))
    if not out:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    res = pd.concat(out, ignore_index=True).rename(columns={"to_code": "district_code"})
    # one source division per (division, year): the source's own city total first (it holds
    # votes no district has), then the finer, later-published source
    own_city = (res["division"] == "city") & (res["source_division"] == "city")
    res = res.assign(_rank=res["source_division"].map(_source_rank).where(~own_city, -1))
    res = res.sort_values("_rank", kind="stable").drop(columns="_rank")
    res = res.drop_duplicates(["division", "district_code", "year", "sex"], keep="first")
    res["indicator_id"] = ind.id
    res["source_ids"] = ",".join(ind.sources)
    res["mappable"] = ind.mappable & (res["coverage"] >= MIN_COVERAGE)
    return res


def _source_rank(division: str) -> int:
    order = ["regso", "basomrade", "valdistrikt_2022", "valdistrikt_2010", "school",
             "sdo11", "sdo13", "sdo14", "stadsdel", "sdo18", "city"]
    return order.index(division) if division in order else len(order)


def district_names(codes: pd.Series, division: pd.Series, names: dict) -> pd.Series:
    def one(code: str, div: str) -> str:
        if div in SDO_DIVISIONS:
            return DISTRICT_NAMES.get(code, code)
        if div == "city":
            return "Stockholm"
        return names.get((div, code), code)

    return pd.Series([one(c, d) for c, d in zip(codes, division, strict=True)], index=codes.index)


def inequality_input(
    built: pd.DataFrame, catalog: dict[str, Indicator], unit_counts: dict[str, int]
) -> pd.DataFrame:
    """District values with their inequality weights (own denominator, else population).

    Only years where most of a division's districts have a mappable value take part: a gap
    measured over three districts of eleven is not the city's gap.
    """
    districts = built[built["division"].isin(MAP_DIVISIONS) & built["mappable"]].copy()
    n = districts.groupby(["indicator_id", "division", "year", "sex"])["district_code"]
    enough = n.transform("nunique") >= MAP_MIN_SHARE * districts["division"].map(unit_counts)
    districts = districts[enough]
    pop = built[(built["indicator_id"] == "population") & (built["sex"] == "total")]
    pieces = []
    for (ind_id, div), g in districts.groupby(["indicator_id", "division"]):
        if catalog[ind_id].aggregation.kind == "ratio":
            g = g.assign(weight=g["denominator"])
        else:
            p = pop[pop["division"] == div].rename(columns={"district_code": "code"})
            w = _nearest_year_weights(p, sorted(g["year"].unique()))
            w = w.rename(columns={"code": "district_code"}).drop(columns="sex")
            g = g.merge(w, on=["district_code", "year"], how="left")
        pieces.append(g)
    if not pieces:
        return pd.DataFrame()
    return pd.concat(pieces, ignore_index=True)


def process(registry: Registry, obs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    catalog = load_catalog(CATALOG_DIR)
    t0 = time.perf_counter()
    pop14 = obs[
        (obs["division"] == "basomrade") & (obs["variable"] == "population")
        & (obs["sex"] == "total") & (obs["year"] == 2014)
    ].set_index("code")["value"]
    cw = crosswalk.build_crosswalks(registry, basomrade_population=pop14)
    unmatched = crosswalk.unmatched_units(cw)
    # basområden of the 2000 edition that split in 2010 carry codes 'a+b' (loaders/basomrade)
    from indicators.loaders.basomrade import union_crosswalk

    basomrade_codes = obs.loc[obs["division"] == "basomrade", "code"].unique()
    unions = [
        union_crosswalk(cw[(cw["from_division"] == "basomrade") & (cw["to_division"] == d)],
                        basomrade_codes, pop14)
        for d in SDO_DIVISIONS
    ]
    cw = cw.drop(columns=["geometry"], errors="ignore")
    school_points = get_loader_attr("schools", "load_school_points")(registry)
    bounds = {d: boundaries.load_boundaries(registry, d) for d in SDO_DIVISIONS}
    points = [crosswalk.points_crosswalk(school_points, bounds[d], "school", d)
              for d in SDO_DIVISIONS]
    unmatched = pd.concat([unmatched, *(crosswalk.unmatched_units(p) for p in points)])
    cw = pd.concat([cw, *unions, *points], ignore_index=True)
    cw = cw.drop(columns=["geometry"], errors="ignore")
    log.info("crosswalks in %.1f s", time.perf_counter() - t0)

    built = pd.DataFrame(columns=INDICATOR_COLUMNS)
    published_last = sorted(catalog.values(), key=lambda i: i.aggregation.kind == "published")
    parts = []
    for ind in published_last:
        res = build_indicator(ind, obs, cw, built)
        parts.append(res)
        if ind.id == "population":
            built = res
    indicators = pd.concat([p for p in parts if len(p)], ignore_index=True)
    names = {}
    for d in (*FINE_DIVISIONS, "stadsdel"):
        b = boundaries.load_boundaries(registry, d)
        names.update({(d, c): n for c, n in zip(b["code"], b["name"], strict=True)})
    indicators["district_name"] = district_names(
        indicators["district_code"], indicators["division"], names
    )
    indicators = indicators[INDICATOR_COLUMNS].sort_values(
        ["indicator_id", "division", "year", "sex", "district_code"], ignore_index=True
    )
    unit_counts = {d: len(boundaries.load_boundaries(registry, d)) for d in MAP_DIVISIONS}
    ineq = inequality_table(inequality_input(indicators, catalog, unit_counts))
    return {
        "indicators": indicators,
        "inequality": ineq,
        "verdicts": verdict_table(ineq),
        "crosswalk": cw,
        "crosswalk_report": crosswalk.crosswalk_report(cw, _report_population(obs)),
        "unmatched_units": unmatched.reset_index(drop=True),
        "reconciliation": reconcile_population(indicators, obs),
        "observations": obs,
    }


def _report_population(obs: pd.DataFrame) -> pd.Series:
    """Who a crosswalk rule moves, per source unit: residents (latest year) for areas,
    eligible voters (that edition's own election) for election districts, pupils for schools."""
    picks = [
        ("basomrade", "population", 2014),
        ("regso", "population", 2023),
        ("valdistrikt_2010", "eligible_riksdag", 2010),
        ("valdistrikt_2022", "eligible_riksdag", 2022),
        ("school", "school_weight", 2025),
    ]
    parts = []
    for division, variable, year in picks:
        sel = obs[(obs["division"] == division) & (obs["variable"] == variable)
                  & (obs["year"] == year) & (obs["sex"] == "total")]
        s = sel.groupby("code")["value"].sum()
        s.index = pd.MultiIndex.from_product([[division], s.index])
        parts.append(s)
    return pd.concat(parts)


def reconcile_population(indicators: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The city's population summed from source units against the official city total."""
    built = indicators[
        (indicators["indicator_id"] == "population") & (indicators["division"] == "city")
        & (indicators["sex"] == "total")
    ][["year", "value", "source_division"]].rename(columns={"value": "built"})
    official = obs[
        (obs["division"] == "city") & (obs["variable"] == "population_31dec")
        & (obs["sex"] == "total")
    ][["year", "value", "citation"]].rename(columns={"value": "official"})
    out = built.merge(official, on="year", how="outer").sort_values("year")
    out["difference"] = out["built"] - out["official"]
    out["difference_pct"] = 100 * out["difference"] / out["official"]
    return out.reset_index(drop=True)


def get_loader_attr(name: str, attr: str):
    from importlib import import_module

    module = LOADERS[name].split(":")[0]
    return getattr(import_module(module), attr)


# --- save -----------------------------------------------------------------------------------


def write_geometries(registry: Registry, out_dir: Path) -> dict[str, int]:
    sizes = {}
    (out_dir / "geo").mkdir(parents=True, exist_ok=True)
    for div in MAP_DIVISIONS:
        web = simplify.web_geometries(boundaries.load_boundaries(registry, div), TOLERANCE_M[div])
        path = out_dir / "geo" / f"{div}.geojson"
        simplify.write_geojson(web, path)
        sizes[div] = path.stat().st_size
    return sizes


PINNED_TABLES = ("indicators", "inequality", "verdicts")
MAX_VERSIONS = 20  # pinned versions kept beside the build


def versions_dir(build_dir: Path) -> Path:
    """Where pinned copies of past builds live: data/versions/<data_version>/ beside data/build."""
    return Path(build_dir).parent / "versions"


def pin_version(build_dir: Path, keep: int = MAX_VERSIONS) -> Path | None:
    """Copy the build's indicators/inequality/verdicts tables (and build_info.json) to
    versions/<data_version>/, so links that pin the version keep showing its numbers; keep the
    `keep` most recent versions. Never fails a build: problems are logged."""
    build_dir = Path(build_dir)
    try:
        info = json.loads((build_dir / "build_info.json").read_text(encoding="utf-8"))
        version = str(info["data_version"])
        root = versions_dir(build_dir)
        dest = root / version
        if not dest.is_dir():
            tmp = root / f".{version}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name in PINNED_TABLES:
                shutil.copy2(build_dir / f"{name}.parquet", tmp / f"{name}.parquet")
            shutil.copy2(build_dir / "build_info.json", tmp / "build_info.json")
            tmp.rename(dest)
        (dest / "build_info.json").touch()  # the newest build is the most recent to keep
        kept = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: (p / "build_info.json").stat().st_mtime
                      if (p / "build_info.json").exists() else 0.0, reverse=True)
        for old in kept[keep:]:
            shutil.rmtree(old, ignore_errors=True)
        return dest
    except (OSError, KeyError, ValueError) as exc:
        logging.getLogger(__name__).warning("could not pin the data version: %r", exc)
        return None


def _content_hash(path: Path) -> str:
    frame = pd.read_parquet(path)
    digest = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return hashlib.sha256(digest).hexdigest()[:12]


def run(registry: Registry | None = None, out_dir: Path = BUILD_DIR) -> dict:
    """Build everything into `out_dir`, replacing it only when the whole build succeeded."""
    registry = registry or Registry()
    t0 = time.perf_counter()
    obs = load_observations(registry)
    with warnings.catch_warnings():
        # unmatched units are reported in unmatched_units.parquet and the build summary
        warnings.simplefilter("ignore", crosswalk.UnmatchedUnitsWarning)
        tables = process(registry, obs)
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, df in tables.items():
        df.to_parquet(tmp / f"{name}.parquet", index=False)
    sizes = write_geometries(registry, tmp)
    info = {
        # the numbers themselves identify a build: a pinned chart asks for this version
        "data_version": _content_hash(tmp / "indicators.parquet"),
        "source_fingerprint": registry.fingerprint,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": {k: len(v) for k, v in tables.items()},
        "geometry_bytes": sizes,
        "raw_dir": str(registry.raw_dir),
    }
    (tmp / "build_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    # build.old stays: the previous good build, served if this one is later found damaged
    # (indicators.store.load_with_fallback)
    pin_version(out_dir)
    return info
