"""The built data, loaded once per process and held in memory for the pages.

Pages never read raw files: they ask this store for indicator values, inequality measures and
web geometries by name. On first start it builds what is missing; later starts only load.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from data.registry import Registry
from indicators.build import BUILD_DIR, MAP_DIVISIONS, MAP_MIN_SHARE
from indicators.catalog import Indicator, load_catalog

log = logging.getLogger(__name__)
TABLES = ("indicators", "inequality", "verdicts", "crosswalk_report", "reconciliation")


class BuildMissingError(RuntimeError):
    pass


def build_is_complete(build_dir: Path) -> bool:
    needed = [build_dir / f"{t}.parquet" for t in TABLES] + [build_dir / "build_info.json"]
    needed += [build_dir / "geo" / f"{d}.geojson" for d in MAP_DIVISIONS]
    return all(p.is_file() for p in needed)


def ensure_build(build_dir: Path = BUILD_DIR) -> Path:
    """Build once if no complete build exists; a complete build is never rebuilt here."""
    if not build_is_complete(build_dir):
        from indicators.build import run

        log.warning("no complete build in %s: building from the registered sources", build_dir)
        run(out_dir=build_dir)
    return build_dir


@dataclass
class Store:
    build_dir: Path
    indicators: pd.DataFrame
    inequality: pd.DataFrame
    verdicts: pd.DataFrame
    crosswalk_report: pd.DataFrame
    reconciliation: pd.DataFrame
    info: dict
    catalog: dict[str, Indicator] = field(default_factory=load_catalog)

    @classmethod
    def load(cls, build_dir: Path = BUILD_DIR) -> Store:
        if not build_is_complete(build_dir):
            raise BuildMissingError(f"no complete build in {build_dir}; run `skillnader build`")
        tables = {t: pd.read_parquet(build_dir / f"{t}.parquet") for t in TABLES}
        info = json.loads((build_dir / "build_info.json").read_text(encoding="utf-8"))
        return cls(build_dir=build_dir, info=info, **tables)

    @cached_property
    def _geojson(self) -> dict[str, dict]:
        return {
            d: json.loads((self.build_dir / "geo" / f"{d}.geojson").read_text(encoding="utf-8"))
            for d in MAP_DIVISIONS
        }

    @cached_property
    def registry(self) -> Registry:
        """Source metadata for citations (no file access: paths are only resolved on use)."""
        return Registry()

    def geojson(self, division: str) -> dict:
        return self._geojson[division]

    @cached_property
    def _by_key(self) -> dict[tuple[str, str, str], pd.DataFrame]:
        """Indicator values split once by (indicator, division, sex) for fast lookups."""
        return {
            key: g.reset_index(drop=True)
            for key, g in self.indicators.groupby(["indicator_id", "division", "sex"])
        }

    def values(self, indicator_id: str, division: str, sex: str = "total") -> pd.DataFrame:
        return self._by_key.get((indicator_id, division, sex), self.indicators.iloc[0:0])

    def years(self, indicator_id: str, division: str, mappable_only: bool = True) -> list[int]:
        """Years with values; for maps only years where most districts have a mappable value
        (a map of three coloured districts among eleven grey ones says nothing)."""
        v = self.values(indicator_id, division)
        if not mappable_only:
            return sorted(int(y) for y in v["year"].unique())
        n_units = self.unit_count(division)
        per_year = v[v["mappable"]].groupby("year")["district_code"].nunique()
        return sorted(int(y) for y, n in per_year.items() if n >= MAP_MIN_SHARE * n_units)

    def unit_count(self, division: str) -> int:
        return len(self.geojson(division)["features"])

    def divisions(self, indicator_id: str) -> list[str]:
        have = {d for (i, d, _s) in self._by_key if i == indicator_id}
        return [d for d in MAP_DIVISIONS if d in have]

    def city_value(self, indicator_id: str, year: int, sex: str = "total") -> float | None:
        v = self.values(indicator_id, "city", sex)
        v = v[v["year"] == year]
        return float(v["value"].iloc[0]) if len(v) else None

    def mappable_indicators(self) -> list[str]:
        m = self.indicators[self.indicators["mappable"]]
        have = set(m.loc[m["division"].isin(MAP_DIVISIONS), "indicator_id"])
        return [i for i in self.catalog if i in have]


_STORE: Store | None = None


def get_store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = Store.load(ensure_build())
    return _STORE
