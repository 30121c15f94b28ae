"""Small web shapes that still tile: coverage simplification, WGS84, rounded coordinates.

Simplifying each polygon on its own moves a shared border differently on its two sides and the
map shows slivers and overlaps between districts. `shapely.coverage_simplify` (GEOS >= 3.12)
simplifies every shared edge once, so neighbours keep an identical border. It needs an
edge-matched coverage, which geo.boundaries already guarantees; `web_geometries` cleans again
in case it is handed something else.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.boundaries import CRS, clean_coverage

WEB_CRS = "EPSG:4326"
# 5 decimals of a degree is ~1.1 m north-south and ~0.6 m east-west at 59° N: well below the
# simplification tolerance, so rounding cannot be seen on a map but halves the file size.
DECIMALS = 5
# Tolerance per division (metres, Visvalingam-Whyatt: roughly the side of the largest removed
# triangle). Chosen so a district map stays tens of KB and the finest units stay under ~300 KB.
WEB_TOLERANCE_M: dict[str, float] = {
    "sdo14": 25.0,  # ~30 KB
    "sdo13": 25.0,
    "sdo11": 25.0,
    "stadsdel": 25.0,  # ~90 KB
    "regso": 25.0,  # ~90 KB
    "basomrade": 40.0,  # ~185 KB
    "valdistrikt_2010": 60.0,  # ~190 KB
    "valdistrikt_2022": 60.0,  # ~220 KB: 592 units, so the per-feature overhead dominates
}


def web_geometries(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """The coverage simplified in metres, then in EPSG:4326 with coordinates on a 1e-5° grid."""
    if gdf.crs is None:
        raise ValueError("boundaries without a CRS cannot be simplified in metres")
    metric = clean_coverage(gdf) if not _is_coverage(gdf) else gdf.to_crs(CRS)
    simple = shapely.coverage_simplify(metric.geometry.values, tolerance_m)
    out = metric.set_geometry(gpd.GeoSeries(simple, index=metric.index, crs=CRS)).to_crs(WEB_CRS)
    # Shared vertices are identical before rounding, so they round identically: the coverage
    # stays edge-matched. set_precision also repairs the rare ring that rounding would pinch.
    rounded = shapely.set_precision(out.geometry.values, 10.0**-DECIMALS)
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=WEB_CRS))


def _is_coverage(gdf: gpd.GeoDataFrame) -> bool:
    geoms = gdf.to_crs(CRS).geometry.values
    return bool(shapely.is_valid(geoms).all() and shapely.coverage_is_valid(geoms))


def feature_collection(gdf: gpd.GeoDataFrame) -> dict:
    """GeoJSON FeatureCollection with feature id = code, for plotly's featureidkey='id'."""
    features = []
    for code, name, geom in zip(gdf["code"], gdf["name"], gdf.geometry, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": str(code),
                "properties": {"name": str(name)},
                "geometry": _rounded_mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _rounded_mapping(geom: shapely.Geometry) -> dict:
    # shapely.to_geojson would print the binary float noise of the rounded values
    # (18.123450000000002); rounding again in Python gives the shortest repr.
    mapping = json.loads(shapely.to_geojson(geom))
    return _round(mapping)


def _round(obj):
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, DECIMALS)
    return obj


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> int:
    """Write web geometries as compact GeoJSON; returns the size in bytes."""
    text = json.dumps(feature_collection(gdf), ensure_ascii=False, separators=(",", ":"))
    data = text.encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)


def coverage_defects(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """(overlap area, gap area) in m² between the units of a coverage, for tests and reports.

    Gaps are holes in the union that no unit fills; the outer boundary is not a gap.
    """
    geoms = gdf.to_crs(CRS).geometry.values
    union = shapely.union_all(geoms)
    overlap = float(shapely.area(geoms).sum() - shapely.area(union))
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    gap = float(np.sum(shapely.area(holes))) if holes else 0.0
    return overlap, gap
