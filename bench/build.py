"""Benchmark: the full build from the mirror (time per step, peak memory). Run by hand:

    uv run python bench/build.py [--repeat 3]

Prints wall time per step and the peak resident memory; nothing is asserted.
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

from data.registry import Registry
from indicators import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    registry = Registry()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            obs = build.load_observations(registry)
            t1 = time.perf_counter()
            tables = build.process(registry, obs)
            t2 = time.perf_counter()
            info = build.run(registry, Path(tmp) / "build")
            t3 = time.perf_counter()
        rows = len(tables["indicators"])
        print(f"run {i + 1}: load {t1 - t0:.1f} s, process {t2 - t1:.1f} s, "
              f"full run() {t3 - t2:.1f} s (its own timer {info['seconds']} s); "
              f"{rows} indicator rows")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
