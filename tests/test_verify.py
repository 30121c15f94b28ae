"""`skillnader verify` and data.fetch.verify on a tiny registry of files made in tmp_path; plus
the CLI's exit codes and its lazy build / serve commands."""

from __future__ import annotations

import hashlib
import os
import sys
import types
from pathlib import Path

import pytest
import yaml

import cli
from data.fetch import verify
from data.registry import SHARED_RAW, Registry, SourceError

FILES = {
    "one": {"one/a.csv": b"a,b\n1,2\n", "one/b.csv": b"c,d\n3,4\n"},
    "two": {"two/c.txt": b"hello\n"},
}
TRANSCRIBED = {"table.csv": b"indicator_id,value\nx,1\n"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def layout(tmp_path):
    """raw/ and transcribed/ holding every registered file, and the registry YAML."""
    raw, transcribed = tmp_path / "raw", tmp_path / "transcribed"
    sources = []
    for sid, files in FILES.items():
        for rel, data in files.items():
            (raw / rel).parent.mkdir(parents=True, exist_ok=True)
            (raw / rel).write_bytes(data)
        sources.append(_source(sid, files))
    transcribed.mkdir()
    for rel, data in TRANSCRIBED.items():
        (transcribed / rel).write_bytes(data)
    sources.append(_source("tab", TRANSCRIBED, root="transcribed"))
    reg = tmp_path / "sources.yaml"
    reg.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return types.SimpleNamespace(raw=raw, transcribed=transcribed, registry_file=reg)


def _source(sid: str, files: dict[str, bytes], root: str = "raw") -> dict:
    return {
        "id": sid,
        "title": sid,
        "publisher": "Test",
        "licence": "CC0-1.0",
        "root": root,
        "files": [{"path": p, "sha256": sha(d), "bytes": len(d)} for p, d in files.items()],
    }


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("SKILLNADER_RAW", raising=False)
    monkeypatch.delenv("SKILLNADER_TRANSCRIBED", raising=False)


def run(layout, *args: str) -> list[str]:
    return ["--raw", str(layout.raw), "--registry", str(layout.registry_file), *args]


# --- data.fetch.verify -------------------------------------------------------------------------


def test_verify_reports_ok_missing_and_changed(layout):
    registry = Registry(raw_dir=layout.raw, registry_file=layout.registry_file)
    assert {st.status for st in verify(registry)} == {"ok"}
    (layout.raw / "one/a.csv").unlink()
    (layout.raw / "two/c.txt").write_bytes(b"hello, changed\n")
    status = {st.path.name: st for st in verify(registry)}
    assert status["a.csv"].status == "missing"
    assert status["c.txt"].status == "changed"
    assert status["c.txt"].actual == sha(b"hello, changed\n")
    assert status["b.csv"].status == status["table.csv"].status == "ok"
    assert [st.path.name for st in verify(registry, only=["two"])] == ["c.txt"]
    with pytest.raises(SourceError, match="unknown source id"):
        verify(registry, only=["nope"])


# --- skillnader verify -------------------------------------------------------------------------


def test_cli_verify_all_ok_exits_zero_with_counts_per_source(layout, capsys):
    assert cli.main(run(layout, "verify")) == 0
    out = capsys.readouterr().out
    assert "OK       one: 2/2 files OK" in out
    assert "OK       two: 1/1 files OK" in out
    assert "OK       tab: 1/1 files OK" in out
    assert "4 files: 4 OK, 0 MISSING, 0 CHANGED" in out
    assert "one/a.csv" not in out  # OK files are counted, not listed
    assert str(layout.raw) in out


def test_cli_verify_missing_exits_one_and_names_file_and_hash(layout, capsys):
    (layout.raw / "one/b.csv").unlink()
    assert cli.main(run(layout, "verify")) == 1
    captured = capsys.readouterr()
    assert "BAD      one: 1/2 files OK" in captured.out
    line = next(ln for ln in captured.out.splitlines() if "MISSING" in ln and "b.csv" in ln)
    assert str(layout.raw / "one/b.csv") in line
    assert f"expected sha256 {sha(FILES['one']['one/b.csv'])}" in line
    assert "4 files: 3 OK, 1 MISSING, 0 CHANGED" in captured.out
    assert "skillnader fetch" in captured.err


def test_cli_verify_changed_exits_one_with_both_hashes(layout, capsys):
    (layout.transcribed / "table.csv").write_bytes(b"edited by hand\n")
    assert cli.main(run(layout, "verify")) == 1
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "CHANGED" in ln and "table.csv" in ln)
    assert sha(b"edited by hand\n") in line
    assert f"expected {sha(TRANSCRIBED['table.csv'])}" in line
    assert "4 files: 3 OK, 0 MISSING, 1 CHANGED" in out


def test_cli_verify_only_and_raw_after_the_subcommand(layout, capsys):
    (layout.raw / "one/a.csv").unlink()
    argv = ["--registry", str(layout.registry_file), "verify", "--raw", str(layout.raw)]
    assert cli.main([*argv, "--only", "two", "tab"]) == 0
    assert "2 files: 2 OK" in capsys.readouterr().out
    assert cli.main([*argv, "--only", "one"]) == 1


def test_cli_verify_raw_from_environment(layout, monkeypatch, capsys):
    monkeypatch.setenv("SKILLNADER_RAW", str(layout.raw))
    assert cli.main(["--registry", str(layout.registry_file), "verify"]) == 0
    assert str(layout.raw) in capsys.readouterr().out


def test_cli_source_error_is_one_line_and_exit_two(layout, capsys):
    assert cli.main(run(layout, "verify", "--only", "nope")) == 2
    captured = capsys.readouterr()
    assert captured.err == "skillnader verify: error: unknown source id 'nope'\n"
    assert captured.out == ""


def test_cli_requires_a_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.mirror
def test_cli_verify_real_registry_against_the_mirror(capsys):
    if not SHARED_RAW.is_dir():
        pytest.skip(f"data mirror not found at {SHARED_RAW}")
    assert cli.main(["--raw", str(SHARED_RAW), "verify"]) == 0, capsys.readouterr().err


# --- build and serve: lazy imports -------------------------------------------------------------


def _fake_module(monkeypatch, name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_cli_build_calls_indicators_build_run(layout, tmp_path, monkeypatch, capsys):
    calls = []
    _fake_module(monkeypatch, "indicators.build", run=lambda reg, out: calls.append((reg, out)))
    out_dir = tmp_path / "build"
    assert cli.main(run(layout, "build", "--out", str(out_dir))) == 0
    [(registry, out)] = calls
    assert isinstance(registry, Registry) and registry.raw_dir == layout.raw
    assert set(registry.sources) == {"one", "two", "tab"}
    assert out == out_dir
    assert f"built into {out_dir}" in capsys.readouterr().out


def test_cli_build_source_error_is_one_line_exit_two(layout, monkeypatch, capsys):
    (layout.raw / "two/c.txt").unlink()

    def run_build(registry, out_dir):
        registry.files("two")  # raises SourceError: the file is missing

    _fake_module(monkeypatch, "indicators.build", run=run_build)
    assert cli.main(run(layout, "build")) == 2
    err = capsys.readouterr().err
    assert err.startswith("skillnader build: error: MISSING")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sha(FILES["two"]["two/c.txt"]) in err


def test_cli_build_without_the_module_is_a_clear_error(layout, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "indicators.build", None)  # import: ModuleNotFoundError
    assert cli.main(run(layout, "build")) == 2
    err = capsys.readouterr().err
    assert err == "skillnader build: error: module 'indicators.build' is not available here\n"


def test_cli_serve_runs_app_with_safe_defaults(layout, monkeypatch):
    calls = []
    fake_app = types.SimpleNamespace(run=lambda **kw: calls.append(kw))
    _fake_module(monkeypatch, "app", app=fake_app)
    monkeypatch.setenv("SKILLNADER_RAW", "")  # serve exports --raw for the app's own Registry
    assert cli.main(run(layout, "serve")) == 0
    assert calls == [{"host": "127.0.0.1", "port": 8050, "debug": False}]
    assert os.environ["SKILLNADER_RAW"] == str(Path(layout.raw).resolve())
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "9000", "--debug"]) == 0
    assert calls[-1] == {"host": "0.0.0.0", "port": 9000, "debug": True}
