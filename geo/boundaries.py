"""Boundaries of every division as one clean polygon coverage in EPSG:3006.

`load_boundaries(registry, division)` returns a GeoDataFrame [code, name, geometry] in
SWEREF99 TM (metres), so areas and overlays are comparable across sources. Each division is
cleaned into a *coverage* (no overlaps, no slivers between neighbours, shared edges identical):
the published files carry digitising noise (sdn_2020 has ~900 m² of overlaps and 141 hairline
gaps) that would otherwise leak into dissolves, crosswalks and the simplified web shapes.

Only sdo13 exists as a file. sdo14 splits Hägersten-Älvsjö with the stadsdelar that formed
Hägersten-Liljeholmen; sdo11 dissolves sdo13 along geo.names.MERGES.
"""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from data.registry import Registry
from geo.names import (
    DISTRICT_NAMES,
    DIVISION_CODES,
    HAGERSTEN_LILJEHOLMEN_STADSDELAR,
    MERGES,
    resolve_district,
)
from geo.topojson import iter_features

CRS = "EPSG:3006"
SDO_SOURCE = "stockholm_sdo_2020_boundaries"
STADSDEL_SOURCE = "stockholm_stadsdelar_boundaries"
# The basområde TopoJSON declares no CRS and looks like WGS84, but its lon/lat are on the RT90
# (Bessel) datum: read as WGS84 the city sits ~200 m south-west of every other source, read as
# EPSG:4124 it lands on the sdo13 outline (symmetric difference 15.1 km² -> 2.1 km²).
BASOMRADE_CRS = "EPSG:4124"
STOCKHOLM_KOMKOD = 80
# Hairline gaps between neighbours narrower than this are digitising noise, not territory.
GAP_WIDTH_M = 5.0
# The water polygon has 167k vertices; at 5 m it keeps its shape for population masking
# (area changes by ~0.06 km² of 28) and a difference with it takes milliseconds, not seconds.
WATER_SIMPLIFY_M = 5.0


class BoundaryError(RuntimeError):
    """A boundary file does not hold what this module expects of it."""


# --- cleaning ---------------------------------------------------------------------------------


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """make_valid, keeping only the polygonal part (collapsed rings become nothing)."""
    geoms = shapely.force_2d(geoms)
    geoms = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    return np.array([_only_polygons(g) for g in geoms], dtype=object)


def _only_polygons(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in (3, 6):  # Polygon, MultiPolygon
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def clean_coverage(gdf: gpd.GeoDataFrame, gap_width: float = GAP_WIDTH_M) -> gpd.GeoDataFrame:
    """Valid polygons, projected to EPSG:3006 and cleaned into an edge-matched coverage."""
    out = gdf.to_crs(CRS) if gdf.crs is not None and gdf.crs != CRS else gdf.copy()
    geoms = _polygonal(out.geometry.values)
    if hasattr(shapely, "coverage_clean"):  # shapely >= 2.2 (GEOS >= 3.14)
        geoms = shapely.coverage_clean(geoms, gap_width=gap_width)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=CRS))
    return out.set_crs(CRS, allow_override=True)


def _frame(codes, names, geoms, crs) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"code": pd.Series(codes, dtype=str).to_numpy(), "name": list(names)},
        geometry=list(geoms),
        crs=crs,
    )
    if gdf["code"].duplicated().any():
        dup = gdf.loc[gdf["code"].duplicated(), "code"].iloc[0]
        raise BoundaryError(f"duplicate code {dup!r} in boundaries")
    return clean_coverage(gdf)


def _read(path, **kwargs) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        # sdn_2020 is 'Measured 3D Polygon'; Z and M are dropped anyway.
        warnings.filterwarnings("ignore", "Measured \\(M\\) geometry", UserWarning)
        return pyogrio.read_dataframe(path, **kwargs)


# --- names ------------------------------------------------------------------------------------

# Generic words stay lower case in Swedish place names ("Hässelby gård", "Gamla stan"); a proper
# name after a qualifier keeps its capital ("Norra Djurgården", "Stora Essingen").
_GENERIC_WORDS = {"gård", "strand", "villastad", "kyrka", "slott", "stan", "industriområde"}
_ABBREVIATIONS = {"industriomr": "industriområde"}


def stadsdel_name(raw: str) -> str:
    """Canonical name of a stadsdel from the upper-case file spelling ('VÅRBERG' -> 'Vårberg')."""
    words = [_ABBREVIATIONS.get(w, w) for w in str(raw).strip().lower().split()]
    out = []
    for i, word in enumerate(words):
        if i > 0 and word in _GENERIC_WORDS:
            out.append(word)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def slug(name: str) -> str:
    """Stable ascii code for a name: 'Skarpnäcks gård' -> 'skarpnacks_gard'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def basomrade_code(value) -> str:
    """BASKOD2010 as text, from 2242120, '2242120' or a DDF id like '2242120_centrala_akalla'."""
    text = str(value).strip()
    match = re.match(r"^(\d+)(?:\.0)?(?:_.*)?$", text)
    if not match:
        hint = " (a union of 2010 codes: use a year from 2010 on)" if "+" in text else ""
        raise BoundaryError(f"not a basområde code: {value!r}{hint}")
    return match.group(1)


# --- divisions --------------------------------------------------------------------------------


def _sdo13(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    raw = _read(registry.file(SDO_SOURCE, "sdn_2020.shp"))
    codes = [resolve_district(n, "sdo13").code for n in raw["Sdn_omarde"]]
    gdf = _frame(codes, [DISTRICT_NAMES[c] for c in codes], raw.geometry.values, raw.crs)
    return _in_division_order(gdf, "sdo13")


def _stadsdel(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    # The dbf is Latin-1 without a .cpg; GDAL would otherwise guess UTF-8 and garble å/ä/ö.
    raw = _read(registry.file(STADSDEL_SOURCE, "stadsdelar.shp"), encoding="latin1")
    names = [stadsdel_name(n) for n in raw["name"]]
    gdf = _frame([slug(n) for n in names], names, raw.geometry.values, raw.crs)
    return gdf.sort_values("code", ignore_index=True)


def split_hagersten_alvsjo(
    hagersten_alvsjo: shapely.Geometry,
    liljeholmen_parts: shapely.Geometry,
    alvsjo_parts: shapely.Geometry,
    cell: float = 100.0,
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """(hagersten_liljeholmen, alvsjo): an exact partition of the sdo13 polygon.

    The stadsdelar were digitised separately from the SDO outline, so clipped to it they leave
    strips along the edge (and a few corners the stadsdelar file gives to a neighbouring SDO).
    The leftover is cut into `cell`-sized bits and each bit joins the part it shares the longer
    border with (or the nearer one), so a strip running past both parts is shared out along its
    length. Hägersten-Liljeholmen is the SDO minus Älvsjö: no overlap, no gap, by construction.
    """
    hl_core = shapely.intersection(hagersten_alvsjo, liljeholmen_parts)
    alvsjo_core = shapely.intersection(hagersten_alvsjo, alvsjo_parts)
    rest = shapely.difference(hagersten_alvsjo, shapely.union(hl_core, alvsjo_core))
    bits = _cut(rest, cell)
    touch = cell / 100
    edges = shapely.boundary(bits)
    near_alvsjo = shapely.length(shapely.intersection(edges, shapely.buffer(alvsjo_core, touch)))
    near_hl = shapely.length(shapely.intersection(edges, shapely.buffer(hl_core, touch)))
    closer = shapely.distance(bits, alvsjo_core) < shapely.distance(bits, hl_core)
    to_alvsjo = (near_alvsjo > near_hl) | ((near_alvsjo == near_hl) & closer)
    alvsjo = shapely.union_all([alvsjo_core, *bits[to_alvsjo]])
    alvsjo = shapely.intersection(hagersten_alvsjo, alvsjo)
    return shapely.difference(hagersten_alvsjo, alvsjo), alvsjo


def _cut(geom: shapely.Geometry, cell: float) -> np.ndarray:
    """The polygonal parts of `geom` cut along a square grid of `cell` size."""
    if geom.is_empty:
        return np.array([], dtype=object)
    xmin, ymin, xmax, ymax = geom.bounds
    xs, ys = np.meshgrid(np.arange(xmin, xmax, cell), np.arange(ymin, ymax, cell))
    grid = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + cell, ys.ravel() + cell)
    grid = grid[shapely.intersects(grid, geom)]
    bits = shapely.get_parts(shapely.intersection(grid, geom))
    return bits[(shapely.get_type_id(bits) == 3) & (shapely.area(bits) > 0)]


def _sdo14(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    sdo13 = load_boundaries(registry, "sdo13", cache)
    stadsdelar = load_boundaries(registry, "stadsdel", cache)
    missing = set(HAGERSTEN_LILJEHOLMEN_STADSDELAR) - set(stadsdelar["name"])
    if missing:
        raise BoundaryError(f"stadsdelar not found in {STADSDEL_SOURCE}: {sorted(missing)}")
    ha = sdo13.set_index("code").geometry["hagersten_alvsjo"]
    is_hl = stadsdelar["name"].isin(HAGERSTEN_LILJEHOLMEN_STADSDELAR)
    # Älvsjö's stadsdelar: the others that lie mostly inside Hägersten-Älvsjö.
    inside = stadsdelar.intersection(ha).area > 0.5 * stadsdelar.area
    hl, alvsjo = split_hagersten_alvsjo(
        ha,
        stadsdelar.geometry[is_hl].union_all(),
        stadsdelar.geometry[inside & ~is_hl].union_all(),
    )
    keep = sdo13[sdo13["code"] != "hagersten_alvsjo"]
    codes = [*keep["code"], "hagersten_liljeholmen", "alvsjo"]
    geoms = [*keep.geometry, hl, alvsjo]
    gdf = gpd.GeoDataFrame(
        {"code": codes, "name": [DISTRICT_NAMES[c] for c in codes]}, geometry=geoms, crs=CRS
    )
    # The split adds vertices where the stadsdelar cross the SDO outline; re-noding gives the
    # neighbours the same vertices, so sdo14 is an edge-matched coverage like the rest.
    return _in_division_order(clean_coverage(gdf), "sdo14")


def dissolve(gdf: gpd.GeoDataFrame, mapping: dict[str, str]) -> gpd.GeoDataFrame:
    """Union the units of a coverage per mapping[code] (the units must all be mapped)."""
    unmapped = set(gdf["code"]) - set(mapping)
    if unmapped:
        raise BoundaryError(f"codes without a merge target: {sorted(unmapped)}")
    target = gdf["code"].map(mapping)
    geoms = {
        code: shapely.coverage_union_all(gdf.geometry[target == code].values)
        for code in dict.fromkeys(target)
    }
    return gpd.GeoDataFrame(
        {"code": list(geoms), "name": [DISTRICT_NAMES.get(c, c) for c in geoms]},
        geometry=list(geoms.values()),
        crs=gdf.crs,
    )


def _sdo11(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    sdo13 = load_boundaries(registry, "sdo13", cache)
    return _in_division_order(dissolve(sdo13, MERGES[("sdo13", "sdo11")]), "sdo11")


def _regso(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    raw = _read(registry.file("scb_regso_2025_boundaries"))
    gdf = _frame(raw["regsokod"], raw["regsonamn"], raw.geometry.values, raw.crs)
    return gdf.sort_values("code", ignore_index=True)


def _basomrade(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
    with registry.file("basomrade_2010_boundaries").open(encoding="utf-8") as fh:
        topology = json.load(fh)
    rows = [
        (basomrade_code(p["BASKOD2010"]), str(p["BASN2010"]).strip(), geom)
        for p, geom in iter_features(topology)
        if p.get("KOMKOD") == STOCKHOLM_KOMKOD and geom is not None
    ]
    codes, names, geoms = zip(*rows, strict=True)
    gdf = _frame(codes, names, geoms, BASOMRADE_CRS)
    return gdf.sort_values("code", ignore_index=True)


def _valdistrikt(source: str, code_col: str, name_col: str) -> Callable:
    def load(registry: Registry, cache: dict) -> gpd.GeoDataFrame:
        raw = _read(registry.file(source))
        raw = raw[raw[code_col].astype(str).str.startswith("0180")]  # Stockholms kommun
        gdf = _frame(raw[code_col], raw[name_col], raw.geometry.values, raw.crs)
        return gdf.sort_values("code", ignore_index=True)

    return load


def _in_division_order(gdf: gpd.GeoDataFrame, division: str) -> gpd.GeoDataFrame:
    order = DIVISION_CODES[division]
    if sorted(gdf["code"]) != sorted(order):
        raise BoundaryError(f"{division} boundaries have codes {sorted(gdf['code'])}")
    return gdf.set_index("code").loc[list(order)].reset_index()[["code", "name", "geometry"]]


_LOADERS: dict[str, Callable[[Registry, dict], gpd.GeoDataFrame]] = {
    "sdo14": _sdo14,
    "sdo13": _sdo13,
    "sdo11": _sdo11,
    "stadsdel": _stadsdel,
    "regso": _regso,
    "basomrade": _basomrade,
    "valdistrikt_2010": _valdistrikt("val_2010_valdistrikt_boundaries", "LKFV", "VDNAMN"),
    "valdistrikt_2022": _valdistrikt("val_2022_valdistrikt_boundaries", "Lkfv", "Vdnamn"),
}
DIVISIONS = tuple(_LOADERS)


def load_water(registry: Registry, cache: dict | None = None) -> shapely.Geometry:
    """Stockholm's lakes, sea and canals (EPSG:3006), from the stadsdelar map's water layer.

    Every division's units include their water; nobody lives there, so the population
    weighting leaves it out when it spreads a fine unit's people over its area.
    """
    cache = {} if cache is None else cache
    if "_water" not in cache:
        raw = _read(registry.file(STADSDEL_SOURCE, "vatten.shp")).to_crs(CRS)
        # Simplify first: make_valid on the full-resolution polygon costs half a second.
        water = shapely.simplify(raw.geometry.values, WATER_SIMPLIFY_M)
        cache["_water"] = shapely.union_all(_polygonal(water))
    return cache["_water"]


def load_boundaries(
    registry: Registry, division: str, cache: dict[str, gpd.GeoDataFrame] | None = None
) -> gpd.GeoDataFrame:
    """[code, name, geometry] of a division in EPSG:3006, one row per unit.

    Pass the same `cache` dict to several calls to read and clean each file once.
    """
    if division not in _LOADERS:
        raise ValueError(f"unknown division {division!r}; known: {', '.join(DIVISIONS)}")
    cache = {} if cache is None else cache
    if division not in cache:
        cache[division] = _LOADERS[division](registry, cache)
    return cache[division].copy()
