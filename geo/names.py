"""Stable district codes, canonical names, and the one table that resolves name variants.

A district keeps its code across divisions for as long as its territory is unchanged
(`bromma` is the same area in sdo14, sdo13 and sdo11), so a code is a territory, not a label.
Every loader resolves names through `resolve_district`; an unknown name raises, never drops.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SDO_DIVISIONS = ("sdo14", "sdo13", "sdo11")

# code -> canonical Swedish name
DISTRICT_NAMES: dict[str, str] = {
    "rinkeby_kista": "Rinkeby-Kista",
    "spanga_tensta": "Spånga-Tensta",
    "jarva": "Järva",
    "hasselby_vallingby": "Hässelby-Vällingby",
    "bromma": "Bromma",
    "kungsholmen": "Kungsholmen",
    "norrmalm": "Norrmalm",
    "ostermalm": "Östermalm",
    "norra_innerstaden": "Norra innerstaden",
    "sodermalm": "Södermalm",
    "enskede_arsta_vantor": "Enskede-Årsta-Vantör",
    "skarpnack": "Skarpnäck",
    "farsta": "Farsta",
    "alvsjo": "Älvsjö",
    "hagersten_liljeholmen": "Hägersten-Liljeholmen",
    "hagersten_alvsjo": "Hägersten-Älvsjö",
    "skarholmen": "Skärholmen",
}

_UNCHANGED = (
    "hasselby_vallingby",
    "bromma",
    "kungsholmen",
    "sodermalm",
    "enskede_arsta_vantor",
    "skarpnack",
    "farsta",
    "skarholmen",
)

# division -> its district codes, in the order the city lists them (north-west to south)
DIVISION_CODES: dict[str, tuple[str, ...]] = {
    "sdo14": (
        "rinkeby_kista", "spanga_tensta", "hasselby_vallingby", "bromma", "kungsholmen",
        "norrmalm", "ostermalm", "sodermalm", "enskede_arsta_vantor", "skarpnack", "farsta",
        "alvsjo", "hagersten_liljeholmen", "skarholmen",
    ),
    "sdo13": (
        "rinkeby_kista", "spanga_tensta", "hasselby_vallingby", "bromma", "kungsholmen",
        "norrmalm", "ostermalm", "sodermalm", "enskede_arsta_vantor", "skarpnack", "farsta",
        "hagersten_alvsjo", "skarholmen",
    ),
    "sdo11": (
        "jarva", "hasselby_vallingby", "bromma", "kungsholmen", "norra_innerstaden",
        "sodermalm", "enskede_arsta_vantor", "skarpnack", "farsta", "hagersten_alvsjo",
        "skarholmen",
    ),
}

# The merges between SDO divisions: (from division, from code) -> to code.
MERGES: dict[tuple[str, str], dict[str, str]] = {
    ("sdo14", "sdo13"): {
        **{c: c for c in DIVISION_CODES["sdo14"]},
        "alvsjo": "hagersten_alvsjo",
        "hagersten_liljeholmen": "hagersten_alvsjo",
    },
    ("sdo13", "sdo11"): {
        **{c: c for c in DIVISION_CODES["sdo13"]},
        "rinkeby_kista": "jarva",
        "spanga_tensta": "jarva",
        "norrmalm": "norra_innerstaden",
        "ostermalm": "norra_innerstaden",
    },
}
MERGES[("sdo14", "sdo11")] = {
    c: MERGES[("sdo13", "sdo11")][m] for c, m in MERGES[("sdo14", "sdo13")].items()
}

# The stadsdelar that formed Hägersten-Liljeholmen before 2020 (../shared/data/README.md);
# the rest of Hägersten-Älvsjö was Älvsjö.
HAGERSTEN_LILJEHOLMEN_STADSDELAR = (
    "Aspudden", "Fruängen", "Gröndal", "Hägersten", "Hägerstensåsen", "Liljeholmen",
    "Midsommarkransen", "Mälarhöjden", "Västberga", "Västertorp",
)

# Spellings seen in sources that normalisation alone does not reach.
_VARIANTS: dict[str, str] = {
    "enskede arsta vantors": "enskede_arsta_vantor",
    "hagersten liljeholmens": "hagersten_liljeholmen",
    "norra innerstan": "norra_innerstaden",
    "jarvaomradet": "jarva",
}


class UnknownDistrictError(ValueError):
    """A district name that no table resolves; the message names it and the division."""


def normalise(name: str) -> str:
    """Case-, accent-, dash- and suffix-insensitive key for a district name."""
    # punctuation of any script (en dash, no-break space) separates words before accents go
    text = "".join(ch if ch.isalnum() else " " for ch in str(name))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.casefold()
    text = re.sub(r"\b(stadsdelsomrade|stadsdelsnamndsomrade|stadsdelsnamnd|sdn|sdf)\b", " ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


_BY_KEY: dict[str, str] = {normalise(n): c for c, n in DISTRICT_NAMES.items()}
_BY_KEY.update(_VARIANTS)


@dataclass(frozen=True)
class District:
    division: str
    code: str
    name: str


def resolve_district(name: str, division: str) -> District:
    """Resolve any spelling of an SDO name to its code in `division`, or raise naming it."""
    if division not in DIVISION_CODES:
        raise ValueError(f"unknown SDO division {division!r}; known: {', '.join(SDO_DIVISIONS)}")
    code = _BY_KEY.get(normalise(name))
    if code is None or code not in DIVISION_CODES[division]:
        raise UnknownDistrictError(
            f"unknown district name {name!r} for division {division} "
            f"(known: {', '.join(DISTRICT_NAMES[c] for c in DIVISION_CODES[division])})"
        )
    return District(division, code, DISTRICT_NAMES[code])


def district_name(code: str) -> str:
    return DISTRICT_NAMES[code]


def unchanged_codes() -> tuple[str, ...]:
    """Districts whose territory is the same in sdo14, sdo13 and sdo11."""
    return _UNCHANGED
