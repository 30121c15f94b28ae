"""One crosswalk table from every source unit to every district division.

A row says: this much of unit `from_code` belongs to district `to_code`. Aggregating a count is
`sum(value * weight)` over the rows; the weights of a unit sum to 1 over the city, so a count is
never created or lost on the way, only moved between districts. `crosswalk_report` says how much.

Rules (column `rule`):
- within            the unit lies in one district (slivers under MIN_SHARE of its area ignored)
- largest_overlap   >= NEST_SHARE of its area or population lies in one district: all of it
                    goes there, so the mismatch between two publishers' maps does not smear counts
- population        split: weights are the unit's estimated population shares (dasymetric)
- area              split, and no population to weight by: weights are area shares
- merge             sdo14 -> sdo13 -> sdo11, from geo.names.MERGES
- point_in_polygon  a point source (schools) in the district containing it

build_crosswalks overlays onto districts made of whole stadsdelar by default (geo.territories)
rather than onto the drawn SDO map, whose Järvafältet border would move ~5,000 people.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.registry import Registry
from geo.boundaries import CRS, basomrade_code, load_boundaries, load_water
from geo.dasymetric import habitable, population_in
from geo.names import MERGES, SDO_DIVISIONS
from geo.territories import stadsdel_territories

COLUMNS = (
    "from_division", "from_code", "to_division", "to_code",
    "area_share", "pop_share", "weight", "rule",
)  # fmt: skip
MIN_SHARE = 0.001  # pieces smaller than this share of their unit are digitising slivers
NEST_SHARE = 0.99  # a unit this much inside one district counts as nested in it
LIST_COVERED_BELOW = 0.95  # units less covered than this by the targets are listed as unmatched
AREA_SOURCES = ("regso", "basomrade", "valdistrikt_2010", "valdistrikt_2022", "stadsdel")
# Basområden are the population's finest grain here, so they cannot be weighted by it.
POPULATION_WEIGHTED = ("regso", "valdistrikt_2010", "valdistrikt_2022", "stadsdel")


class UnmatchedUnitsWarning(UserWarning):
    """Source units (or points) lying wholly or mostly outside every target district."""


def _unmatched(from_division, codes, to_division, covered, has_rows) -> list[dict]:
    # Records, not a DataFrame: pandas compares attrs with == when it concatenates frames.
    frame = pd.DataFrame(
        {
            "from_division": from_division,
            "from_code": pd.Series(codes, dtype=str).to_numpy(),
            "to_division": to_division,
            "covered_share": covered,
            "has_rows": has_rows,
        },
        index=pd.RangeIndex(len(codes)),
    )
    return frame.astype({"covered_share": float, "has_rows": bool}).to_dict("records")


def unmatched_units(crosswalk: pd.DataFrame) -> pd.DataFrame:
    """The units a crosswalk found wholly or partly outside the target districts.

    Columns from_division, from_code, to_division, covered_share (share of the unit's area
    inside the targets) and has_rows (False: the unit got no row at all).
    """
    cols = ["from_division", "from_code", "to_division", "covered_share", "has_rows"]
    return pd.DataFrame(crosswalk.attrs.get("unmatched", []), columns=cols)


def _warn_unmatched(crosswalk: pd.DataFrame, what: str) -> None:
    unmatched = unmatched_units(crosswalk)
    dropped = unmatched[~unmatched["has_rows"].astype(bool)]
    if len(dropped):
        warnings.warn(
            f"{len(dropped)} {what} lie outside every {dropped['to_division'].iloc[0]} district "
            f"and get no crosswalk row (e.g. {', '.join(dropped['from_code'].head(5))}); "
            "see unmatched_units()",
            UnmatchedUnitsWarning,
            stacklevel=3,
        )


# --- area and population ----------------------------------------------------------------------


def _finish(cw: pd.DataFrame) -> pd.DataFrame:
    """Pick each unit's weights (population if estimated, else area) and snap nested units.

    A unit counts as nested when NEST_SHARE of its area, or of its estimated population, lies in
    one district. The area test matters for population weights too: a 0.5 % sliver along a
    border drawn by another publisher can overlap a dense basområde and get a large, spurious
    share of the unit's people.
    """
    cw = cw.reset_index(drop=True)
    has_pop = cw["pop_share"].notna()
    cw["weight"] = np.where(has_pop, cw["pop_share"], cw["area_share"])
    cw["rule"] = np.where(has_pop, "population", "area")
    unit = cw.groupby(["from_division", "from_code", "to_division"], sort=False)
    by_area = unit["area_share"].transform("max") >= NEST_SHARE
    nested = (by_area | (unit["weight"].transform("max") >= NEST_SHARE)).to_numpy()
    # A nested unit goes to its largest piece by whichever share nested it.
    key = cw["area_share"].where(by_area, cw["weight"])
    top = key.groupby([cw["from_division"], cw["from_code"], cw["to_division"]]).idxmax()
    is_top = cw.index.isin(top.to_numpy())
    single = (unit["weight"].transform("size") == 1).to_numpy()
    cw.loc[nested, "weight"] = np.where(is_top[nested], 1.0, 0.0)
    cw.loc[nested, "rule"] = np.where(single[nested], "within", "largest_overlap")
    return cw


def overlay_crosswalk(
    source_gdf: gpd.GeoDataFrame,
    target_gdf: gpd.GeoDataFrame,
    from_division: str,
    to_division: str,
    *,
    min_share: float = MIN_SHARE,
) -> gpd.GeoDataFrame:
    """Area crosswalk by intersecting the units in EPSG:3006.

    Rows keep their piece (unit ∩ district) as geometry for `population_weights`; drop it
    before storing. Pieces under `min_share` of their unit are dropped and the rest renormalised
    to 1. Units with less than LIST_COVERED_BELOW of their area inside the targets are listed in
    `unmatched_units(crosswalk)`; a warning names those left without any row.
    """
    src = source_gdf.to_crs(CRS).reset_index(drop=True)
    tgt = target_gdf.to_crs(CRS).reset_index(drop=True)
    codes = src["code"].astype(str)
    if codes.duplicated().any():
        raise ValueError(f"duplicate {from_division} code {codes[codes.duplicated()].iloc[0]!r}")
    si, ti = tgt.sindex.query(src.geometry.values, predicate="intersects")
    pieces = shapely.intersection(src.geometry.values[si], tgt.geometry.values[ti])
    raw_share = shapely.area(pieces) / shapely.area(src.geometry.values)[si]

    cw = gpd.GeoDataFrame(
        {
            "from_division": from_division,
            "from_code": codes.to_numpy()[si],
            "to_division": to_division,
            "to_code": tgt["code"].astype(str).to_numpy()[ti],
            "area_share": raw_share,
            "pop_share": np.nan,
        },
        geometry=pieces,
        crs=CRS,
    )
    covered = cw.groupby("from_code")["area_share"].sum().reindex(codes, fill_value=0.0)
    cw = cw[cw["area_share"] >= min_share].copy()
    cw["area_share"] /= cw.groupby("from_code")["area_share"].transform("sum")
    cw = _finish(cw)[[*COLUMNS, "geometry"]]

    short = covered[covered < LIST_COVERED_BELOW]
    has_rows = short.index.isin(cw["from_code"])
    cw.attrs["unmatched"] = _unmatched(
        from_division, short.index, to_division, short.to_numpy(), has_rows
    )
    _warn_unmatched(cw, f"{from_division} units")
    return cw


def population_weights(
    crosswalk: gpd.GeoDataFrame,
    fine_gdf: gpd.GeoDataFrame,
    fine_population: pd.Series,
    uninhabited: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Re-weight an overlay crosswalk by the population of finer units (dasymetric).

    `fine_population` is indexed by the fine units' codes (basområde: BASKOD2010 as text). A
    unit's pop_share is its estimated population in each piece over its estimated total; units
    with no estimated population keep area weights. `uninhabited` (water) is taken out of every
    fine unit before its people are spread uniformly over the rest.
    """
    if "geometry" not in crosswalk:
        raise ValueError("population_weights needs the piece geometry from overlay_crosswalk")
    known = fine_population.index.astype(str).isin(fine_gdf["code"].astype(str))
    if not known.any():
        raise ValueError("no code of fine_population matches a fine unit; wrong code format?")
    lost = pd.to_numeric(fine_population[~known], errors="coerce")
    if lost.sum() > 0:
        warnings.warn(
            f"{len(lost)} fine units with population have no polygon ({lost.sum():,.0f} "
            f"people, e.g. {', '.join(map(str, lost.index[:5]))}); they are left out",
            UnmatchedUnitsWarning,
            stacklevel=2,
        )
    est = population_in(crosswalk.geometry.values, fine_gdf, fine_population, uninhabited)
    total = pd.Series(est).groupby(crosswalk["from_code"].to_numpy()).transform("sum").to_numpy()
    cw = crosswalk.copy()
    cw["pop_share"] = np.divide(est, total, out=np.full(len(est), np.nan), where=total > 0)
    out = _finish(cw)
    out.attrs = dict(crosswalk.attrs)
    return out


# --- merges and points ------------------------------------------------------------------------


def merge_crosswalk(from_division: str, to_division: str) -> pd.DataFrame:
    """The nesting of one SDO division in a later one, as weight-1 rows."""
    mapping = MERGES[(from_division, to_division)]
    return pd.DataFrame(
        {
            "from_division": from_division,
            "from_code": list(mapping),
            "to_division": to_division,
            "to_code": list(mapping.values()),
            "area_share": 1.0,
            "pop_share": 1.0,
            "weight": 1.0,
            "rule": "merge",
        }
    )[list(COLUMNS)]


def points_crosswalk(
    points_df: pd.DataFrame,
    target_gdf: gpd.GeoDataFrame,
    from_division: str = "school",
    to_division: str | None = None,
) -> pd.DataFrame:
    """Each point [code, lon, lat] (WGS84) to the district containing it.

    A point on a shared border goes to the first district in target order. Points outside
    every district, or without coordinates, get no row and are listed by `unmatched_units`.
    """
    if to_division is None:
        raise TypeError("points_crosswalk needs to_division (the division of target_gdf)")
    pts = points_df[["code", "lon", "lat"]].drop_duplicates().reset_index(drop=True)
    codes = pts["code"].astype(str)
    if codes.duplicated().any():
        raise ValueError(f"point {codes[codes.duplicated()].iloc[0]!r} has two positions")
    lon = pd.to_numeric(pts["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(pts["lat"], errors="coerce").to_numpy(dtype=float)
    located = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    xy = gpd.GeoSeries(gpd.points_from_xy(lon[located], lat[located]), crs="EPSG:4326")
    tgt = target_gdf.to_crs(CRS).reset_index(drop=True)
    pi, ti = tgt.sindex.query(xy.to_crs(CRS).values, predicate="intersects")
    hits = pd.DataFrame({"p": located[pi], "t": ti}).sort_values(["p", "t"])
    hits = hits.drop_duplicates("p")
    cw = pd.DataFrame(
        {
            "from_division": from_division,
            "from_code": codes.to_numpy()[hits["p"]],
            "to_division": to_division,
            "to_code": tgt["code"].astype(str).to_numpy()[hits["t"]],
            "area_share": 1.0,
            "pop_share": np.nan,
            "weight": 1.0,
            "rule": "point_in_polygon",
        }
    )[list(COLUMNS)]
    missed = codes[~codes.index.isin(hits["p"])]
    cw.attrs["unmatched"] = _unmatched(from_division, missed, to_division, 0.0, False)
    _warn_unmatched(cw, f"{from_division} points")
    return cw


# --- report and build -------------------------------------------------------------------------


def _population_of(cw: pd.DataFrame, population: pd.Series) -> np.ndarray:
    """Population of each row's unit; `population` is keyed by code or by (division, code)."""
    pop = population[~population.index.duplicated()]
    if isinstance(pop.index, pd.MultiIndex):
        pop.index = pd.MultiIndex.from_arrays(
            [pop.index.get_level_values(0).astype(str), pop.index.get_level_values(1).astype(str)]
        )
        key = pd.MultiIndex.from_arrays([cw["from_division"], cw["from_code"].astype(str)])
    else:
        pop.index = pop.index.astype(str)
        key = cw["from_code"].astype(str)
    return pd.to_numeric(pop.reindex(key), errors="coerce").to_numpy(dtype=float)


def crosswalk_report(crosswalk: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """Per pair of divisions: how many units are split and how much population that moves.

    `population_moved` is the population that does not go to its unit's largest-overlap
    district, sum(pop * (1 - max weight)): what a largest-overlap rule would misplace.
    `population_in_split_units` counts whole units whose largest weight is below NEST_SHARE.
    Percentages are of the population of units with a known population.
    """
    units = (
        crosswalk.assign(pop=_population_of(crosswalk, population))
        .groupby(["from_division", "to_division", "from_code"], sort=False)
        .agg(max_weight=("weight", "max"), pop=("pop", "first"))
        .reset_index()
    )
    units["split"] = units["max_weight"] < NEST_SHARE
    units["pop_split"] = units["pop"].where(units["split"], 0.0)
    units["moved"] = units["pop"] * (1 - units["max_weight"])
    report = (
        units.groupby(["from_division", "to_division"], sort=False)
        .agg(
            units=("from_code", "size"),
            units_split=("split", "sum"),
            units_without_population=("pop", lambda s: int(s.isna().sum())),
            population=("pop", "sum"),
            population_in_split_units=("pop_split", "sum"),
            population_moved=("moved", "sum"),
        )
        .reset_index()
    )
    total = report["population"].where(report["population"] > 0)
    report["pct_units_split"] = 100 * report["units_split"] / report["units"]
    report["pct_population_in_split_units"] = 100 * report["population_in_split_units"] / total
    report["pct_population_moved"] = 100 * report["population_moved"] / total
    unmatched = unmatched_units(crosswalk)
    dropped = unmatched[~unmatched["has_rows"].astype(bool)]
    lost = dropped.groupby(["from_division", "to_division"]).size()
    pairs = zip(report["from_division"], report["to_division"], strict=True)
    report["units_unmatched"] = [int(lost.get(pair, 0)) for pair in pairs]
    return report


def build_crosswalks(
    registry: Registry,
    basomrade_population: pd.Series | None = None,
    territory: str = "stadsdelar",
) -> pd.DataFrame:
    """Every source division to every SDO division, plus the SDO merges, as one table.

    With `basomrade_population` (indexed by basområde code; BASKOD2010 or DDF ids such as
    '2242120_centrala_akalla'), the POPULATION_WEIGHTED sources are weighted by it with water
    masked out; without it every weight is an area share. `territory` is what the units are
    overlaid on: "stadsdelar" (each district as its whole stadsdelar, see geo.territories: 123
    of 127 RegSO nest in them, and Husby and Akalla stay in Rinkeby-Kista) or "map" (the 2020
    SDO polygons, which cut 22 RegSO). `unmatched_units(result)` lists the units that lie
    partly or wholly outside the city's districts.
    """
    if territory not in ("map", "stadsdelar"):
        raise ValueError(f"territory must be 'map' or 'stadsdelar', not {territory!r}")
    cache: dict = {}

    def target_of(division: str) -> gpd.GeoDataFrame:
        if territory == "map":
            return load_boundaries(registry, division, cache)
        return stadsdel_territories(registry, division, cache)

    fine_pop = None
    if basomrade_population is not None:
        fine_pop = basomrade_population.copy()
        fine_pop.index = [basomrade_code(c) for c in fine_pop.index]
        fine_pop = fine_pop.groupby(level=0).sum(min_count=1)
        # Masked once here rather than in each of the twelve population_weights calls.
        fine = habitable(load_boundaries(registry, "basomrade", cache), load_water(registry, cache))

    parts, unmatched = [], []
    for source in AREA_SOURCES:
        src = load_boundaries(registry, source, cache)
        for target in SDO_DIVISIONS:
            tgt = target_of(target)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnmatchedUnitsWarning)  # collected below
                cw = overlay_crosswalk(src, tgt, source, target)
                if fine_pop is not None and source in POPULATION_WEIGHTED:
                    cw = population_weights(cw, fine, fine_pop)
            unmatched += cw.attrs["unmatched"]
            parts.append(pd.DataFrame(cw.drop(columns="geometry")))
    parts += [merge_crosswalk(*pair) for pair in MERGES]

    out = pd.concat(parts, ignore_index=True)[list(COLUMNS)]
    out.attrs["unmatched"] = unmatched
    _warn_unmatched(out, "source units")
    return out
