"""The colours every page shares: THE one colour scale helper and its constants."""

from __future__ import annotations

# Colour-blind-safe (ColorBrewer PuOr): worse is always orange, better always purple.
WORSE, MID, BETTER = "#b35806", "#f7f7f7", "#542788"
NEUTRAL_SCALE = [[0.0, "#f1eef6"], [0.5, "#74a9cf"], [1.0, "#034e7b"]]
MISSING = "#bdbdbd"


def colour_scale(direction: str) -> list[list]:
    """The one colour scale helper: low-to-high values, coloured by what 'worse' means."""
    if direction == "higher_is_better":
        return [[0.0, WORSE], [0.5, MID], [1.0, BETTER]]
    if direction == "lower_is_better":
        return [[0.0, BETTER], [0.5, MID], [1.0, WORSE]]
    return NEUTRAL_SCALE
