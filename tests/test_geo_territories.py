"""Districts as whole stadsdelar, on the real mirror."""

import pytest
import shapely

from data.registry import Registry, SourceError
from geo.boundaries import load_boundaries
from geo.names import DIVISION_CODES, HAGERSTEN_LILJEHOLMEN_STADSDELAR, MERGES
from geo.territories import stadsdel_membership, stadsdel_territories


@pytest.fixture(scope="module")
def mirror():
    registry = Registry()
    try:
        registry.files("stockholm_sdo_2020_boundaries")
        registry.files("stockholm_stadsdelar_boundaries")
    except SourceError as err:
        pytest.skip(f"data mirror not available: {err}")
    return registry, {}


@pytest.mark.mirror
def test_every_stadsdel_belongs_to_one_district(mirror):
    registry, cache = mirror
    membership = stadsdel_membership(registry, cache)
    stadsdelar = load_boundaries(registry, "stadsdel", cache)
    for division, mapping in membership.items():
        assert set(mapping) == set(stadsdelar["code"])
        assert set(mapping.values()) == set(DIVISION_CODES[division])
    in13 = membership["sdo13"]
    assert {in13[s] for s in ("akalla", "husby", "hansta", "kista", "rinkeby")} == {"rinkeby_kista"}
    hl = stadsdelar.loc[stadsdelar["name"].isin(HAGERSTEN_LILJEHOLMEN_STADSDELAR), "code"]
    assert {membership["sdo14"][s] for s in hl} == {"hagersten_liljeholmen"}
    for s, d in in13.items():
        assert membership["sdo11"][s] == MERGES[("sdo13", "sdo11")][d]


@pytest.mark.mirror
@pytest.mark.parametrize("division", ["sdo14", "sdo13", "sdo11"])
def test_territories_tile_the_city_like_the_map(mirror, division):
    registry, cache = mirror
    territories = stadsdel_territories(registry, division, cache)
    drawn = load_boundaries(registry, division, cache)
    assert list(territories["code"]) == list(DIVISION_CODES[division])
    assert territories.crs == drawn.crs
    assert shapely.coverage_is_valid(territories.geometry.values)
    city = drawn.union_all()
    assert territories.union_all().symmetric_difference(city).area / city.area < 0.001
    # They differ from the drawn districts by a few km² at most (Järvafältet the most).
    moved = [
        t.symmetric_difference(d).area
        for t, d in zip(territories.geometry, drawn.geometry, strict=True)
    ]
    assert max(moved) < 3e6 and sum(moved) < 10e6
