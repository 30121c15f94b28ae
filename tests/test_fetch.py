"""data.fetch against a real HTTP server on 127.0.0.1 serving files made in tmp_path.

The registry here is a tiny YAML of its own, so these tests do not need the data mirror (except
the one marked `mirror`, which serves a copy of a few small mirror files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

import cli
from data import fetch as fetch_mod
from data.fetch import FetchError, download, fetch
from data.registry import COMPLETE_MARKER, SHARED_RAW, Registry, SourceError

FILES = {
    "alpha/one.csv": b"district,value\nBromma,1\nFarsta,2\n",
    "alpha/two.csv": b"district,value\n" + b"Sk\xc3\xa4rholmen,3\n" * 2000,
    "beta/\u00c4lvsj\u00f6 data.bin": bytes(range(256)) * 64,
}


# --- a small HTTP server ---------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep pytest output quiet
        pass

    def do_GET(self) -> None:
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        self.server.requests.append(rel)
        path = self.server.root / rel
        if not path.is_file():
            self.send_error(404, "not found")
            return
        body = path.read_bytes()
        how = self.server.behaviour.get(rel)
        if how == "alter":  # same length, one byte different
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if how == "truncate":  # announce the whole body, send half, close the connection
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if how == "stall":  # send half, then go silent until the test ends
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.server.release.wait(10)
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.behaviour: dict[str, str] = {}
        self.requests: list[str] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    srv = _Server(root)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


# --- a tiny registry ---------------------------------------------------------------------------


def _entry(rel: str, data: bytes, url: str | None) -> dict:
    return {
        "path": rel,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "download_url": url,
    }


def write_registry(path: Path, url: str | None) -> Path:
    """alpha: two files with download URLs (on `url`); beta: one raw file without a URL;
    notes: a transcribed table without a URL and without a homepage."""
    sources = [
        {
            "id": "alpha",
            "title": "Alpha",
            "publisher": "Test publisher",
            "licence": "CC0-1.0",
            "homepage": "https://example.org/alpha",
            "files": [
                _entry(rel, FILES[rel], f"{url}/{urllib.parse.quote(rel)}" if url else None)
                for rel in ("alpha/one.csv", "alpha/two.csv")
            ],
        },
        {
            "id": "beta",
            "title": "Beta",
            "publisher": "Test publisher",
            "licence": "CC0-1.0",
            "homepage": "https://example.org/beta",
            "files": [_entry(rel, FILES[rel], None) for rel in FILES if rel.startswith("beta/")],
        },
        {
            "id": "notes",
            "title": "Transcribed notes",
            "publisher": "Test",
            "licence": "CC0-1.0",
            "homepage": None,
            "root": "transcribed",
            "files": [_entry("notes.csv", b"a,b\n", None)],
        },
    ]
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def dest(tmp_path) -> Path:
    return tmp_path / "raw"


@pytest.fixture
def registry(tmp_path, server, dest) -> Registry:
    reg_file = write_registry(tmp_path / "sources.yaml", server.url)
    return Registry(raw_dir=dest, transcribed_dir=tmp_path / "transcribed", registry_file=reg_file)


def all_files(directory: Path) -> set[str]:
    """Every file under `directory` (temporary files included: they start with a dot)."""
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


# --- tests -------------------------------------------------------------------------------------


def test_fetch_from_base_url_downloads_every_raw_file(registry, server, dest):
    report = fetch(registry, dest, base_url=server.url + "/")
    assert report.ok
    assert {r.path for r in report.downloaded} == set(FILES)
    # nothing else (no temporary files), plus the marker that a complete fetch writes
    assert all_files(dest) == {*FILES, COMPLETE_MARKER}
    for rel, data in FILES.items():
        assert (dest / rel).read_bytes() == data
    # the transcribed table is reported, never fetched
    [no_url] = report.no_url
    assert no_url.source_id == "notes"
    assert "no download URL; obtain from" in no_url.message
    assert sorted(server.requests) == sorted(FILES)
    assert [s.status for s in registry.status("alpha") + registry.status("beta")] == ["ok"] * 3
    assert "3 downloaded" in report.summary()


def test_fetch_uses_download_url_and_reports_files_without_one(registry, server, dest):
    report = fetch(registry, dest)
    assert report.ok
    assert {r.path for r in report.downloaded} == {"alpha/one.csv", "alpha/two.csv"}
    by_source = {r.source_id: r for r in report.no_url}
    assert set(by_source) == {"beta", "notes"}
    assert "no download URL; obtain from https://example.org/beta" in by_source["beta"].message
    assert "transcribed table" in by_source["notes"].message
    assert not (dest / "beta").exists()


def test_only_limits_the_sources_and_rejects_unknown_ids(registry, server, dest):
    report = fetch(registry, dest, only=["beta"], base_url=server.url)
    assert [r.path for r in report.downloaded] == [next(p for p in FILES if "beta" in p)]
    with pytest.raises(SourceError, match="unknown source id 'nope'"):
        fetch(registry, dest, only=["alpha", "nope"], base_url=server.url)
    assert server.requests == [report.downloaded[0].path]  # the bad call downloaded nothing


def test_wrong_hash_leaves_no_file_and_says_why(registry, server, dest):
    server.behaviour["alpha/one.csv"] = "alter"
    report = fetch(registry, dest, base_url=server.url)
    [failed] = report.failed
    expected = hashlib.sha256(FILES["alpha/one.csv"]).hexdigest()
    assert failed.path == "alpha/one.csv"
    assert "alpha/one.csv" in failed.message
    assert f"{server.url}/alpha/one.csv" in failed.message
    assert f"expected sha256 {expected}" in failed.message
    assert "sha256 of the received" in failed.message
    assert not (dest / "alpha/one.csv").exists()
    assert all_files(dest) == set(FILES) - {"alpha/one.csv"}  # the others went through
    assert not report.ok


def test_dropped_connection_leaves_no_file_and_no_temp_file(registry, server, dest):
    server.behaviour["alpha/two.csv"] = "truncate"
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    [failed] = report.failed
    assert failed.path == "alpha/two.csv"
    total = len(FILES["alpha/two.csv"])
    assert f"connection closed after {total // 2} of {total} bytes" in failed.message
    assert not (dest / "alpha/two.csv").exists()
    assert all_files(dest) == {"alpha/one.csv"}


def test_failed_fetch_into_a_new_directory_leaves_no_directories(registry, server, dest):
    """A non-empty data/raw switches find_raw_dir away from the mirror: leave nothing behind."""
    server.behaviour["alpha/one.csv"] = "truncate"
    (server.root / "alpha/two.csv").unlink()
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    assert len(report.failed) == 2
    assert not dest.exists()


def test_stalled_connection_times_out_without_a_file(registry, server, dest):
    server.behaviour["alpha/two.csv"] = "stall"
    report = fetch(registry, dest, only=["alpha"], base_url=server.url, timeout=0.5)
    [failed] = report.failed
    assert "timed out" in failed.message
    assert all_files(dest) == {"alpha/one.csv"}


def test_http_error_and_unreachable_server_are_clear_failures(registry, server, dest, tmp_path):
    (server.root / "alpha/one.csv").unlink()
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    assert "HTTP 404" in report.failed[0].message
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    report = fetch(
        registry, tmp_path / "other", only=["alpha"], base_url=f"http://127.0.0.1:{port}"
    )
    assert len(report.failed) == 2
    assert all("cannot connect" in r.message for r in report.failed)
    assert not (tmp_path / "other" / "alpha" / "one.csv").exists()


def test_existing_good_file_is_skipped(registry, server, dest):
    good = dest / "alpha/one.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(FILES["alpha/one.csv"])
    os.utime(good, (1_000_000_000, 1_000_000_000))
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    assert [r.path for r in report.skipped] == ["alpha/one.csv"]
    assert [r.path for r in report.downloaded] == ["alpha/two.csv"]
    assert server.requests == ["alpha/two.csv"]
    assert good.stat().st_mtime == 1_000_000_000  # not rewritten


def test_changed_file_is_replaced_by_a_verified_download(registry, server, dest):
    stale = dest / "alpha/one.csv"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an older release of the file\n")
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    assert report.ok
    assert stale.read_bytes() == FILES["alpha/one.csv"]


@pytest.mark.parametrize("how", ["alter", "truncate"])
def test_previous_good_file_is_kept_when_a_forced_redownload_fails(registry, server, dest, how):
    good = dest / "alpha/two.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(FILES["alpha/two.csv"])
    inode = good.stat().st_ino
    server.behaviour["alpha/two.csv"] = how
    report = fetch(registry, dest, only=["alpha"], base_url=server.url, force=True)
    assert [r.path for r in report.failed] == ["alpha/two.csv"]
    assert good.read_bytes() == FILES["alpha/two.csv"]
    assert good.stat().st_ino == inode  # the very same file, not a copy
    assert all_files(dest) == {"alpha/one.csv", "alpha/two.csv"}


def test_previous_file_is_kept_when_an_update_fails(registry, server, dest):
    """A file from an earlier registry version stays as it was if the new one cannot be had."""
    old = dest / "alpha/one.csv"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"the previous release\n")
    server.behaviour["alpha/one.csv"] = "truncate"
    report = fetch(registry, dest, only=["alpha"], base_url=server.url)
    assert [r.path for r in report.failed] == ["alpha/one.csv"]
    assert old.read_bytes() == b"the previous release\n"
    assert all_files(dest) == {"alpha/one.csv", "alpha/two.csv"}


def test_rename_happens_only_after_fsync_and_verification(registry, server, dest, monkeypatch):
    """The final name appears by one os.replace of a complete, synced temp file beside it."""
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd):
        events.append(("fsync",))
        return real_fsync(fd)

    def spy_replace(src, dst):
        src, dst = Path(src), Path(dst)
        events.append(("replace", src.parent == dst.parent, src.name, src.read_bytes()))
        assert not dst.exists()
        return real_replace(src, dst)

    monkeypatch.setattr(fetch_mod.os, "fsync", spy_fsync)
    monkeypatch.setattr(fetch_mod.os, "replace", spy_replace)
    fetch(registry, dest, only=["alpha"], base_url=server.url)
    replaces = [e for e in events if e[0] == "replace"]
    assert len(replaces) == 2
    for _, same_dir, name, data in replaces:
        assert same_dir and name.startswith(".") and name.endswith(".part")
        assert data in (FILES["alpha/one.csv"], FILES["alpha/two.csv"])
    assert events[0] == ("fsync",)  # the file is synced before its rename


def test_download_refuses_a_body_longer_than_registered(server, tmp_path):
    target = tmp_path / "out" / "one.csv"
    data = FILES["alpha/one.csv"]
    with pytest.raises(FetchError, match="more than the registered 3 bytes") as exc:
        download(f"{server.url}/alpha/one.csv", target, "0" * 64, expected_bytes=3)
    assert str(target) in str(exc.value)
    assert not target.exists()
    assert all_files(target.parent) == set()
    download(f"{server.url}/alpha/one.csv", target, hashlib.sha256(data).hexdigest())
    assert target.read_bytes() == data


def test_registered_path_may_not_leave_the_raw_directory(tmp_path, server, dest):
    reg_file = tmp_path / "evil.yaml"
    evil = {
        "id": "evil",
        "title": "t",
        "publisher": "p",
        "licence": "l",
        "files": [_entry("../outside.csv", b"x", f"{server.url}/alpha/one.csv")],
    }
    reg_file.write_text(yaml.safe_dump({"sources": [evil]}), encoding="utf-8")
    report = fetch(Registry(raw_dir=dest, registry_file=reg_file), dest)
    assert "must stay inside the raw directory" in report.failed[0].message
    assert not (tmp_path / "outside.csv").exists()
    assert server.requests == []


# --- the CLI command ---------------------------------------------------------------------------


def test_cli_fetch_reports_and_exits_zero(tmp_path, server, dest, capsys):
    reg = write_registry(tmp_path / "sources.yaml", server.url)
    argv = ["--raw", str(dest), "--registry", str(reg), "fetch", "--base-url", server.url]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "FETCHED  alpha/one.csv <- " in out
    assert "NO URL" in out and "obtain from" in out
    assert "3 downloaded, 0 already present, 1 without download URL, 0 failed" in out
    assert cli.main(argv) == 0  # second run: everything already there
    assert "0 downloaded, 3 already present" in capsys.readouterr().out


def test_cli_fetch_failure_exits_one_naming_file_url_and_hash(tmp_path, server, dest, capsys):
    reg = write_registry(tmp_path / "sources.yaml", server.url)
    server.behaviour["alpha/one.csv"] = "alter"
    rc = cli.main(["--registry", str(reg), "fetch", "--raw", str(dest), "--only", "alpha"])
    assert rc == 1
    err = capsys.readouterr().err
    expected = hashlib.sha256(FILES["alpha/one.csv"]).hexdigest()
    assert "FAILED" in err and "alpha/one.csv" in err and expected in err
    assert f"{server.url}/alpha/one.csv" in err
    assert "Traceback" not in err


def test_cli_fetch_unknown_source_is_one_line_exit_two(tmp_path, server, dest, capsys):
    reg = write_registry(tmp_path / "sources.yaml", server.url)
    rc = cli.main(["--raw", str(dest), "--registry", str(reg), "fetch", "--only", "nope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.strip() == "skillnader fetch: error: unknown source id 'nope'"


def test_cli_fetch_writes_to_data_raw_by_default(tmp_path, server, monkeypatch, capsys):
    monkeypatch.delenv("SKILLNADER_RAW", raising=False)
    monkeypatch.setattr(cli, "FETCH_DIR", tmp_path / "default_raw")
    reg = write_registry(tmp_path / "sources.yaml", server.url)
    assert cli.main(["--registry", str(reg), "fetch", "--only", "alpha"]) == 0
    assert all_files(tmp_path / "default_raw") == {"alpha/one.csv", "alpha/two.csv"}


# --- the real registry against a copy of a few small mirror files -------------------------------


@pytest.mark.mirror
def test_real_registry_source_fetches_from_a_served_mirror_copy(tmp_path, server):
    source_id = "stockholm_sdo_2020_boundaries"  # five small shapefile parts, ~170 kB
    registry = Registry(raw_dir=tmp_path / "raw")
    files = registry[source_id].files
    if not all((SHARED_RAW / f.path).is_file() for f in files):
        pytest.skip(f"data mirror not found at {SHARED_RAW}")
    for f in files:
        (server.root / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_RAW / f.path, server.root / f.path)
    report = fetch(registry, tmp_path / "raw", only=[source_id], base_url=server.url)
    assert report.ok and len(report.downloaded) == len(files)
    assert registry.files(source_id)  # verified by the registry itself
