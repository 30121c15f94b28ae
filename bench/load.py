"""Load test: gunicorn with the production config (gunicorn.conf.py) on loopback, driven by wrk.

    uv run python bench/load.py [--duration 10] [--users 10 50 100] [--out docs/load-test.md]

Starts `gunicorn -c gunicorn.conf.py app:server` on 127.0.0.1:<free port> (never any other
address), then for each scenario and each number of concurrent users (wrk connections) runs
wrk for --duration seconds and records requests/s, p50/p95/p99 latency and errors (socket
errors, timeouts and any non-2xx answer). Scenarios:
  page       GET /                      (the HTML shell)
  layout     GET /_dash-layout          (the app's component tree)
  map        POST /_dash-update-component, the map callback (map-graph.figure) with real
             payloads from bench/map_callback.payload, rotating over indicators x years x
             divisions (mostly recolours as in the browser: a Patch)
Every run is bounded: wrk stops after --duration, gunicorn is stopped at the end.
Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LUA = r"""
local bodies = %(bodies)s
local method = "%(method)s"
local i = 0
request = function()
  if method == "GET" then return wrk.format("GET", wrk.path) end
  i = (i %% #bodies) + 1
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json",
                                       ["Accept-Encoding"] = "gzip"}, bodies[i])
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
statuses = {}
response = function(status, headers, body)
  if status < 200 or status >= 300 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local codes = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do codes[code] = (codes[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%%d": %%d', code, n)) end
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%.3f, "p50": %%.2f, "p95": %%.2f, "p99": %%.2f, ' ..
    '"max": %%.2f, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, ' ..
    '"non2xx": %%d, "statuses": {%%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ", ")))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def map_bodies() -> list[str]:
    from bench.map_callback import payload
    from indicators.store import get_store

    store = get_store()
    bodies = []
    for indicator in store.mappable_indicators()[:6]:
        for division in ("sdo14", "regso"):
            years = store.years(indicator, division)[-4:]
            for year in years:
                bodies.append(json.dumps(payload(indicator, year, division, division)))
    return bodies


def lua_list(items: list[str]) -> str:
    return "{" + ",".join("[==[" + b + "]==]" for b in items) + "}"


def start_gunicorn(port: int, env_extra: dict, log: Path) -> subprocess.Popen:
    """gunicorn's log goes to `log` (a file: a pipe nobody reads would block it when full)."""
    env = {**os.environ, "SKILLNADER_BIND": f"127.0.0.1:{port}", **env_extra}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-2000:]) from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("gunicorn did not start within 90 s")


def run_wrk(url: str, script: Path, users: int, duration: int) -> dict:
    threads = min(users, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{users}", f"-d{duration}s", "--timeout", "10s",
         "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 30, check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    res["rps"] = res["requests"] / res["seconds"]
    res["socket_errors"] = res["connect"] + res["read"] + res["write"] + res["timeout"]
    res["errors"] = res["socket_errors"] + res["non2xx"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--users", type=int, nargs="+", default=[10, 50, 100])
    ap.add_argument("--workers", type=int, default=None, help="SKILLNADER_WORKERS")
    ap.add_argument("--out", type=Path, default=None, help="write a Markdown table here")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    port = _free_port()
    env = {"SKILLNADER_WORKERS": str(args.workers)} if args.workers else {}
    bodies = map_bodies()
    log = Path(tempfile.mkdtemp(prefix="skillnader-load-")) / "gunicorn.log"
    proc = start_gunicorn(port, env, log)
    base = f"http://127.0.0.1:{port}"
    scenarios = [("page", "GET", "/"), ("layout", "GET", "/_dash-layout"),
                 ("map", "POST", "/_dash-update-component")]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, method, path in scenarios:
                script = Path(tmp) / f"{name}.lua"
                script.write_text(LUA % {"bodies": lua_list(bodies if method == "POST" else [""]),
                                         "method": method})
                run_wrk(base + path, script, 4, 3)  # warm-up (caches, first imports)
                for users in args.users:
                    seen = len(log.read_text(errors="replace"))
                    res = run_wrk(base + path, script, users, args.duration)
                    new = log.read_text(errors="replace")[seen:]
                    # worker restarts (max_requests, timeouts) and errors during this row
                    res["restarts"] = new.count("Booting worker")
                    res["log_errors"] = new.count("Traceback") + new.count("[CRITICAL]")
                    rows.append({"scenario": name, "users": users, **res})
                    print(f"{name:7} {users:4} users: {res['rps']:7.1f} req/s  "
                          f"p50 {res['p50']:7.1f} ms  p95 {res['p95']:7.1f} ms  "
                          f"p99 {res['p99']:7.1f} ms  errors {res['errors']} "
                          f"(connect {res['connect']}, read {res['read']}, "
                          f"write {res['write']}, timeout {res['timeout']}, "
                          f"non-2xx {res['non2xx']} {res['statuses'] or ''}; "
                          f"worker restarts {res['restarts']}, "
                          f"logged errors {res['log_errors']})", flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
        print(f"gunicorn log: {log}")
    if args.out:
        write_markdown(args.out, rows, args, len(bodies))
    return 1 if any(r["errors"] for r in rows) else 0


def write_markdown(path: Path, rows: list[dict], args, n_bodies: int) -> None:
    workers = args.workers or (os.cpu_count() or 1) + 1
    lines = [
        "| scenario | users | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['users']} | {r['rps']:.0f} | {r['p50']:.0f} | "
                     f"{r['p95']:.0f} | {r['p99']:.0f} | {r['max']:.0f} | {r['errors']} |")
    meta = (f"Measured {time.strftime('%Y-%m-%d')} on {platform.node() or 'this machine'}: "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, gunicorn.conf.py with "
            f"{workers} workers x {os.environ.get('SKILLNADER_THREADS', '4')} threads "
            f"(gthread, preload), wrk on the same machine, {args.duration} s per row, "
            f"map payloads rotating over {n_bodies} views.")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = "<!-- bench/load.py results -->"
    block = f"{marker}\n{meta}\n\n" + "\n".join(lines) + f"\n{marker}-end\n"
    if marker in text:
        head, _, rest = text.partition(marker)
        _, _, tail = rest.partition(f"{marker}-end\n")
        text = head + block + tail
    else:
        text = text + ("\n" if text else "") + block
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
