"""Where people live inside a unit, estimated from finer units with a known population.

The estimate assumes uniform density on the habitable part of each fine unit (basområde):
water is taken out first, because every division here includes the city's lakes and bays and a
waterfront unit would otherwise put people on the water across the border. What it cannot see
is empty land *inside* a populated fine unit: Södra Husby and Södra Akalla include the
Järvafältet fields that the 2020 SDO map gives to Spånga-Tensta (see the crosswalk report).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import CRS


def habitable(fine_gdf: gpd.GeoDataFrame, uninhabited: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """The fine units minus an uninhabited mask (water), in EPSG:3006."""
    fine = fine_gdf.to_crs(CRS)
    if uninhabited is None:
        return fine
    land = shapely.difference(fine.geometry.values, uninhabited)
    # A unit that is all water by this mask still has its people somewhere: keep it whole.
    keep = np.where(shapely.area(land) > 0, land, fine.geometry.values)
    return fine.set_geometry(gpd.GeoSeries(keep, index=fine.index, crs=CRS))


def population_in(
    pieces: np.ndarray,
    fine_gdf: gpd.GeoDataFrame,
    fine_population: pd.Series,
    uninhabited: shapely.Geometry | None = None,
) -> np.ndarray:
    """Estimated population of each geometry in `pieces` (EPSG:3006).

    `fine_population` is indexed by the fine units' codes. Fine units without a value count as
    empty: in the basområde series they are parks, harbours and industrial areas that SCB left
    out of its table.
    """
    fine = habitable(fine_gdf, uninhabited).reset_index(drop=True)
    geoms = fine.geometry.values
    pop = pd.to_numeric(fine_population, errors="coerce")
    pop.index = pop.index.astype(str)
    values = pop.reindex(fine["code"].astype(str)).fillna(0.0).to_numpy()
    density = values / shapely.area(geoms)
    pi, fi = shapely.STRtree(geoms).query(pieces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(pieces[pi], geoms[fi]))
    return np.bincount(pi, weights=overlap * density[fi], minlength=len(pieces))


def unit_population(
    source_gdf: gpd.GeoDataFrame,
    fine_gdf: gpd.GeoDataFrame,
    fine_population: pd.Series,
    uninhabited: shapely.Geometry | None = None,
) -> pd.Series:
    """Estimated population of each source unit, indexed by its code (for reports)."""
    src = source_gdf.to_crs(CRS)
    est = population_in(src.geometry.values, fine_gdf, fine_population, uninhabited)
    return pd.Series(est, index=src["code"].astype(str).to_numpy(), name="population")
