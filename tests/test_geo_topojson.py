"""The TopoJSON decoder on hand-written topologies with known coordinates."""

import itertools

import pytest
import shapely

from geo.topojson import decode_arcs, iter_features

# Two unit squares side by side: arc 0 is their shared edge (1,0)->(1,1); arc 1 the rest of the
# left square, arc 2 the rest of the right one. The right square walks arc 0 backwards (~0).
PLAIN = {
    "type": "Topology",
    "arcs": [
        [[1, 0], [1, 1]],
        [[1, 1], [0, 1], [0, 0], [1, 0]],
        [[1, 0], [2, 0], [2, 1], [1, 1]],
    ],
    "objects": {
        "squares": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"id": "left"}},
                {"type": "Polygon", "arcs": [[~0, 2]], "properties": {"id": "right"}},
            ],
        }
    },
}


def quantized(topology, scale, translate):
    """The same topology, quantized and delta-encoded as TopoJSON writers store it."""
    arcs = []
    for arc in topology["arcs"]:
        q = [
            (round((x - translate[0]) / scale[0]), round((y - translate[1]) / scale[1]))
            for x, y in arc
        ]
        arcs.append([list(q[0])] + [[b[0] - a[0], b[1] - a[1]] for a, b in itertools.pairwise(q)])
    return {**topology, "arcs": arcs, "transform": {"scale": scale, "translate": translate}}


def test_plain_topology_gives_two_squares_sharing_an_edge():
    features = dict((p["id"], g) for p, g in iter_features(PLAIN))
    assert features["left"].equals(shapely.box(0, 0, 1, 1))
    assert features["right"].equals(shapely.box(1, 0, 2, 1))
    shared = features["left"].intersection(features["right"])
    assert shared.length == pytest.approx(1.0)
    assert features["left"].intersection(features["right"]).area == 0


def test_quantized_arcs_are_delta_decoded_and_transformed():
    # The squares moved to lon/lat-like positions; quantizing is relative to translate.
    shifted = {
        **PLAIN,
        "arcs": [[[x + 17.0, y + 59.0] for x, y in arc] for arc in PLAIN["arcs"]],
    }
    topo = quantized(shifted, scale=[0.5, 0.25], translate=[17.0, 59.0])
    arcs = decode_arcs(topo)
    assert arcs[1].tolist() == [[18.0, 60.0], [17.0, 60.0], [17.0, 59.0], [18.0, 59.0]]
    features = dict((p["id"], g) for p, g in iter_features(topo))
    assert features["right"].equals(shapely.box(18.0, 59.0, 19.0, 60.0))


def test_multipolygon_and_hole():
    topo = {
        "type": "Topology",
        "arcs": [
            [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
            [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]],
            [[10, 10], [11, 10], [11, 11], [10, 10]],
        ],
        "objects": {
            "x": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "MultiPolygon", "arcs": [[[0], [1]], [[2]]], "properties": {}},
                    {"type": None, "properties": {"empty": True}},
                ],
            }
        },
    }
    (_props, multi), (props2, none) = list(iter_features(topo))
    assert multi.geom_type == "MultiPolygon"
    assert multi.area == pytest.approx(16 - 1 + 0.5)
    assert none is None and props2 == {"empty": True}


def test_rejects_what_it_does_not_decode():
    with pytest.raises(ValueError, match="Topology"):
        list(iter_features({"type": "FeatureCollection"}))
    two = {**PLAIN, "objects": {**PLAIN["objects"], "other": PLAIN["objects"]["squares"]}}
    with pytest.raises(ValueError, match="name one"):
        list(iter_features(two))
    line = {
        **PLAIN,
        "objects": {"l": {"type": "LineString", "arcs": [0], "properties": {}}},
    }
    with pytest.raises(ValueError, match="LineString"):
        list(iter_features(line))
