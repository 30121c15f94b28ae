"""Boundary loading: names, the Hägersten-Älvsjö split, dissolves, and the real mirror files."""

import re

import geopandas as gpd
import pytest
import shapely

from data.registry import Registry, SourceError
from geo.boundaries import (
    CRS,
    DIVISIONS,
    BoundaryError,
    basomrade_code,
    clean_coverage,
    dissolve,
    load_boundaries,
    slug,
    split_hagersten_alvsjo,
    stadsdel_name,
)
from geo.names import DIVISION_CODES, HAGERSTEN_LILJEHOLMEN_STADSDELAR, MERGES


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("VÅRBERG", "Vårberg"),
        ("SKARPNÄCKS GÅRD", "Skarpnäcks gård"),
        ("HÄSSELBY VILLASTAD", "Hässelby villastad"),
        ("GAMLA STAN", "Gamla stan"),
        ("NORRA DJURGÅRDEN", "Norra Djurgården"),
        ("STORA ESSINGEN", "Stora Essingen"),
        ("ÖRBY SLOTT", "Örby slott"),
        ("ULVSUNDA INDUSTRIOMR", "Ulvsunda industriområde"),
        ("HÄGERSTENSÅSEN", "Hägerstensåsen"),
        ("NOCKEBY-NOCKEBYHOV", "Nockeby-Nockebyhov"),
        ("  ÅRSTA ", "Årsta"),
    ],
)
def test_stadsdel_names_follow_swedish_orthography(raw, name):
    assert stadsdel_name(raw) == name


def test_slug_and_basomrade_code():
    assert slug("Skarpnäcks gård") == "skarpnacks_gard"
    assert slug("Ulvsunda industriområde") == "ulvsunda_industriomrade"
    assert basomrade_code(2242120) == "2242120"
    assert basomrade_code("2242120_centrala_akalla") == "2242120"
    assert basomrade_code(2242120.0) == "2242120"
    with pytest.raises(BoundaryError):
        basomrade_code("Akalla")


def test_split_is_an_exact_partition_and_edge_strips_join_their_neighbour():
    # The SDO is 10 x 10. Liljeholmen's stadsdelar fill the west half but stop 0.05 short of
    # the outline; Älvsjö's fill the east half, also short of the outline. The strip along the
    # west edge belongs to Liljeholmen, not to Älvsjö as a plain difference would make it.
    sdo = shapely.box(0, 0, 10, 10)
    liljeholmen = shapely.box(0.05, 0.05, 5, 9.95)
    alvsjo = shapely.box(5, 0.05, 9.95, 9.95)
    hl, al = split_hagersten_alvsjo(sdo, liljeholmen, alvsjo, cell=1.0)
    assert hl.intersection(al).area == pytest.approx(0, abs=1e-9)
    assert hl.union(al).symmetric_difference(sdo).area == pytest.approx(0, abs=1e-9)
    assert al.area == pytest.approx(50, abs=0.5)
    assert hl.contains(shapely.Point(0.01, 5))  # the west strip
    assert al.contains(shapely.Point(9.99, 5))  # the east strip


def test_split_gives_a_corner_claimed_by_a_foreign_stadsdel_to_its_longer_border():
    # A 1 x 1 corner of the SDO lies in no Liljeholmen or Älvsjö stadsdel (another publisher
    # drew it in a neighbouring SDO). It touches Liljeholmen along 1 unit and Älvsjö not at all.
    sdo = shapely.box(0, 0, 10, 10)
    liljeholmen = shapely.box(0, 0, 5, 10).difference(shapely.box(0, 9, 1, 10))
    alvsjo = shapely.box(5, 0, 10, 10)
    hl, al = split_hagersten_alvsjo(sdo, liljeholmen, alvsjo, cell=1.0)
    assert hl.area == pytest.approx(50)
    assert al.area == pytest.approx(50)


def test_dissolve_follows_the_merge_table():
    left = shapely.box(0, 0, 1, 1)
    right = shapely.box(1, 0, 2, 1)
    codes = list(DIVISION_CODES["sdo13"])
    geoms = [shapely.box(i * 10, 5, i * 10 + 1, 6) for i in range(len(codes))]
    geoms[codes.index("rinkeby_kista")] = left
    geoms[codes.index("spanga_tensta")] = right
    gdf = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=geoms, crs=CRS)
    out = dissolve(gdf, MERGES[("sdo13", "sdo11")]).set_index("code")
    assert sorted(out.index) == sorted(DIVISION_CODES["sdo11"])
    assert out.geometry["jarva"].equals(shapely.box(0, 0, 2, 1).normalize()) or (
        out.geometry["jarva"].symmetric_difference(shapely.box(0, 0, 2, 1)).area == 0
    )
    assert out.loc["jarva", "name"] == "Järva"
    with pytest.raises(BoundaryError):
        dissolve(gdf, {"bromma": "bromma"})


def test_clean_coverage_removes_overlap_and_hairline_gap():
    a = shapely.box(0, 0, 100, 100)
    b = shapely.box(100.2, 0, 200, 100)  # a 0.2 m gap between a and b ...
    top = shapely.box(0, 99.5, 200, 150)  # ... closed by top, which overlaps both by 0.5 m
    bottom = shapely.box(0, -50, 200, 0)
    gdf = gpd.GeoDataFrame(
        {"code": ["a", "b", "top", "bottom"]}, geometry=[a, b, top, bottom], crs=CRS
    )
    out = clean_coverage(gdf)
    assert shapely.coverage_is_valid(out.geometry.values)
    union = out.union_all()
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert out.area.sum() == pytest.approx(union.area)


# --- the real mirror ----------------------------------------------------------------------------

EXPECTED_COUNTS = {
    "sdo14": 14,
    "sdo13": 13,
    "sdo11": 11,
    "stadsdel": 117,
    "regso": 127,
    "basomrade": 419,
    "valdistrikt_2010": 503,
    "valdistrikt_2022": 592,
}


@pytest.fixture(scope="module")
def mirror():
    registry = Registry()
    try:
        for source in ("stockholm_sdo_2020_boundaries", "stockholm_stadsdelar_boundaries"):
            registry.files(source)
    except SourceError as err:
        pytest.skip(f"data mirror not available: {err}")
    cache: dict = {}
    return lambda division: load_boundaries(registry, division, cache)


@pytest.mark.mirror
@pytest.mark.parametrize("division", DIVISIONS)
def test_every_division_is_a_clean_coverage_in_sweref(mirror, division):
    gdf = mirror(division)
    assert len(gdf) == EXPECTED_COUNTS[division]
    assert list(gdf.columns) == ["code", "name", "geometry"]
    assert gdf.crs == CRS
    assert gdf["code"].is_unique
    assert gdf.is_valid.all() and not gdf.is_empty.any()
    assert not gdf.has_z.any()
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert shapely.coverage_is_valid(gdf.geometry.values)


@pytest.mark.mirror
@pytest.mark.parametrize("division", DIVISIONS)
def test_every_division_covers_the_city(mirror, division):
    city = mirror("sdo13").union_all()
    union = mirror(division).union_all()
    # All divisions include the city's water; they differ only along the edge, and basområden
    # (2010, quantized to ~15 m) the most.
    tolerance = 0.01 if division == "basomrade" else 0.001
    assert union.difference(city).area / city.area < tolerance
    assert city.difference(union).area / city.area < tolerance


@pytest.mark.mirror
def test_sdo_divisions_nest_exactly(mirror):
    sdo13 = mirror("sdo13").set_index("code").geometry
    sdo14 = mirror("sdo14").set_index("code").geometry
    sdo11 = mirror("sdo11").set_index("code").geometry
    assert list(mirror("sdo14")["code"]) == list(DIVISION_CODES["sdo14"])
    ha = sdo13["hagersten_alvsjo"]
    hl, al = sdo14["hagersten_liljeholmen"], sdo14["alvsjo"]
    assert hl.intersection(al).area < 1.0  # m²
    assert ha.symmetric_difference(hl.union(al)).area < 1.0
    assert 8e6 < al.area < 10e6  # Älvsjö is about 9 km² (with water)
    for code, target in MERGES[("sdo13", "sdo11")].items():
        assert sdo13[code].difference(sdo11[target]).area < 1.0
    assert abs(sdo11.area.sum() - sdo13.area.sum()) < 1.0


@pytest.mark.mirror
def test_stadsdel_names_and_codes(mirror):
    st = mirror("stadsdel")
    names = set(st["name"])
    assert {"Vårberg", "Skarpnäcks gård", "Ulvsunda industriområde", "Gamla stan"} <= names
    assert set(HAGERSTEN_LILJEHOLMEN_STADSDELAR) <= names
    assert all(re.fullmatch(r"[a-z0-9_]+", c) for c in st["code"])
    assert not any(n.isupper() for n in names)


@pytest.mark.mirror
def test_source_codes(mirror):
    assert mirror("regso")["code"].str.fullmatch(r"0180R\d{3}").all()
    assert mirror("basomrade")["code"].str.fullmatch(r"\d{7}").all()
    for division in ("valdistrikt_2010", "valdistrikt_2022"):
        assert mirror(division)["code"].str.fullmatch(r"0180\d{4}").all()


@pytest.mark.mirror
def test_basomrade_lands_on_the_city_in_rt90_not_wgs84(mirror):
    # Read as WGS84 the basområden sit ~200 m south-west of the city; the loader's EPSG:4124
    # puts Akalla's centre within a few tens of metres of the RegSO's.
    bas = mirror("basomrade").set_index("code")
    regso = mirror("regso").set_index("code")
    akalla_bas = bas.geometry["2242120"]  # Centrala Akalla
    assert akalla_bas.intersection(regso.geometry["0180R002"]).area / akalla_bas.area > 0.99
