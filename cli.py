"""Command line: `skillnader [--raw DIR] {verify,fetch,build,serve}`.

  verify   check every registered source file (OK / MISSING / CHANGED); exit 1 if any is bad
  fetch    download registered files into the raw directory (default data/raw), verified
  build    build the indicator tables from the verified sources (indicators.build.run)
  serve    run the Dash app (app.app) on 127.0.0.1:8050

Raw directory: --raw DIR, else $SKILLNADER_RAW, else data/raw (if fetched), else
../shared/data/raw (data.registry.find_raw_dir). `fetch` writes to --raw DIR, else
$SKILLNADER_RAW, else data/raw; it never falls back to the read-only mirror.
Exit codes: 0 ok; 1 verify found bad files or a download failed; 2 usage or source error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from data.registry import (
    ENV_RAW,
    FETCH_DIR,
    PROJECT_ROOT,
    REGISTRY_FILE,
    Registry,
    SourceError,
    find_raw_dir,
)

BUILD_DIR = PROJECT_ROOT / "data" / "build"


class CommandError(RuntimeError):
    """A command cannot run (e.g. a module it needs is not in this checkout); one line, exit 2."""


def _import(module: str):
    """Import lazily; a missing module (not a missing dependency of it) is a CommandError."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise CommandError(f"module {module!r} is not available here") from exc


def _registry(args: argparse.Namespace, raw_dir: Path | None = None) -> Registry:
    return Registry(raw_dir=raw_dir or find_raw_dir(args.raw), registry_file=Path(args.registry))


def cmd_verify(args: argparse.Namespace) -> int:
    from data.fetch import verify

    registry = _registry(args)
    statuses = verify(registry, args.only)  # SourceError (unknown id) before any output
    for label, directory in (
        ("raw dir", registry.raw_dir),
        ("transcribed dir", registry.transcribed_dir),
    ):
        note = "" if directory.is_dir() else "  (does not exist)"
        print(f"{label + ':':<16} {directory}{note}")
    per_source: dict[str, list] = defaultdict(list)
    for st in statuses:
        per_source[st.source_id].append(st)
    counts = {"ok": 0, "missing": 0, "changed": 0}
    for sid, group in per_source.items():
        n_ok = sum(st.status == "ok" for st in group)
        for st in group:
            counts[st.status] += 1
        mark = "OK" if n_ok == len(group) else "BAD"
        print(f"{mark:<8} {sid}: {n_ok}/{len(group)} files OK")
        for st in group:
            if st.status != "ok":
                print(f"  {st.describe()}")
    total = sum(counts.values())
    bad = counts["missing"] + counts["changed"]
    print(
        f"{total} files: {counts['ok']} OK, {counts['missing']} MISSING, "
        f"{counts['changed']} CHANGED"
    )
    if bad:
        print(
            f"{bad} registered file(s) missing or changed: run `skillnader fetch`, or point "
            f"--raw / ${ENV_RAW} at a directory holding the registered files",
            file=sys.stderr,
        )
        return 1
    return 0


def _fetch_dest(args: argparse.Namespace) -> Path:
    if args.raw or os.environ.get(ENV_RAW):
        return find_raw_dir(args.raw)
    return FETCH_DIR


def cmd_fetch(args: argparse.Namespace) -> int:
    from data.fetch import fetch

    dest = _fetch_dest(args)
    registry = _registry(args, raw_dir=dest)

    def progress(result) -> None:
        if result.status == "failed":
            print(result.describe(), file=sys.stderr)
        elif result.status != "skipped":
            print(result.describe())

    report = fetch(
        registry,
        dest,
        only=args.only,
        base_url=args.base_url,
        timeout=args.timeout,
        force=args.force,
        progress=progress,
    )
    print(report.summary())
    if not report.ok:
        print(f"{len(report.failed)} file(s) failed to download; see FAILED above", file=sys.stderr)
        return 1
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    build = _import("indicators.build")
    registry = _registry(args)
    out_dir = Path(args.out)
    build.run(registry, out_dir)
    if (out_dir / "build_info.json").is_file():
        print(_import("indicators.report").summary(out_dir))
    print(f"built into {out_dir}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.raw:  # the app builds its own Registry(); let it find the same raw directory
        os.environ[ENV_RAW] = str(find_raw_dir(args.raw))
    app = _import("app")
    debug = args.debug or os.environ.get("SKILLNADER_DEBUG", "").strip() == "1"
    app.app.run(host=args.host, port=args.port, debug=debug)
    return 0


def build_parser() -> argparse.ArgumentParser:
    # --raw / --registry are accepted before or after the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--raw",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"raw data directory (default: ${ENV_RAW}, data/raw, ../shared/data/raw)",
    )
    common.add_argument(
        "--registry",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="source registry YAML (default: data/sources.yaml)",
    )
    parser = argparse.ArgumentParser(
        prog="skillnader",
        description="Skillnader: differences between Stockholm's districts.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("verify", parents=[common], help="check registered source files")
    p.add_argument("--only", nargs="+", metavar="SOURCE_ID", help="check only these sources")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("fetch", parents=[common], help="download registered source files")
    p.add_argument("--only", nargs="+", metavar="SOURCE_ID", help="fetch only these sources")
    p.add_argument(
        "--base-url", metavar="URL", help="fetch <URL>/<file path> instead of each download_url"
    )
    p.add_argument("--force", action="store_true", help="download even files already present")
    p.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="socket timeout (default 60)"
    )
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("build", parents=[common], help="build indicator tables")
    p.add_argument(
        "--out", default=str(BUILD_DIR), metavar="DIR", help="output directory (data/build)"
    )
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", parents=[common], help="run the Dash app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--debug", action="store_true",
                   help="Dash debug mode (off unless this or SKILLNADER_DEBUG=1)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.raw = getattr(args, "raw", None)
    args.registry = getattr(args, "registry", None) or str(REGISTRY_FILE)
    try:
        return args.func(args)
    except (SourceError, CommandError) as exc:
        message = " ".join(str(exc).split())
        print(f"skillnader {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
