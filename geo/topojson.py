"""A minimal TopoJSON decoder: enough for the basområde file, small enough to read in one go.

Only polygonal objects matter here. TopoJSON stores each shared border once as an *arc*; a
polygon ring is a list of arc indices, where a negative index ~i means arc i reversed. A
*quantized* topology stores arc positions as integer deltas from the previous position, to be
scaled and translated by the topology's `transform`
(github.com/topojson/topojson-specification).
Because neighbours are rebuilt from the very same arcs, the decoded polygons share their edges
exactly, which is what coverage simplification later relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import shapely


def decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Every arc as an (n, 2) array of absolute coordinates."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype="float64")[:, :2]
        if transform is not None:
            # Quantized arcs are delta-encoded: positions are running sums of the deltas.
            xy = np.cumsum(xy, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(xy)
    return arcs


def _ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        xy = arcs[i] if i >= 0 else arcs[~i][::-1]
        # Consecutive arcs share their joining position; keep it once.
        parts.append(xy if k == 0 else xy[1:])
    return np.concatenate(parts)


def _polygon(rings: list[list[int]], arcs: list[np.ndarray]) -> shapely.Polygon:
    coords = [_ring(r, arcs) for r in rings]
    return shapely.Polygon(coords[0], coords[1:])


def decode_geometry(geom: dict[str, Any], arcs: list[np.ndarray]) -> shapely.Geometry | None:
    kind = geom.get("type")
    if kind == "Polygon":
        return _polygon(geom["arcs"], arcs)
    if kind == "MultiPolygon":
        return shapely.MultiPolygon([_polygon(p, arcs) for p in geom["arcs"]])
    if kind is None:
        return None  # TopoJSON's "null" geometry: a feature without a shape
    raise ValueError(f"unsupported TopoJSON geometry type {kind!r} (only polygons are needed)")


def iter_features(
    topology: dict[str, Any], object_name: str | None = None
) -> Iterator[tuple[dict[str, Any], shapely.Geometry | None]]:
    """(properties, geometry) of every geometry in one object (the only one if not named)."""
    if topology.get("type") != "Topology":
        raise ValueError("not a TopoJSON Topology")
    objects = topology["objects"]
    if object_name is None:
        if len(objects) != 1:
            raise ValueError(f"topology has objects {sorted(objects)}; name one")
        object_name = next(iter(objects))
    arcs = decode_arcs(topology)
    obj = objects[object_name]
    members = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    for geom in members:
        yield geom.get("properties") or {}, decode_geometry(geom, arcs)
