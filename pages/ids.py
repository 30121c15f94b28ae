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

TRENDS_LANG = "trends-lang"
TRENDS_AREA = "trends-area"
TRENDS_INDICATOR = "trends-indicator"
TRENDS_DIVISION = "trends-division"
TRENDS_SEX = "trends-sex"
TRENDS_MEASURE = "trends-measure"
TRENDS_MEASURE_HELP = "trends-measure-help"
TRENDS_DISTRICTS = "trends-districts"
TRENDS_NOTES = "trends-notes"
TRENDS_LINES = "trends-lines"
TRENDS_LINES_TABLE = "trends-lines-table"
TRENDS_LINES_SOURCE = "trends-lines-source"
TRENDS_INEQ = "trends-ineq"
TRENDS_INEQ_TABLE = "trends-ineq-table"
TRENDS_INEQ_SOURCE = "trends-ineq-source"
TRENDS_VERDICT = "trends-verdict"
TRENDS_QUERY = "trends-query"
TRENDS_URL_MODE = "trends-url-mode"  # the URL helper's written flag
TRENDS_POP = "trends-pop"  # set on back/forward: {search, n}
TRENDS_LEGEND_SINK = "trends-legend-sink"

COMPARE_LANG = "compare-lang"
COMPARE_DISTRICTS = "compare-districts"
COMPARE_DIVISION = "compare-division"
COMPARE_CONTENT = "compare-content"
COMPARE_QUERY = "compare-query"
COMPARE_URL_SINK = "compare-url-sink"  # the URL helper's written flag
COMPARE_POP = "compare-pop"  # set on back/forward: {search, n}
COMPARE_EMPTY = "compare-empty"

DATA_PAGE = "data-page"  # the page root (URL helper: restores on popstate while it is shown)
DATA_QUERY = "data-query"  # {query, root, sink}: to assets/skillnader.js syncQuery
DATA_POP = "data-pop"  # set on back/forward: {search, n}
DATA_SINK = "data-sink"  # the URL helper's written flag
DATA_LANG = "data-lang"
DATA_SELECTED = "data-selected"
DATA_TABS = "data-tabs"
DATA_SEARCH = "data-search"
DATA_AREA = "data-area"
DATA_DIVISION = "data-division"
DATA_MAPPABLE = "data-mappable"
DATA_COUNT = "data-count"
DATA_LIST = "data-list"
DATA_ITEM = "data-item"  # pattern-matching type: {"type": DATA_ITEM, "index": indicator id}
DATA_DETAIL = "data-detail"

# Map page (pages/map.py) beyond the ids above
MAP_LANG = "map-lang"
MAP_FIXED = "map-fixed"
MAP_BASEMAP = "map-basemap"
MAP_META = "map-meta"
MAP_VERSION = "map-version"
MAP_RANK_VERSION = "map-rank-version"
MAP_SELECTED = "map-selected"
MAP_HOVER = "map-hover"
MAP_URL_SYNC = "map-url-sync"  # the URL helper's written flag
MAP_POP = "map-pop"  # set on back/forward: {search, n} (assets/map.js names it too)
MAP_TABLE = "map-table"
MAP_RANKING_TABLE = "map-ranking-table"
MAP_RANKING_SOURCE = "map-ranking-source"
MAP_DISTRICT = "map-district"
MAP_CLEAR = "map-clear"
TRENDS_WIDTH = "trends-width"  # the browser window width, for narrow-screen figures
