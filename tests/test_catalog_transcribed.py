"""Every transcribed series has exactly one catalog entry, and the entry matches its data."""

from __future__ import annotations

import pytest

from indicators.catalog import CATALOG_DIR, load_catalog
from indicators.loaders import transcribed as t

TRANSCRIBED = set(t.FILES)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG_DIR)


def _transcribed_entries(catalog):
    return {i: ind for i, ind in catalog.items() if TRANSCRIBED & set(ind.sources)}


def test_transcribed_entries_are_published_values_of_one_file(catalog):
    entries = _transcribed_entries(catalog)
    assert entries
    for cid, ind in entries.items():
        assert ind.aggregation.kind == "published", cid
        assert len(ind.sources) == 1, cid
        assert cid in (ind.aggregation.variable, f"{ind.aggregation.variable}_published"), cid
        assert ind.aggregation.merge_weight in (None, "population"), cid
        if ind.aggregation.merge_weight:
            assert ind.source_division in ("sdo14", "sdo13"), cid
            assert "population" in catalog


@pytest.fixture(scope="module")
def metadata(registry):  # `registry`: tests/conftest.py, skips without the mirror
    return t.series_metadata(registry).set_index("indicator_id")


@pytest.mark.mirror
def test_every_transcribed_series_has_exactly_one_entry(catalog, metadata):
    entries = _transcribed_entries(catalog)
    for ind_id, meta in metadata.iterrows():
        matches = [
            cid
            for cid, ind in entries.items()
            if ind.aggregation.variable == ind_id and meta["source_id"] in ind.sources
        ]
        assert len(matches) == 1, f"{ind_id}: catalog entries {matches}"
    # and no entry points at a series the tables do not have
    stale = {cid for cid, ind in entries.items() if ind.aggregation.variable not in metadata.index}
    assert not stale


@pytest.mark.mirror
def test_entries_agree_with_the_data(catalog, metadata):
    by_variable = {ind.aggregation.variable: ind for ind in _transcribed_entries(catalog).values()}
    for ind_id, meta in metadata.iterrows():
        ind = by_variable[ind_id]
        assert ind.area == meta["catalog_area"], ind_id
        assert set(ind.sexes) == set(meta["sexes"]), ind_id
        if isinstance(meta["source_division"], str):
            assert ind.source_division == meta["source_division"], ind_id
        if meta["max_districts"] < 10:
            assert not ind.mappable, f"{ind_id} has at most {meta['max_districts']} districts"
        if meta["secondary"]:
            assert ind.reliability_note is not None, ind_id
        if ind.aggregation.variable in ("turnout_riksdag", "employment_rate_20_64"):
            assert ind.id.endswith("_published")  # the plain ids belong to built indicators
