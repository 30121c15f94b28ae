"""Uploaded indicators, kept in SQLite and private to the browser session that uploaded them.

The database is one file (default data/uploads.sqlite; $SKILLNADER_UPLOAD_DB overrides) in WAL
mode, shared by every gunicorn worker of the app: writers wait for each other up to
BUSY_TIMEOUT_S (BEGIN IMMEDIATE takes the write lock up front, so two writers never deadlock
on a lock upgrade), readers never wait for writers. WAL needs a local file system (not NFS).

- An upload is saved in ONE transaction (metadata row and every value row) with
  synchronous=FULL: a crash mid-save leaves nothing of that upload, and an upload whose save
  returned survives a crash or power cut.
- An upload belongs to a session id (a random token the app keeps in a cookie; see
  `new_session_id`). Only a hash of the session id is stored, so a copy of the database does
  not hand out sessions. The owner may share it by a separate unguessable token
  (`share_token_for`, 192 bits); without the owner's session or that token `get` returns None,
  exactly as for an upload that does not exist.
- Every database failure is raised as UploadStoreError (UploadStoreBusyError when the lock
  wait ran out) with a message naming the file: a damaged file never surfaces as a bare
  sqlite3 traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from data.registry import PROJECT_ROOT
from indicators.uploads import (
    DIVISION_PREFERENCE,
    MAX_ROWS,
    SEXES,
    TABLE_COLUMNS,
    YEAR_MAX,
    YEAR_MIN,
    UploadMeta,
)

log = logging.getLogger(__name__)

ENV_DB = "SKILLNADER_UPLOAD_DB"
DEFAULT_PATH = PROJECT_ROOT / "data" / "uploads.sqlite"
BUSY_TIMEOUT_S = 15.0
MAX_UPLOADS_PER_SESSION = 50
SCHEMA_VERSION = 1
_ID = re.compile(r"^[0-9a-f]{16}$")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        session_hash TEXT NOT NULL,
        share_token TEXT UNIQUE,
        created_at TEXT NOT NULL,
        division TEXT NOT NULL,
        meta TEXT NOT NULL,
        filename TEXT NOT NULL DEFAULT '',
        n_values INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS uploads_by_session ON uploads (session_hash, created_at)",
    """CREATE TABLE IF NOT EXISTS upload_values (
        upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        district_code TEXT NOT NULL,
        district_name TEXT NOT NULL,
        year INTEGER NOT NULL,
        sex TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (upload_id, district_code, year, sex)
    ) WITHOUT ROWID""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


class UploadStoreError(RuntimeError):
    """The upload database cannot be used; the message names the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class UploadStoreBusyError(UploadStoreError):
    """Other processes held the database longer than the busy timeout; try again."""


class UploadLimitError(Exception):
    """The session already has MAX_UPLOADS_PER_SESSION uploads."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a session may keep at most {limit} uploads; delete one first")
        self.limit = limit


@dataclass(frozen=True)
class UploadSummary:
    upload_id: str
    title: str
    unit: str
    division: str
    filename: str
    created_at: datetime
    n_values: int
    shared: bool


@dataclass(frozen=True)
class StoredUpload:
    upload_id: str
    meta: UploadMeta
    division: str
    filename: str
    created_at: datetime
    table: pd.DataFrame  # TABLE_COLUMNS, in the order it was saved
    is_owner: bool
    share_token: str | None  # only for the owner


def new_session_id() -> str:
    """A fresh session id for the app's cookie (256 random bits)."""
    return secrets.token_urlsafe(32)


def _session_hash(session_id: Any) -> str | None:
    """Hash of a plausible session id, or None (too short, too long, not text)."""
    if not isinstance(session_id, str) or not 16 <= len(session_id) <= 256:
        return None
    return hashlib.sha256(b"skillnader-upload-session\0" + session_id.encode()).hexdigest()


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def _checked_table(table: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """(division, table) after checking what parse_upload guarantees; ValueError otherwise."""
    if "sex" not in table.columns:
        table = table.assign(sex="total")
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"upload table lacks columns {missing}")
    table = table.loc[:, list(TABLE_COLUMNS)].reset_index(drop=True)
    if table.empty:
        raise ValueError("upload table is empty")
    if len(table) > MAX_ROWS:
        raise ValueError(f"upload table has {len(table)} rows, more than {MAX_ROWS}")
    if table.isna().any().any():
        raise ValueError("upload table has missing cells")
    divisions = table["division"].unique()
    if len(divisions) != 1 or divisions[0] not in DIVISION_PREFERENCE:
        raise ValueError(f"upload table must hold one known division, not {list(divisions)}")
    values = pd.to_numeric(table["value"], errors="coerce")
    if values.isna().any() or not all(math.isfinite(v) for v in values):
        raise ValueError("upload table has values that are not finite numbers")
    years = pd.to_numeric(table["year"], errors="coerce")
    if years.isna().any() or not years.between(YEAR_MIN, YEAR_MAX).all():
        raise ValueError(f"upload table has years outside {YEAR_MIN}-{YEAR_MAX}")
    if not table["sex"].isin(SEXES).all():
        raise ValueError(f"upload table has sexes other than {SEXES}")
    if table.duplicated(["district_code", "year", "sex"]).any():
        raise ValueError("upload table has duplicate district-year-sex rows")
    return str(divisions[0]), table


def _value_rows(upload_id: str, table: pd.DataFrame) -> Iterator[tuple]:
    """The value rows of one upload, as inserted (tests break this to simulate a crash)."""
    for i, row in enumerate(table.itertuples(index=False)):
        yield (
            upload_id, i, str(row.district_code), str(row.district_name), int(row.year),
            str(row.sex), float(row.value),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class UploadStore:
    def __init__(self, path: str | os.PathLike, busy_timeout: float = BUSY_TIMEOUT_S,
                 max_uploads_per_session: int = MAX_UPLOADS_PER_SESSION) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.max_uploads_per_session = max_uploads_per_session
        self._ready = False
        self._lock = threading.Lock()

    # --- connections and errors ---------------------------------------------------------------

    def _error(self, exc: BaseException) -> UploadStoreError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return UploadStoreBusyError(
                self.path,
                f"the upload database {self.path} is busy (waited {self.busy_timeout:g} s for "
                f"other processes): {text}; try again",
            )
        return UploadStoreError(
            self.path,
            f"the upload database {self.path} cannot be used: {text}. If the file is damaged, "
            "move it away (the app then starts an empty one) or restore it from a backup.",
        )

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                self._init_schema(conn)
            yield conn
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from exc
        finally:
            if conn is not None:
                conn.close()

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if self._ready:
                return
            deadline = time.monotonic() + self.busy_timeout
            while True:  # changing the journal mode does not wait on the busy handler
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                log.warning("upload database %s: journal mode is %s, not WAL", self.path, mode)
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise UploadStoreError(
                        self.path,
                        f"the upload database {self.path} has schema version {version}, newer "
                        f"than this app's {SCHEMA_VERSION}",
                    )
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            self._ready = True

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    # --- API ------------------------------------------------------------------------------------

    def save(
        self,
        session_id: str,
        meta: UploadMeta | Mapping[str, Any],
        table: pd.DataFrame,
        *,
        filename: str = "",
    ) -> str:
        """Store an accepted upload (parse_upload's table) for the session; its id.

        ValueError for a bad session id, metadata or table; UploadLimitError when the session
        has too many uploads; UploadStoreError when the database fails.
        """
        session_hash = _session_hash(session_id)
        if session_hash is None:
            raise ValueError("session id must be a text of 16 to 256 characters")
        meta = meta if isinstance(meta, UploadMeta) else UploadMeta.model_validate(dict(meta))
        division, table = _checked_table(table)
        upload_id = secrets.token_hex(8)
        with self._transaction(write=True) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM uploads WHERE session_hash = ?", (session_hash,)
            ).fetchone()
            if count >= self.max_uploads_per_session:
                raise UploadLimitError(self.max_uploads_per_session)
            conn.execute(
                "INSERT INTO uploads (id, session_hash, share_token, created_at, division, meta, "
                "filename, n_values) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
                (upload_id, session_hash, _now(), division, meta.model_dump_json(),
                 str(filename or "")[:255], len(table)),
            )
            conn.executemany(
                "INSERT INTO upload_values (upload_id, ord, district_code, district_name, year, "
                "sex, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _value_rows(upload_id, table),
            )
        return upload_id

    def list_for_session(self, session_id: str) -> list[UploadSummary]:
        """The session's uploads, newest first."""
        session_hash = _session_hash(session_id)
        if session_hash is None:
            return []
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT id, meta, division, filename, created_at, n_values, share_token "
                "FROM uploads WHERE session_hash = ? ORDER BY created_at DESC, rowid DESC",
                (session_hash,),
            ).fetchall()
        out = []
        for upload_id, meta_json, division, filename, created, n_values, token in rows:
            meta = self._meta(meta_json)
            out.append(UploadSummary(upload_id, meta.title, meta.unit, division, filename,
                                     datetime.fromisoformat(created), n_values, token is not None))
        return out

    def get(
        self, upload_id: str, session_id: str | None = None, share_token: str | None = None
    ) -> StoredUpload | None:
        """The upload, if `session_id` owns it or `share_token` is its share token; else None."""
        if not isinstance(upload_id, str) or not _ID.match(upload_id):
            return None
        session_hash = _session_hash(session_id)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT session_hash, share_token, created_at, division, meta, filename, "
                "n_values FROM uploads WHERE id = ?",
                (upload_id,),
            ).fetchone()
            if row is None:
                return None
            owner_hash, token, created, division, meta_json, filename, n_values = row
            is_owner = _same(session_hash, owner_hash)
            shared = isinstance(share_token, str) and _same(share_token, token)
            if not (is_owner or shared):
                return None
            values = conn.execute(
                "SELECT district_code, district_name, year, sex, value FROM upload_values "
                "WHERE upload_id = ? ORDER BY ord",
                (upload_id,),
            ).fetchall()
        if len(values) != n_values:
            raise UploadStoreError(
                self.path,
                f"the upload database {self.path} holds {len(values)} values of upload "
                f"{upload_id}, which was saved with {n_values}: the file is damaged",
            )
        table = pd.DataFrame.from_records(values, columns=list(TABLE_COLUMNS[1:]))
        table.insert(0, "division", division)
        table["year"] = table["year"].astype("int16")
        table["value"] = table["value"].astype("float64")
        return StoredUpload(
            upload_id, self._meta(meta_json), division, filename,
            datetime.fromisoformat(created), table, is_owner, token if is_owner else None,
        )

    def find_shared(self, share_token: str) -> StoredUpload | None:
        """The upload a share link's token opens (None for an unknown token)."""
        if not isinstance(share_token, str) or not 16 <= len(share_token) <= 64:
            return None
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT id FROM uploads WHERE share_token = ?", (share_token,)
            ).fetchone()
        return self.get(row[0], share_token=share_token) if row else None

    def share_token_for(self, upload_id: str, session_id: str) -> str | None:
        """The upload's share token, made on first call; None unless the session owns it."""
        session_hash = _session_hash(session_id)
        if session_hash is None or not isinstance(upload_id, str) or not _ID.match(upload_id):
            return None
        with self._transaction(write=True) as conn:
            row = conn.execute(
                "SELECT session_hash, share_token FROM uploads WHERE id = ?", (upload_id,)
            ).fetchone()
            if row is None or not _same(session_hash, row[0]):
                return None
            if row[1] is not None:
                return row[1]
            token = secrets.token_urlsafe(24)
            conn.execute("UPDATE uploads SET share_token = ? WHERE id = ?", (token, upload_id))
            return token

    def unshare(self, upload_id: str, session_id: str) -> bool:
        """Revoke the share token (old links stop working); False unless the session owns it."""
        return self._owned_update(
            upload_id, session_id, ("UPDATE uploads SET share_token = NULL WHERE id = ?",)
        )

    def delete(self, upload_id: str, session_id: str) -> bool:
        """Delete the upload and its values; False unless the session owns it."""
        return self._owned_update(
            upload_id,
            session_id,
            ("DELETE FROM upload_values WHERE upload_id = ?", "DELETE FROM uploads WHERE id = ?"),
        )

    def _owned_update(self, upload_id: str, session_id: str, statements: tuple[str, ...]) -> bool:
        session_hash = _session_hash(session_id)
        if session_hash is None or not isinstance(upload_id, str) or not _ID.match(upload_id):
            return False
        with self._transaction(write=True) as conn:
            row = conn.execute(
                "SELECT session_hash FROM uploads WHERE id = ?", (upload_id,)
            ).fetchone()
            if row is None or not _same(session_hash, row[0]):
                return False
            for statement in statements:
                conn.execute(statement, (upload_id,))
            return True

    def check(self) -> None:
        """Full integrity check (reads every page); raises UploadStoreError naming the file."""
        with self._connection() as conn:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise UploadStoreError(
                self.path,
                f"the upload database {self.path} is damaged: {'; '.join(problems)}. Move it "
                "away (the app then starts an empty one) or restore it from a backup.",
            )

    def _meta(self, meta_json: str) -> UploadMeta:
        try:
            return UploadMeta.model_validate_json(meta_json)
        except ValueError as exc:
            raise UploadStoreError(
                self.path, f"the upload database {self.path} holds unreadable metadata: {exc}"
            ) from exc


# --- module-level API on the default database ------------------------------------------------

_STORES: dict[Path, UploadStore] = {}
_STORES_LOCK = threading.Lock()


def db_path() -> Path:
    return Path(os.environ.get(ENV_DB) or DEFAULT_PATH)


def default_store() -> UploadStore:
    """The store at $SKILLNADER_UPLOAD_DB (else data/uploads.sqlite), one per path."""
    path = db_path().resolve()
    with _STORES_LOCK:
        if path not in _STORES:
            _STORES[path] = UploadStore(path)
        return _STORES[path]


def save(session_id: str, meta: UploadMeta | Mapping[str, Any], table: pd.DataFrame,
         *, filename: str = "") -> str:
    return default_store().save(session_id, meta, table, filename=filename)


def list_for_session(session_id: str) -> list[UploadSummary]:
    return default_store().list_for_session(session_id)


def get(upload_id: str, session_id: str | None = None,
        share_token: str | None = None) -> StoredUpload | None:
    return default_store().get(upload_id, session_id=session_id, share_token=share_token)


def find_shared(share_token: str) -> StoredUpload | None:
    return default_store().find_shared(share_token)


def share_token_for(upload_id: str, session_id: str) -> str | None:
    return default_store().share_token_for(upload_id, session_id)


def unshare(upload_id: str, session_id: str) -> bool:
    return default_store().unshare(upload_id, session_id)


def delete(upload_id: str, session_id: str) -> bool:
    return default_store().delete(upload_id, session_id)
