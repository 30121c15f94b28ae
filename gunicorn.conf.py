"""gunicorn settings for production: `gunicorn app:server` (this file is read automatically
from the working directory; or `gunicorn -c gunicorn.conf.py app:server`).

Environment:
  SKILLNADER_BIND      address, default 127.0.0.1:8050 (behind a reverse proxy / load balancer)
  SKILLNADER_WORKERS   worker processes, default CPU cores + 1 (callbacks are CPU bound:
                       pandas/plotly; more workers than cores only adds memory)
  SKILLNADER_THREADS   threads per worker (gthread), default 4: page loads and static files
                       wait on I/O and the GIL is released in pandas/parquet/compression
  SKILLNADER_TIMEOUT   worker timeout in seconds, default 60

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
# recycle workers now and then: bounds slow growth of per-process caches
max_requests = 5000
max_requests_jitter = 500
# gunicorn 27 opens a control socket in ~/.gunicorn by default; not wanted in production
control_socket_disable = True
# headers set by the load balancer (X-Forwarded-*) are trusted only from these addresses
forwarded_allow_ips = os.environ.get("SKILLNADER_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("SKILLNADER_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("SKILLNADER_LOG_LEVEL", "info")
