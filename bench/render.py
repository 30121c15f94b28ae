"""Benchmark: static image export with the shared kaleido renderer. Run by hand:

    uv run python bench/render.py [--repeat 5] [--division sdo14] [--out /tmp]

Prints the first image's time (browser start included) and the median / max time per PNG and
SVG of a choropleth map and a ranking bar chart, at 1200x675 and in the 'slide' preset
(1920x1080 PNG). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

from indicators.store import get_store
from pages import export, renderer
from pages import map_figures as mf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--indicator", default="turnout_riksdag")
    parser.add_argument("--division", default="sdo14")
    parser.add_argument("--out", type=Path, default=None, help="write the last images here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    store = get_store()
    ind = store.catalog[args.indicator]
    div = args.division
    year = max(store.years(ind.id, div))
    data = mf.map_data(store, ind.id, div, year, "sv")
    figs = {  # the page's own builders; the map with its geometry inline, as exports have it
        "map": mf.export_map_figure(data, store),
        "bars": mf.ranking_figure(data, store),
    }
    meta = export.chart_meta(store, ind.id, div, year, "sv")

    r = renderer.get_renderer()
    t0 = time.perf_counter()
    r.render(figs["bars"], "png", 1200, 675, 1)
    print(f"first image (browser start {r.last_start_seconds:.2f} s included): "
          f"{time.perf_counter() - t0:.2f} s")
    for name, fig in figs.items():
        for fmt in ("png", "svg"):
            for label, call in (
                ("1200x675", lambda f=fig, m=fmt: r.render(f, m, 1200, 675, 1)),
                ("slide", lambda f=fig, m=fmt: export.to_image(f, m, "slide", meta)),
            ):
                times, out = [], b""
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    out = call()
                    times.append(time.perf_counter() - t)
                print(f"{name:5} {fmt} {label:9} median {statistics.median(times):.3f} s  "
                      f"max {max(times):.3f} s  ({len(out) / 1024:.0f} KiB)")
                if args.out:
                    (args.out / f"{name}_{label}.{fmt}").write_bytes(out)
    renderer.shutdown()


if __name__ == "__main__":
    main()
