"""The indicator catalog: one YAML file per area in indicators/catalog/, validated here.

Like OWID's *.meta.yml, each entry says what a number means (title, unit, definition), where
it comes from (source ids of data/sources.yaml) and how it is carried from its source units to
the districts (`aggregation`). Pages and the build read indicators only through this module.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"

AREAS: dict[str, dict[str, str]] = {
    "health": {"sv": "Välbefinnande och hälsa", "en": "Well-being and health"},
    "upbringing": {"sv": "Uppväxtvillkor och utbildning", "en": "Upbringing and education"},
    "work": {"sv": "Arbete och försörjning", "en": "Work and income"},
    "housing": {"sv": "Boende och stadsmiljö", "en": "Housing and city environment"},
    "democracy": {"sv": "Demokrati och trygghet", "en": "Democracy and safety"},
}

SourceDivision = Literal[
    "regso", "basomrade", "valdistrikt", "school", "stadsdel", "sdo18", "sdo14", "sdo13", "sdo11",
    "city",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


class Aggregation(_Strict):
    """How source-unit observations become a district value.

    - sum: sum of `variable` over crosswalk weights (counts).
    - ratio: scale * sum(numerator) / sum(denominator), each summed as a count (exact pooling).
    - weighted_mean: sum(variable * weight) / sum(weight); `weight` is a count variable of the
      same source (e.g. population). An approximation when the weight is not the variable's own
      denominator; `approximate: true` makes the metadata say so.
    - published: the source publishes district values; they are taken as they are on their own
      division, and merged to later divisions weighted by `merge_weight` (an indicator id whose
      built district values give the weights, e.g. population) when one is named, or summed
      when `additive` (counts). A merged district needs all of its parts.
    """

    kind: Literal["sum", "ratio", "weighted_mean", "published"]
    variable: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    weight: str | None = None
    scale: float = 1.0
    approximate: bool = False
    merge_weight: str | None = None
    additive: bool = False  # published counts: merged districts sum their parts

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Aggregation:
        need = {
            "sum": ("variable",),
            "ratio": ("numerator", "denominator"),
            "weighted_mean": ("variable", "weight"),
            "published": ("variable",),
        }[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"aggregation kind {self.kind!r} needs {', '.join(missing)}")
        return self


# Short units are written in Swedish in the catalog; their English forms.
SHORT_UNITS_EN = {"dagar": "days", "år": "years", "inv/km²": "inh./km²", "kr": "SEK",
                  "kr/m²": "SEK/m²", "tkr": "SEK thousand", "p": "pts"}


class Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: Text
    unit: Text
    short_unit: str = ""
    decimals: int = Field(ge=0, le=4)
    direction: Literal["higher_is_better", "lower_is_better", "neutral"]
    definition: Text
    processing: Text | None = None  # how the value was derived (OWID: description_processing)
    sources: tuple[str, ...] = Field(min_length=1)
    source_division: SourceDivision
    aggregation: Aggregation
    sexes: tuple[Literal["total", "female", "male"], ...] = ("total",)
    mappable: bool = True  # False for series too sparse to map (profiles and data page only)
    reliability_note: Text | None = None  # e.g. "secondary source quoting the official report"
    area: str = ""  # filled from the file the entry sits in

    def short_unit_for(self, lang: str) -> str:
        return SHORT_UNITS_EN.get(self.short_unit, self.short_unit) if lang == "en" else (
            self.short_unit
        )


class AreaFile(_Strict):
    area: Literal["health", "upbringing", "work", "housing", "democracy"]
    indicators: list[Indicator]


class CatalogError(ValueError):
    pass


@cache
def load_catalog(directory: Path = CATALOG_DIR) -> dict[str, Indicator]:
    """All indicators by id, in file order; raises CatalogError naming the file and problem."""
    out: dict[str, Indicator] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            parsed = AreaFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:  # pydantic and yaml errors both name the field
            raise CatalogError(f"{path.name}: {exc}") from exc
        for ind in parsed.indicators:
            if ind.id in out:
                raise CatalogError(f"{path.name}: indicator id {ind.id!r} is defined twice")
            out[ind.id] = ind.model_copy(update={"area": parsed.area})
    return out
