"""District territories rebuilt from whole stadsdelar: an alternative target for crosswalks.

Stockholm's stadsdelsområden are groupings of stadsdelar, but the 2020 SDO map does not follow
the stadsdelar everywhere: it gives 29 % of stadsdel Husby and 44 % of Akalla (the Järvafältet
fields, plus the basområden Södra Husby and Södra Akalla that reach into them) to Spånga-Tensta.
Population weighting cannot see that nobody lives on those fields, so crosswalks onto the map
move ~5,000 people from Rinkeby-Kista to Spånga-Tensta; onto these territories they do not.
Each stadsdel joins the SDO that holds most of its area (Hägersten-Liljeholmen: the official
list in geo.names); the map polygons stay what the dashboard draws.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from data.registry import Registry
from geo.boundaries import dissolve, load_boundaries
from geo.names import DIVISION_CODES, HAGERSTEN_LILJEHOLMEN_STADSDELAR, MERGES


def stadsdel_membership(registry: Registry, cache: dict | None = None) -> dict[str, dict[str, str]]:
    """division -> {stadsdel code: district code} for sdo14, sdo13 and sdo11."""
    cache = {} if cache is None else cache
    key = "_stadsdel_membership"
    if key not in cache:
        stadsdelar = load_boundaries(registry, "stadsdel", cache)
        sdo13 = load_boundaries(registry, "sdo13", cache)
        si, ti = sdo13.sindex.query(stadsdelar.geometry.values, predicate="intersects")
        area = shapely.area(
            shapely.intersection(stadsdelar.geometry.values[si], sdo13.geometry.values[ti])
        )
        best = {}
        for s, t, a in zip(si, ti, area, strict=True):
            if a > best.get(s, (None, -1.0))[1]:
                best[s] = (t, a)
        codes = stadsdelar["code"].to_numpy()
        in13 = {codes[s]: sdo13["code"].iloc[t] for s, (t, _) in best.items()}
        hl = set(stadsdelar.loc[stadsdelar["name"].isin(HAGERSTEN_LILJEHOLMEN_STADSDELAR), "code"])
        in14 = {
            s: (
                ("hagersten_liljeholmen" if s in hl else "alvsjo") if d == "hagersten_alvsjo" else d
            )
            for s, d in in13.items()
        }
        in11 = {s: MERGES[("sdo13", "sdo11")][d] for s, d in in13.items()}
        cache[key] = {"sdo14": in14, "sdo13": in13, "sdo11": in11}
    return cache[key]


def stadsdel_territories(
    registry: Registry, division: str, cache: dict | None = None
) -> gpd.GeoDataFrame:
    """[code, name, geometry] of an SDO division as unions of whole stadsdelar (EPSG:3006)."""
    cache = {} if cache is None else cache
    key = f"_territory_{division}"
    if key not in cache:
        membership = stadsdel_membership(registry, cache)[division]
        gdf = dissolve(load_boundaries(registry, "stadsdel", cache), membership)
        order = {c: i for i, c in enumerate(DIVISION_CODES[division])}
        gdf = gdf.iloc[np.argsort([order[c] for c in gdf["code"]])].reset_index(drop=True)
        cache[key] = gdf
    return cache[key].copy()
