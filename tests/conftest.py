"""Shared fixtures. Tests marked `mirror` read the read-only data mirror (../shared/data/raw)."""

from __future__ import annotations

import pytest

from data.registry import Registry, find_raw_dir


@pytest.fixture(scope="session")
def built_store(registry):
    """The app's store over data/build, built from the mirror first if a fresh clone has none."""
    from indicators.store import Store, ensure_build

    return Store.load(ensure_build())


@pytest.fixture(scope="session")
def registry() -> Registry:
    reg = Registry()
    if not reg.raw_dir.is_dir():
        pytest.skip(f"data mirror not found at {find_raw_dir()}")
    return reg
