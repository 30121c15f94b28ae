"""Page state from URL query parameters: validated, with a notice for what was dropped.

Every page's state lives in the query string. Parsing never raises: an unknown or hostile
value falls back to a sensible default and is named in `problems` (shown as a notice; the
value itself is never echoed into markup).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indicators.catalog import AREAS
from indicators.store import Store
from pages.i18n import LANGS

DEFAULT_INDICATOR = "turnout_kommun"
DEFAULT_DIVISION = "sdo11"


@dataclass
class MapState:
    lang: str
    area: str
    indicator: str
    division: str
    year: int
    problems: list[str] = field(default_factory=list)

    def query(self) -> str:
        return (
            f"?lang={self.lang}&area={self.area}&indicator={self.indicator}"
            f"&division={self.division}&year={self.year}"
        )


def parse_lang(value: object) -> str:
    return value if value in LANGS else "sv"


def parse_map_state(store: Store, params: dict[str, object]) -> MapState:
    problems: list[str] = []
    lang = parse_lang(params.get("lang"))
    if params.get("lang") not in (None, *LANGS):
        problems.append("lang")
    mappable = store.mappable_indicators()
    indicator = params.get("indicator")
    if indicator not in mappable:
        if indicator is not None:
            problems.append("indicator")
        area_param = params.get("area")
        in_area = [i for i in mappable if store.catalog[i].area == area_param]
        indicator = (
            in_area[0] if in_area else (DEFAULT_INDICATOR if DEFAULT_INDICATOR in mappable
                                        else mappable[0])
        )
    area = store.catalog[indicator].area
    if params.get("area") not in (None, area, *AREAS):
        problems.append("area")
    divisions = store.divisions(indicator)
    division = params.get("division")
    if division not in divisions or not store.years(indicator, division):
        if division is not None:
            problems.append("division")
        usable = [d for d in divisions if store.years(indicator, d)]
        division = DEFAULT_DIVISION if DEFAULT_DIVISION in usable else usable[0]
    years = store.years(indicator, division)
    try:
        year = int(str(params.get("year")))
    except ValueError:
        year = None
    if year not in years:
        if params.get("year") is not None:
            problems.append("year")
        year = years[-1]
    return MapState(lang, area, str(indicator), str(division), int(year), problems)
