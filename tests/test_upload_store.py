"""data/upload_store.py: round trip, privacy, sharing, atomicity, concurrency, damaged files."""

from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from data import upload_store
from data.upload_store import (
    UploadLimitError,
    UploadStore,
    UploadStoreBusyError,
    UploadStoreError,
    new_session_id,
)
from indicators.uploads import Gazetteer, UploadMeta, parse_upload

# fork where there is one: a spawned child re-imports pandas (seconds on a slow disk); the
# store opens a connection per call, so a forked child shares no database handle.
MP = multiprocessing.get_context(
    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
)
META = UploadMeta(title="Ohälsotal", unit="dagar", direction="lower_is_better", decimals=1)


def make_table(n_years: int = 5, start: int = 2000) -> pd.DataFrame:
    rows = "".join(
        f"{d};{y};{i * 1.5 + y / 1000:.3f}\n".replace(".", ",")
        for y in range(start, start + n_years)
        for i, d in enumerate(["Bromma", "Farsta", "Skarpnäck", "Järva"])
    )
    result = parse_upload("t.csv", ("område;år;värde\n" + rows).encode(), gazetteer=Gazetteer())
    assert result.ok, result.problems
    return result.table


@pytest.fixture
def store(tmp_path) -> UploadStore:
    return UploadStore(tmp_path / "uploads.sqlite")


def count_rows(path: Path, upload_id: str | None = None) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        if upload_id is None:
            return (conn.execute("SELECT count(*) FROM uploads").fetchone()[0],
                    conn.execute("SELECT count(*) FROM upload_values").fetchone()[0])
        return (
            conn.execute("SELECT count(*) FROM uploads WHERE id = ?", (upload_id,)).fetchone()[0],
            conn.execute("SELECT count(*) FROM upload_values WHERE upload_id = ?",
                         (upload_id,)).fetchone()[0],
        )


def test_round_trip(store):
    sid = new_session_id()
    table = make_table()
    upload_id = store.save(sid, META, table, filename="ohälsa.csv")
    got = store.get(upload_id, session_id=sid)
    pd.testing.assert_frame_equal(got.table, table)
    assert got.meta == META and got.division == "sdo11" and got.filename == "ohälsa.csv"
    assert got.is_owner and got.share_token is None
    [summary] = store.list_for_session(sid)
    assert (summary.upload_id, summary.title, summary.unit, summary.n_values, summary.shared) == (
        upload_id, "Ohälsotal", "dagar", len(table), False)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_meta_may_be_a_mapping_and_is_validated(store):
    sid = new_session_id()
    upload_id = store.save(sid, {"title": "T", "unit": "%"}, make_table(1))
    assert store.get(upload_id, sid).meta.direction == "neutral"
    with pytest.raises(ValueError):
        store.save(sid, {"title": "<b>x</b>", "unit": "%"}, make_table(1))


def test_bad_tables_and_sessions_are_refused(store):
    sid = new_session_id()
    table = make_table(1)
    with pytest.raises(ValueError, match="session"):
        store.save("short", META, table)
    with pytest.raises(ValueError, match="duplicate"):
        store.save(sid, META, pd.concat([table, table]))
    with pytest.raises(ValueError, match="finite"):
        store.save(sid, META, table.assign(value=float("inf")))
    with pytest.raises(ValueError, match="division"):
        store.save(sid, META, table.assign(division="atlantis"))
    with pytest.raises(ValueError, match="lacks"):
        store.save(sid, META, table.drop(columns="year"))
    assert store.list_for_session(sid) == []


def test_uploads_are_private_to_their_session(store):
    alice, bob = new_session_id(), new_session_id()
    a = store.save(alice, META, make_table())
    b = store.save(bob, META.model_copy(update={"title": "Bobs"}), make_table(2))
    assert [u.upload_id for u in store.list_for_session(alice)] == [a]
    assert [u.upload_id for u in store.list_for_session(bob)] == [b]
    assert store.get(a, session_id=bob) is None
    assert store.get(a) is None
    assert store.get(a, session_id="x" * 20, share_token="nope" * 8) is None
    assert store.share_token_for(a, bob) is None
    assert store.delete(a, bob) is False
    assert store.get(a, session_id=alice) is not None
    # garbage in ids and sessions is "not found", never an error
    for junk in (None, "", "1' OR '1'='1", "0" * 16, 42):
        assert store.get(junk, session_id=alice) is None
        assert store.list_for_session(junk) == []
        assert store.delete(junk, alice) is False


def test_share_token(store):
    alice, bob = new_session_id(), new_session_id()
    a = store.save(alice, META, make_table())
    token = store.share_token_for(a, alice)
    assert len(token) >= 32 and store.share_token_for(a, alice) == token  # made once
    shared = store.get(a, session_id=bob, share_token=token)
    assert shared is not None and not shared.is_owner and shared.share_token is None
    assert store.find_shared(token).upload_id == a
    assert store.get(a, share_token=token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.list_for_session(alice)[0].shared
    assert store.list_for_session(bob) == []  # opening a shared upload does not copy it
    assert store.get(a, session_id=alice).share_token == token
    assert store.unshare(a, alice)
    assert store.get(a, share_token=token) is None and store.find_shared(token) is None
    assert store.share_token_for(a, alice) != token  # a new link


def test_delete(store):
    sid = new_session_id()
    keep = store.save(sid, META, make_table())
    gone = store.save(sid, META, make_table(3))
    assert store.delete(gone, sid) is True
    assert store.get(gone, sid) is None and count_rows(store.path, gone) == (0, 0)
    assert store.delete(gone, sid) is False
    assert [u.upload_id for u in store.list_for_session(sid)] == [keep]


def test_upload_limit_per_session(tmp_path):
    store = UploadStore(tmp_path / "u.sqlite", max_uploads_per_session=2)
    sid = new_session_id()
    store.save(sid, META, make_table(1))
    store.save(sid, META, make_table(1))
    with pytest.raises(UploadLimitError):
        store.save(sid, META, make_table(1))
    assert count_rows(store.path)[0] == 2
    store.save(new_session_id(), META, make_table(1))  # other sessions are not affected


def test_module_functions_use_the_env_path(tmp_path, monkeypatch):
    monkeypatch.setenv(upload_store.ENV_DB, str(tmp_path / "env.sqlite"))
    sid = new_session_id()
    upload_id = upload_store.save(sid, META, make_table(1))
    assert (tmp_path / "env.sqlite").is_file()
    assert upload_store.get(upload_id, sid).upload_id == upload_id
    assert [u.upload_id for u in upload_store.list_for_session(sid)] == [upload_id]
    token = upload_store.share_token_for(upload_id, sid)
    assert upload_store.get(upload_id, share_token=token) is not None
    assert upload_store.delete(upload_id, sid)


# --- atomicity ------------------------------------------------------------------------------------


def _failing_after(n: int, action):
    real = upload_store._value_rows

    def rows(upload_id, table):
        for i, row in enumerate(real(upload_id, table)):
            if i == n:
                action()
            yield row

    return rows


def test_failure_mid_save_leaves_nothing_and_keeps_earlier_uploads(store, monkeypatch):
    sid = new_session_id()
    earlier = store.save(sid, META, make_table())
    before = count_rows(store.path)

    def crash():
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(upload_store, "_value_rows", _failing_after(3, crash))
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.save(sid, META, make_table(4, start=2010))
    assert count_rows(store.path) == before
    assert [u.upload_id for u in store.list_for_session(sid)] == [earlier]
    pd.testing.assert_frame_equal(store.get(earlier, sid).table, make_table())
    monkeypatch.undo()
    assert store.save(sid, META, make_table(2))  # the database is fine afterwards


def _crash_in_child(path: str, session_id: str) -> None:
    """Runs in a child process: dies (no cleanup, no rollback) in the middle of a save."""
    upload_store._value_rows = _failing_after(5, lambda: os._exit(3))
    UploadStore(path).save(session_id, META, make_table(4, start=2010))


def test_process_killed_mid_save_leaves_nothing(store):
    sid = new_session_id()
    earlier = store.save(sid, META, make_table())
    before = count_rows(store.path)
    ctx = MP
    child = ctx.Process(target=_crash_in_child, args=(str(store.path), sid))
    child.start()
    child.join(60)
    assert child.exitcode == 3
    assert count_rows(store.path) == before
    assert [u.upload_id for u in store.list_for_session(sid)] == [earlier]
    assert store.save(sid, META, make_table(1))


# --- several processes ----------------------------------------------------------------------------


def _writer(path: str, session_id: str, n: int, barrier) -> None:
    store = UploadStore(path)
    barrier.wait(30)
    for i in range(n):
        store.save(session_id, META, make_table(3, start=2000 + i))


def test_processes_writing_concurrently(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = MP
    sessions = [new_session_id() for _ in range(3)]
    barrier = ctx.Barrier(3)
    workers = [ctx.Process(target=_writer, args=(path, s, 15, barrier)) for s in sessions[1:]]
    for w in workers:
        w.start()
    _writer(path, sessions[0], 15, barrier)  # this process writes at the same time
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    store = UploadStore(path)
    for s in sessions:
        listed = store.list_for_session(s)
        assert len(listed) == 15
        for u in listed:
            assert len(store.get(u.upload_id, s).table) == u.n_values == 12
    assert store.check() is None


def test_busy_database_gives_a_busy_error(tmp_path):
    store = UploadStore(tmp_path / "busy.sqlite", busy_timeout=0.2)
    sid = new_session_id()
    store.save(sid, META, make_table(1))
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(UploadStoreBusyError, match=re.escape(str(store.path))):
            store.save(sid, META, make_table(1))
        assert len(store.list_for_session(sid)) == 1  # readers are not blocked (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# --- damaged files --------------------------------------------------------------------------------


def test_garbage_file_gives_a_clear_error_naming_it(tmp_path):
    path = tmp_path / "uploads.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)
    store = UploadStore(path)
    for call in (lambda: store.list_for_session(new_session_id()),
                 lambda: store.save(new_session_id(), META, make_table(1)),
                 lambda: store.get("0123456789abcdef", new_session_id())):
        with pytest.raises(UploadStoreError, match=r"uploads\.sqlite") as info:
            call()
        assert str(path) in str(info.value) and "not a database" in str(info.value)
        assert info.value.path == path
    assert path.read_bytes().startswith(b"this is not")  # never overwritten


def test_damaged_pages_give_a_clear_error(tmp_path):
    path = tmp_path / "uploads.sqlite"
    store = UploadStore(path)
    sid = new_session_id()
    upload_id = store.save(sid, META, make_table(100, start=1950))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data), page):  # keep the header page, wreck the rest
        data[start:start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    fresh = UploadStore(path)
    for call in (lambda: fresh.get(upload_id, sid), lambda: fresh.list_for_session(sid),
                 fresh.check):
        with pytest.raises(UploadStoreError, match=re.escape(str(path))):
            call()


def test_directory_that_cannot_hold_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = UploadStore(blocker / "uploads.sqlite")  # parent is a file
    with pytest.raises(UploadStoreError, match=r"uploads\.sqlite"):
        store.list_for_session(new_session_id())
