"""UI strings in Swedish (default) and English, and number formatting per language."""

from __future__ import annotations

import math

LANGS = ("sv", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"sv": "Skillnader i Stockholm", "en": "Differences in Stockholm"},
    "app_subtitle": {
        "sv": "Levnadsvillkor i Stockholms stadsdelar, ur officiell statistik",
        "en": "Living conditions in Stockholm's districts, from official statistics",
    },
    "area": {"sv": "Område", "en": "Area"},
    "indicator": {"sv": "Indikator", "en": "Indicator"},
    "year": {"sv": "År", "en": "Year"},
    "division": {"sv": "Indelning", "en": "Division"},
    "no_data": {"sv": "Uppgift saknas", "en": "No data"},
    "source": {"sv": "Källa", "en": "Source"},
    "city_value": {"sv": "Staden", "en": "City"},
    "rank": {"sv": "Rang", "en": "Rank"},
    "diff_city": {"sv": "Skillnad mot staden", "en": "Difference from the city"},
    "of": {"sv": "av", "en": "of"},
    "map_nav": {"sv": "Karta", "en": "Map"},
    "notice_fallback": {
        "sv": "Länken innehöll okända eller ogiltiga val ({what}); visar närmaste giltiga vy.",
        "en": "The link had unknown or invalid choices ({what}); showing the nearest valid view.",
    },
    "schools_note": {
        "sv": "Avser skolor belägna i stadsdelen, inte elever som bor där.",
        "en": "Refers to schools located in the district, not pupils living there.",
    },
    "approx_note": {
        "sv": "Approximation: befolkningsviktat medelvärde av mindre områdens värden.",
        "en": "Approximation: population-weighted mean of smaller areas' values.",
    },
    "missing_note": {
        "sv": "Grått = uppgift saknas eller för låg täckning.",
        "en": "Grey = no data or too little coverage.",
    },
}

DIVISION_LABELS: dict[str, dict[str, str]] = {
    "sdo11": {"sv": "11 stadsdelsområden (från 2023)", "en": "11 districts (from 2023)"},
    "sdo13": {"sv": "13 stadsdelsområden (2020-2023)", "en": "13 districts (2020-2023)"},
    "sdo14": {"sv": "14 stadsdelsområden (2007-2020)", "en": "14 districts (2007-2020)"},
    "regso": {"sv": "RegSO (127 områden)", "en": "RegSO (127 areas)"},
    "basomrade": {"sv": "Basområden (2010)", "en": "Basområden (2010)"},
    "stadsdel": {"sv": "Stadsdelar (117)", "en": "Stadsdelar (117 neighbourhoods)"},
}


def add_strings(strings: dict[str, dict[str, str]]) -> None:
    """Pages register their own strings here at import; a key may be defined only once."""
    for key, text in strings.items():
        if key in STRINGS and STRINGS[key] != text:
            raise ValueError(f"UI string {key!r} is defined twice with different texts")
        if set(text) != set(LANGS):
            raise ValueError(f"UI string {key!r} needs both {LANGS}")
        STRINGS[key] = text


def t(key: str, lang: str, **kwargs: object) -> str:
    text = STRINGS[key]["en" if lang == "en" else "sv"]
    return text.format(**kwargs) if kwargs else text


def fmt_number(value: float | None, decimals: int, lang: str) -> str:
    """12 345,6 in Swedish (narrow no-break space for thousands), 12,345.6 in English."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("no_data", lang)
    text = f"{value:,.{decimals}f}"
    if lang == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",").replace("-", "\u2212")
