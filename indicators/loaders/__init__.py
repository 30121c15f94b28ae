"""Loaders, one per source format, registered here by name.

Each returns the observation table (indicators/observations.py) for its sources; the build
asks for them by name, so adding a source means one line here and one entry in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

import pandas as pd

from data.registry import Registry

# name -> "module:function"; imported lazily so one broken loader names itself when used.
LOADERS: dict[str, str] = {
    "elections": "indicators.loaders.elections:load",
    "pxweb": "indicators.loaders.pxweb:load",
    "basomrade": "indicators.loaders.basomrade:load",
    "schools": "indicators.loaders.schools:load",
    "transcribed": "indicators.loaders.transcribed:load",
}


def get_loader(name: str) -> Callable[[Registry], pd.DataFrame]:
    module, func = LOADERS[name].split(":")
    return getattr(import_module(module), func)
