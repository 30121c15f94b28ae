"""gunicorn settings for production: `gunicorn app:server` (this file is read automatically
from the working directory; or `gunicorn -c gunicorn.conf.py app:server`).

Environment:
  SKILLNADER_BIND      address, default 127.0.0.1:8050 (behind a reverse proxy / load balancer)
  SKILLNADER_WORKERS   worker processes, default CPU cores + 1 (callbacks are CPU bound:
                       pandas/plotly; more workers than cores only adds memory)
  SKILLNADER_THREADS   threads per worker (gthread), default 4: page loads and static files
                       wait on I/O and the GIL is released in pandas/parquet/compression
  SKILLNADER_TIMEOUT   worker timeout in seconds, default 60
  SKILLNADER_MAX_REQUESTS  requests after which a worker is replaced, default 50000

Memory: preload_app = True. The app (and with it the built data, indicators.store.get_store(),
about 60-80 MB resident with pandas/plotly) is imported once in the master before forking, so
* a missing build is built once, not by every worker at the same time (they would race on
  data/build.tmp), and a damaged build is reported once;
* the workers share the loaded tables copy-on-write: each worker adds only what it allocates
  itself (caches, figures), not another copy of the data and libraries.
The cost: a new build is picked up by restarting gunicorn (or `kill -HUP` the master, which
re-imports the app), never by a worker on its own -- which is what we want: all workers serve the
same data version.
"""

import os

bind = os.environ.get("SKILLNADER_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("SKILLNADER_WORKERS", (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("SKILLNADER_THREADS", "4"))
worker_class = "gthread"
preload_app = True
timeout = int(os.environ.get("SKILLNADER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# recycle workers now and then (every per-process cache is bounded; this is a safety net). Not
# too often: a new worker starts with cold caches, and under load 5000 meant a restart of
# some worker every few seconds (docs/load-test.md)
max_requests = int(os.environ.get("SKILLNADER_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# gunicorn 27 opens a control socket in ~/.gunicorn by default; not wanted in production
control_socket_disable = True
# headers set by the load balancer (X-Forwarded-*) are trusted only from these addresses
forwarded_allow_ips = os.environ.get("SKILLNADER_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("SKILLNADER_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("SKILLNADER_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Finish Dash's one-time server setup before this worker accepts connections.

    Dash does it lazily in a before_request hook on the first request (copying the registered
    callbacks into app.callback_map, registering the pages router) and marks it done *before*
    it is done; with several threads per worker, requests arriving at a fresh worker at the
    same time raced it and failed with 500 ("Callback function not found for output ...",
    "dictionary changed size during iteration"): the load test's errors under load, when
    max_requests recycled workers. One request here, in the worker, before it serves."""
    server = worker.wsgi
    with server.test_client() as client:
        for path in ("/_dash-layout", "/_dash-dependencies", "/"):
            resp = client.get(path)
            if resp.status_code != 200:
                worker.log.warning("warm-up GET %s: %s", path, resp.status_code)
