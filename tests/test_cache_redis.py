"""The shared cache: SimpleCache by default, Redis when SKILLNADER_REDIS_URL is set (tested
against a real redis-server started here on a free loopback port; skipped if not installed)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from flask import Flask

from pages import hardening


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_default_backend_is_in_process(monkeypatch):
    monkeypatch.delenv(hardening.ENV_REDIS, raising=False)
    assert hardening.cache_config()["CACHE_TYPE"] == "SimpleCache"


def _app_with_cache(monkeypatch, url: str | None) -> Flask:
    if url:
        monkeypatch.setenv(hardening.ENV_REDIS, url)
    else:
        monkeypatch.delenv(hardening.ENV_REDIS, raising=False)
    app = Flask("cachetest")
    hardening.cache.init_app(app, config=hardening.cache_config())
    monkeypatch.setattr(hardening, "_data_version", lambda: "v1")
    return app


def _counting():
    calls = []

    @hardening.memoize
    def square(x: int) -> dict:
        calls.append(x)
        return {"x": x * x}

    return square, calls


@pytest.mark.parametrize("backend", ["simple", "redis"])
def test_memoize_computes_once_per_argument_and_version(monkeypatch, request, backend):
    url = request.getfixturevalue("redis_url") if backend == "redis" else None
    app = _app_with_cache(monkeypatch, url)
    square, calls = _counting()
    with app.app_context():
        hardening.cache.clear()
        assert square(3) == {"x": 9}
        assert square(3) == {"x": 9}
        assert square(4) == {"x": 16}
        assert calls == [3, 4]
        monkeypatch.setattr(hardening, "_data_version", lambda: "v2")  # a new build
        assert square(3) == {"x": 9}
        assert calls == [3, 4, 3]
        if backend == "redis":
            import redis

            keys = redis.Redis.from_url(url).keys("skillnader:memo:*")
            assert len(keys) == 3


def test_redis_shared_between_two_apps(monkeypatch, redis_url):
    """Two instances (two apps, as two servers behind a load balancer) share results."""
    square, calls = _counting()
    a = _app_with_cache(monkeypatch, redis_url)
    with a.app_context():
        hardening.cache.clear()
        square(5)
    b = _app_with_cache(monkeypatch, redis_url)
    with b.app_context():
        assert square(5) == {"x": 25}
    assert calls == [5]


def test_redis_down_still_computes(monkeypatch):
    app = _app_with_cache(monkeypatch, f"redis://127.0.0.1:{_free_port()}/0")
    square, calls = _counting()
    with app.app_context():
        assert square(2) == {"x": 4}
        assert square(2) == {"x": 4}
    assert calls == [2, 2]


def test_no_app_context_computes():
    square, calls = _counting()
    assert square(7) == {"x": 49}
    assert calls == [7]
