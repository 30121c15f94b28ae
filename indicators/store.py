"""The built data, loaded once per process and held in memory for the pages.

Pages never read raw files: they ask this store for indicator values, inequality measures and
web geometries by name. On first start it builds what is missing; later starts only load.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from data.registry import Registry
from indicators.build import BUILD_DIR, MAP_DIVISIONS, MAP_MIN_SHARE, PINNED_TABLES, versions_dir
from indicators.catalog import Indicator, load_catalog

log = logging.getLogger(__name__)
TABLES = ("indicators", "inequality", "verdicts", "crosswalk_report", "reconciliation")


class BuildMissingError(RuntimeError):
    pass


class UnknownVersionError(LookupError):
    """A pinned data version that this server does not keep (never built, or pruned)."""


VERSION_RE = re.compile(r"[0-9a-f]{6,64}")


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
    else:
        _pin_current(build_dir)
    return build_dir


def _pin_current(build_dir: Path) -> None:
    """Keep a pinned copy of a build made before versions were kept (cheap when present)."""
    from indicators.build import pin_version

    try:
        version = json.loads((build_dir / "build_info.json").read_text("utf-8"))["data_version"]
    except (OSError, KeyError, ValueError):
        return
    if not (versions_dir(build_dir) / str(version) / "indicators.parquet").is_file():
        pin_version(build_dir)


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

    @property
    def data_version(self) -> str:
        return str(self.info.get("data_version", ""))

    def pinned(self, version: str | None) -> Store:
        """The store as of a pinned data version: that build's indicators, inequality and
        verdicts tables (read once, cached per process), with this build's geometries and
        catalog. None or the current version -> self. UnknownVersionError when not kept."""
        if version is None or version == self.data_version:
            return self
        if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
            raise UnknownVersionError("the data version must be 6-64 hex characters")
        with _PINNED_LOCK:
            cache = self.__dict__.setdefault("_pinned", {})
            if version not in cache:
                cache[version] = self._load_pinned(version)
                while len(cache) > MAX_PINNED_IN_MEMORY:
                    cache.pop(next(iter(cache)))
            return cache[version]

    def _load_pinned(self, version: str) -> Store:
        vdir = versions_dir(self.build_dir) / version
        if not all((vdir / f"{t}.parquet").is_file() for t in PINNED_TABLES):
            raise UnknownVersionError(f"data version {version} is not kept on this server")
        tables = {t: pd.read_parquet(vdir / f"{t}.parquet") for t in PINNED_TABLES}
        info_path = vdir / "build_info.json"
        info = (json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file()
                else {})
        info = {**self.info, **info, "data_version": version, "pinned": True}
        pinned = replace(self, info=info, **tables)
        # shared lazily-built caches of the live store must not leak into the pinned one
        for key in ("_by_key", "_pages_memo", "_pinned"):
            pinned.__dict__.pop(key, None)
        if "_geojson" in self.__dict__:
            pinned.__dict__["_geojson"] = self.__dict__["_geojson"]
        return pinned

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


def previous_build_dir(build_dir: Path = BUILD_DIR) -> Path:
    """The previous good build, kept by indicators.build.run beside the current one."""
    return build_dir.with_name(build_dir.name + ".old")


def _load_checked(build_dir: Path) -> Store:
    store = Store.load(build_dir)
    for division in MAP_DIVISIONS:  # read the geometries now: a damaged file fails here
        store.geojson(division)
    return store


def load_with_fallback(build_dir: Path = BUILD_DIR) -> Store:
    """Load the build; if it is damaged (a truncated or unreadable file) or incomplete, log a
    clear message and serve the previous good build (build.old) instead of crashing.
    With no usable previous build: an incomplete build is built (ensure_build); a damaged
    one raises BuildMissingError with a one-line reason."""
    build_dir = Path(build_dir)
    old = previous_build_dir(build_dir)
    if not build_is_complete(build_dir) and build_is_complete(old):
        log.error("the build in %s is incomplete: serving the previous build in %s; "
                  "run `skillnader build` to repair", build_dir, old)
        return _load_checked(old)
    try:
        return _load_checked(ensure_build(build_dir))
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        if build_is_complete(old):
            log.error("cannot load the build in %s (%s): serving the previous build in %s; "
                      "run `skillnader build` to repair", build_dir, reason, old)
            try:
                return _load_checked(old)
            except Exception as exc_old:
                log.error("the previous build in %s is damaged too: %s", old, exc_old)
        raise BuildMissingError(
            f"cannot load the build in {build_dir} ({reason}) and no usable previous build; "
            "run `skillnader build`"
        ) from exc


_STORE: Store | None = None
_PINNED_LOCK = threading.RLock()
MAX_PINNED_IN_MEMORY = 4


def base_store() -> Store:
    """The built data alone, without any session's uploads (the same for every request)."""
    global _STORE
    if _STORE is None:
        _STORE = load_with_fallback()
    return _STORE


def get_store() -> Store:
    base_store()
    # inside a request with uploads (session cookie or share link): the session's overlay
    from indicators.session_store import store_for_request

    return store_for_request(_STORE)
