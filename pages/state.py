"""Page state from URL query parameters: validated, with a notice for what was dropped.

Every page's state lives in the query string. Parsing never raises: an unknown or hostile
value falls back to a sensible default and is named in `problems` (shown as a notice; the
value itself is never echoed into markup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from indicators.catalog import AREAS
from indicators.store import Store
from pages.i18n import LANGS

# The start view: an exact (not approximated) indicator with values for all 11 districts in
# its latest year (2022) and an earlier year to compare with (2010), where the gap has widened.
DEFAULT_INDICATOR = "turnout_riksdag"
DEFAULT_DIVISION = "sdo11"
BASEMAPS = ("white-bg", "carto-positron", "open-street-map")  # the first works offline
MAP_PARAMS = ("lang", "area", "indicator", "year", "division", "fixed", "district", "basemap")


@dataclass
class MapState:
    lang: str
    area: str
    indicator: str
    division: str
    year: int
    fixed_bins: bool = False
    district: str | None = None
    basemap: str = BASEMAPS[0]
    problems: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str]:
        """The canonical query parameters, in a fixed order; defaults of options left out."""
        out = {"lang": self.lang, "area": self.area, "indicator": self.indicator,
               "year": str(self.year), "division": self.division}
        if self.fixed_bins:
            out["fixed"] = "1"
        if self.district:
            out["district"] = self.district
        if self.basemap != BASEMAPS[0]:
            out["basemap"] = self.basemap
        return out

    def query(self) -> str:
        return "?" + urlencode(self.params())


def memo(store: Store, key: tuple, make):
    """Per-store memo: the store is loaded once per process and never changes, but some of its
    lookups scan the whole table (mappable_indicators, years); pages ask for them per request."""
    cache = store.__dict__.setdefault("_pages_memo", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def mappable(store: Store) -> list[str]:
    return memo(store, ("mappable",), store.mappable_indicators)


def map_years(store: Store, indicator: str, division: str) -> list[int]:
    return memo(store, ("years", indicator, division), lambda: store.years(indicator, division))


def unit_codes(store: Store, division: str) -> frozenset[str]:
    return memo(store, ("codes", division),
                lambda: frozenset(f["id"] for f in store.geojson(division)["features"]))


def params_from_search(search: str | None) -> dict[str, object]:
    """'?a=1&b=2' -> params as a page's layout(**params) gets them (a repeated key: a list).
    Back/forward hand a page its URL this way (assets/skillnader.js, the pages' *_POP stores)."""
    raw = parse_qs((search if isinstance(search, str) else "").lstrip("?"),
                   keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in raw.items()}


def search_of(pop: object) -> str:
    """The query string a back/forward step hands a page (its *_POP store), or ''."""
    return pop.get("search", "") if isinstance(pop, dict) else ""


def only_changed(new: tuple, old: tuple) -> tuple:
    """Outputs for restoring controls from the URL: the new value where it differs, else
    no_update (fewer callbacks, no needless redraws)."""
    from dash import no_update

    return tuple(n if n != o else no_update for n, o in zip(new, old, strict=True))


def parse_lang(value: object) -> str:
    return value if value in LANGS else "sv"


def _text(value: object) -> str | None:
    """A query value as one short string; lists (repeated keys) and other types are dropped."""
    if isinstance(value, str) and len(value) <= 200:
        return value
    return None


def default_indicator(store: Store, area: str | None = None) -> str:
    """The start indicator, or an area's: with a direction (better/worse), several map years on
    the 11 districts, and the latest data (catalog order breaks ties)."""
    inds = mappable(store)
    if area is None and DEFAULT_INDICATOR in inds:
        return DEFAULT_INDICATOR
    pool = [i for i in inds if area is None or store.catalog[i].area == area]
    if not pool:
        return DEFAULT_INDICATOR if DEFAULT_INDICATOR in inds else inds[0]

    def score(i: str) -> tuple:
        ind = store.catalog[i]
        years = map_years(store, i, DEFAULT_DIVISION)
        return (i == DEFAULT_INDICATOR, ind.direction != "neutral", len(years) >= 2,
                years[-1] if years else 0, len(years))

    return max(pool, key=lambda i: (score(i), -pool.index(i)))


def usable_divisions(store: Store, indicator: str) -> list[str]:
    return memo(store, ("divisions", indicator), lambda: [
        d for d in store.divisions(indicator) if map_years(store, indicator, d)])


def parse_map_state(store: Store, params: dict[str, object]) -> MapState:
    """Never raises: every invalid value falls back and its parameter is named in problems."""
    problems: list[str] = []
    raw = {k: params.get(k) for k in MAP_PARAMS}
    text = {k: _text(v) for k, v in raw.items()}
    for k, v in raw.items():
        if v is not None and text[k] is None:
            problems.append(k)  # repeated keys, overlong values: dropped here once

    lang = parse_lang(text["lang"])
    if text["lang"] is not None and text["lang"] not in LANGS:
        problems.append("lang")

    inds = mappable(store)
    area_param = text["area"]
    if area_param is not None and area_param not in AREAS:
        problems.append("area")
        area_param = None
    indicator = text["indicator"]
    if indicator not in inds:
        if indicator is not None:
            problems.append("indicator")
        indicator = default_indicator(store, area_param)
    area = store.catalog[indicator].area

    divisions = usable_divisions(store, indicator)
    division = text["division"]
    if division not in divisions:
        if division is not None:
            problems.append("division")
        division = DEFAULT_DIVISION if DEFAULT_DIVISION in divisions else divisions[0]

    years = map_years(store, indicator, division)
    year_text = text["year"]
    year = int(year_text) if year_text is not None and year_text.isascii() \
        and year_text.isdigit() and len(year_text) == 4 else None
    if year not in years:
        if year_text is not None:
            problems.append("year")
        year = years[-1]

    fixed = text["fixed"]
    if fixed not in (None, "0", "1"):
        problems.append("fixed")
    district = text["district"]
    if district is not None and district not in unit_codes(store, division):
        problems.append("district")
        district = None
    basemap = text["basemap"]
    if basemap is not None and basemap not in BASEMAPS:
        problems.append("basemap")
        basemap = None

    seen: list[str] = []
    for p in problems:
        if p not in seen:
            seen.append(p)
    return MapState(lang, area, str(indicator), str(division), int(year), fixed == "1",
                    district, basemap or BASEMAPS[0], seen)
