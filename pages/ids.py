"""Every component id in one place, so pages and callbacks cannot drift apart."""

URL = "url"
LANG_SWITCH = "lang-switch"
NOTICE = "notice"

MAP_AREA = "map-area"
MAP_INDICATOR = "map-indicator"
MAP_YEAR = "map-year"
MAP_DIVISION = "map-division"
MAP_GRAPH = "map-graph"
MAP_RANKING = "map-ranking"
MAP_GAP_TEXT = "map-gap-text"
MAP_SOURCE = "map-source"
