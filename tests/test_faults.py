"""Faults: a damaged build at app start falls back to the previous good build with a clear log
line; `skillnader build` with a missing or corrupted raw file exits 2 naming the file and leaves
the previous build untouched; an unexpected error is a friendly page (sv/en), never a
traceback."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from flask import Flask

from indicators.build import BUILD_DIR
from indicators.store import (
    BuildMissingError,
    build_is_complete,
    load_with_fallback,
    previous_build_dir,
)
from pages import hardening


@pytest.fixture
def builds(tmp_path) -> Path:
    """A copy of the real build as data/build and data/build.old in a temporary directory."""
    if not build_is_complete(BUILD_DIR):
        pytest.skip("no complete build in data/build")
    build = tmp_path / "build"
    shutil.copytree(BUILD_DIR, build)
    shutil.copytree(BUILD_DIR, previous_build_dir(build))
    return build


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def test_good_build_loads_itself(builds):
    assert load_with_fallback(builds).build_dir == builds


def test_truncated_parquet_falls_back_to_previous_build(builds, caplog):
    _truncate(builds / "indicators.parquet")
    with caplog.at_level(logging.ERROR, logger="indicators.store"):
        store = load_with_fallback(builds)
    assert store.build_dir == previous_build_dir(builds)
    assert len(store.indicators) > 0
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "cannot load the build" in msg and "serving the previous build" in msg
    assert "skillnader build" in msg


def test_truncated_geojson_falls_back(builds, caplog):
    geo = sorted((builds / "geo").glob("*.geojson"))[0]
    _truncate(geo)
    with caplog.at_level(logging.ERROR, logger="indicators.store"):
        store = load_with_fallback(builds)
    assert store.build_dir == previous_build_dir(builds)
    assert "serving the previous build" in caplog.text


def test_missing_built_file_uses_previous_build_without_rebuilding(builds, caplog, monkeypatch):
    (builds / "verdicts.parquet").unlink()

    def no_build(*a, **k):
        raise AssertionError("must not rebuild when a previous build is there")

    monkeypatch.setattr("indicators.build.run", no_build)
    with caplog.at_level(logging.ERROR, logger="indicators.store"):
        store = load_with_fallback(builds)
    assert store.build_dir == previous_build_dir(builds)
    assert "incomplete" in caplog.text


def test_damaged_without_previous_build_is_one_clear_error(builds):
    shutil.rmtree(previous_build_dir(builds))
    _truncate(builds / "inequality.parquet")
    with pytest.raises(BuildMissingError, match=r"cannot load the build .*`skillnader build`"):
        load_with_fallback(builds)


def test_previous_build_damaged_too(builds):
    _truncate(builds / "indicators.parquet")
    _truncate(previous_build_dir(builds) / "indicators.parquet")
    with pytest.raises(BuildMissingError):
        load_with_fallback(builds)


# --- skillnader build with a bad raw source -------------------------------------------------


@pytest.mark.mirror
@pytest.mark.parametrize("fault", ["missing", "corrupted"])
def test_build_with_bad_raw_file_exits_2_and_keeps_previous_build(
    registry, tmp_path, capsys, fault
):
    from cli import main

    raw = tmp_path / "raw"
    shutil.copytree(registry.raw_dir, raw, copy_function=os.symlink)
    source = registry["val_2010_riksdag"]
    victim = raw / source.files[0].path
    victim.unlink()
    if fault == "corrupted":
        victim.write_bytes(b"not the registered file\n")
    out = tmp_path / "build"
    out.mkdir()
    (out / "build_info.json").write_text('{"data_version": "previous"}', encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())

    code = main(["build", "--raw", str(raw), "--out", str(out)])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("skillnader build: error:")
    assert len(err.splitlines()) == 1
    assert Path(source.files[0].path).name in err
    assert ("MISSING" if fault == "missing" else "CHANGED") in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "build_info.json").read_text(encoding="utf-8") == '{"data_version": "previous"}'
    assert not (tmp_path / "build.tmp").exists() or not any((tmp_path / "build.tmp").iterdir())


# --- friendly error page --------------------------------------------------------------------


def _boom_app() -> Flask:
    app = Flask("boom")
    hardening.add_error_handler(app)

    @app.route("/boom")
    def boom():
        raise ValueError("secret internal detail")

    @app.route("/_dash-update-component", methods=["POST"])
    def dash_boom():
        raise KeyError("secret")

    return app


@pytest.mark.parametrize(("lang", "text"), [("sv", "Något gick fel"),
                                            ("en", "Something went wrong")])
def test_unexpected_error_is_a_friendly_page_and_logged(caplog, lang, text):
    client = _boom_app().test_client()
    with caplog.at_level(logging.ERROR, logger="pages.hardening"):
        resp = client.get(f"/boom?lang={lang}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert resp.mimetype == "text/html"
    assert text in body
    assert "secret internal detail" not in body and "Traceback" not in body
    assert "unexpected error on GET /boom" in caplog.text
    assert any(r.exc_info for r in caplog.records)  # the traceback is in the log


def test_accept_language_picks_english():
    resp = _boom_app().test_client().get("/boom", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Something went wrong" in resp.get_data(as_text=True).split("<hr>")[0]


def test_dash_endpoint_error_is_short_json():
    resp = _boom_app().test_client().post("/_dash-update-component", json={})
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "Något gick fel"}


def test_http_errors_keep_their_status():
    assert _boom_app().test_client().get("/nowhere").status_code == 404


def test_real_app_error_handler_and_limits(monkeypatch):
    import app as app_module

    server = app_module.server
    assert not server.debug
    assert server.config["MAX_CONTENT_LENGTH"] == 6 * 2**20

    def broken(division):
        raise RuntimeError("internal")

    monkeypatch.setitem(server.view_functions, "skillnader_geo", broken)
    resp = server.test_client().get("/geo/sdo14.geojson?lang=en")
    assert resp.status_code == 500
    assert "Something went wrong" in resp.get_data(as_text=True)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    big = server.test_client().post("/_dash-update-component", data=b"x" * (7 * 2**20),
                                    content_type="application/json")
    assert big.status_code == 413
