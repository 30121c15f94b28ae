"""Web shapes: simplified neighbours keep one shared border, and the GeoJSON is compact."""

import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from data.registry import Registry, SourceError
from geo.boundaries import CRS, DIVISIONS, load_boundaries
from geo.simplify import (
    DECIMALS,
    WEB_TOLERANCE_M,
    coverage_defects,
    feature_collection,
    web_geometries,
    write_geojson,
)

X0, Y0 = 674000.0, 6580000.0  # central Stockholm in EPSG:3006


def wiggly_pair(amplitude: float, n: int = 200, width: float = 2000.0):
    """Two squares whose shared border is a sine wave of many small vertices."""
    ys = np.linspace(0, width, n)
    xs = width / 2 + amplitude * np.sin(ys / width * 12 * np.pi)
    border = [(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)]
    left = shapely.Polygon([(X0, Y0), *border, (X0, Y0 + width)])
    right = shapely.Polygon([(X0 + width, Y0), (X0 + width, Y0 + width), *border[::-1]])
    return gpd.GeoDataFrame(
        {"code": ["w", "e"], "name": ["Väst", "Öst"]}, geometry=[left, right], crs=CRS
    )


def test_wiggly_neighbours_keep_one_border():
    gdf = wiggly_pair(amplitude=30)
    web = web_geometries(gdf, tolerance_m=50)
    assert web.crs == "EPSG:4326"
    assert web.is_valid.all()
    overlap, gap = coverage_defects(web)
    assert overlap < 1.0  # m²; float noise of the reprojection only
    assert gap == 0
    assert shapely.coverage_is_valid(web.geometry.values)
    assert shapely.get_num_coordinates(web.geometry.values).sum() < (
        shapely.get_num_coordinates(gdf.geometry.values).sum() / 4
    )
    # Simplifying each polygon on its own is what this module exists to avoid:
    alone = gpd.GeoSeries(shapely.simplify(gdf.geometry.values, 50), crs=CRS)
    assert coverage_defects(gpd.GeoDataFrame(geometry=alone))[0] > 100


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.floats(100, 900), min_size=1, max_size=4, unique=True),
    amplitude=st.floats(0, 40),
    tolerance=st.floats(5, 80),
)
def test_strips_with_wiggly_borders_stay_a_coverage(cuts, amplitude, tolerance):
    xs = [0.0, *sorted(cuts), 1000.0]
    if min(np.diff(xs)) < 3 * amplitude + 10:
        return  # neighbouring waves would cross: not a coverage to begin with
    ys = np.linspace(0, 1000, 120)
    borders = [
        [(X0 + x + amplitude * np.sin(y / 50 + i), Y0 + y) for y in ys]
        for i, x in enumerate(xs[1:-1])
    ]
    lines = [[(X0, Y0 + y) for y in ys], *borders, [(X0 + 1000, Y0 + y) for y in ys]]
    polys = [shapely.Polygon([*a, *b[::-1]]) for a, b in itertools.pairwise(lines)]
    codes = [f"s{i}" for i in range(len(polys))]
    gdf = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=polys, crs=CRS)
    web = web_geometries(gdf, tolerance)
    assert web.is_valid.all() and not web.is_empty.any()
    overlap, gap = coverage_defects(web)
    assert overlap < 1.0 and gap == 0


def test_geojson_is_compact_and_keyed_by_code(tmp_path):
    web = web_geometries(wiggly_pair(amplitude=10), tolerance_m=20)
    fc = feature_collection(web)
    assert [f["id"] for f in fc["features"]] == ["w", "e"]
    assert fc["features"][1]["properties"] == {"name": "Öst"}
    size = write_geojson(web, tmp_path / "x.geojson")
    text = (tmp_path / "x.geojson").read_text(encoding="utf-8")
    assert len(text.encode()) == size
    assert ": " not in text and ", " not in text and "Öst" in text
    coords = np.array(json.loads(text)["features"][0]["geometry"]["coordinates"][0])
    assert np.allclose(coords, np.round(coords, DECIMALS), atol=0, rtol=0)
    assert coords[:, 0].min() > 17.9 and coords[:, 1].max() < 59.5


def test_needs_a_crs():
    gdf = wiggly_pair(amplitude=10).set_crs(None, allow_override=True)
    with pytest.raises(ValueError, match="CRS"):
        web_geometries(gdf, 10)


@pytest.fixture(scope="module")
def mirror():
    registry = Registry()
    try:
        registry.files("stockholm_sdo_2020_boundaries")
    except SourceError as err:
        pytest.skip(f"data mirror not available: {err}")
    cache: dict = {}
    return lambda division: load_boundaries(registry, division, cache)


BUDGET_KB = {"sdo14": 60, "sdo13": 60, "sdo11": 60}  # others: well under 300 KB


@pytest.mark.mirror
@pytest.mark.parametrize("division", DIVISIONS)
def test_real_web_shapes_tile_and_fit_the_budget(mirror, division, tmp_path):
    gdf = mirror(division)
    web = web_geometries(gdf, WEB_TOLERANCE_M[division])
    assert len(web) == len(gdf) and web.is_valid.all() and not web.is_empty.any()
    assert shapely.coverage_is_valid(web.geometry.values)
    overlap, _ = coverage_defects(web)
    assert overlap < 10.0  # m² over the whole city
    size = write_geojson(web, tmp_path / f"{division}.geojson")
    assert size < BUDGET_KB.get(division, 260) * 1024
    # the typical unit keeps its area (the smallest inner-city units change most)
    change = np.abs(web.to_crs(CRS).area.to_numpy() - gdf.area.to_numpy()) / gdf.area.to_numpy()
    assert np.median(change) < 0.01
