"""Download the registered source files into a raw directory, verified and atomically.

`fetch(registry, dest)` downloads every file of the registry (or of the sources named in `only`)
from its `download_url`, or from `<base_url>/<file path>` when `base_url` is given (a mirror of a
raw directory, or a test server), into `dest/<file path>`.

Each file is written atomically: the body is streamed into a temporary file in the destination's
own directory while its sha256 is computed, the temporary file is flushed and fsynced, its size
and hash are checked against the registry, and only then is it renamed onto the final name with
`os.replace` (atomic within one file system). A wrong hash, a short body, an HTTP error or a
dropped connection therefore leaves nothing under the final name, removes the temporary file,
and leaves any file that was already there untouched. A file already present with the registered
hash is not downloaded again (unless `force=True`).

Only the standard library is used (urllib), so fetching needs nothing beyond the registry's own
dependencies.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from data.registry import (
    COMPLETE_MARKER,
    FETCH_DIR,
    FileStatus,
    Registry,
    Source,
    SourceError,
    SourceFile,
    sha256_of,
)

DEFAULT_TIMEOUT = 60.0  # seconds without progress on one socket operation
CHUNK = 1 << 16
USER_AGENT = "skillnader-fetch/0.1 (+python urllib)"

Status = Literal["downloaded", "skipped", "no_url", "failed"]


class FetchError(SourceError):
    """One file could not be downloaded and verified; nothing was written under its final name."""


@dataclass(frozen=True)
class FetchResult:
    source_id: str
    path: str  # as registered, relative to the destination directory
    status: Status
    url: str | None = None
    message: str = ""

    def describe(self) -> str:
        label = {"downloaded": "FETCHED", "skipped": "OK", "no_url": "NO URL", "failed": "FAILED"}
        return f"{label[self.status]:<8} {self.message or self.path}"


@dataclass
class FetchReport:
    dest: Path
    results: list[FetchResult] = field(default_factory=list)

    def by_status(self, status: Status) -> list[FetchResult]:
        return [r for r in self.results if r.status == status]

    @property
    def downloaded(self) -> list[FetchResult]:
        return self.by_status("downloaded")

    @property
    def skipped(self) -> list[FetchResult]:
        return self.by_status("skipped")

    @property
    def no_url(self) -> list[FetchResult]:
        return self.by_status("no_url")

    @property
    def failed(self) -> list[FetchResult]:
        return self.by_status("failed")

    @property
    def ok(self) -> bool:
        """True when no download failed (files without a URL are reported, not failures)."""
        return not self.failed

    def summary(self) -> str:
        counts = Counter(r.status for r in self.results)
        return (
            f"{len(self.results)} files into {self.dest}: {counts['downloaded']} downloaded, "
            f"{counts['skipped']} already present, {counts['no_url']} without download URL, "
            f"{counts['failed']} failed"
        )


def selected_sources(registry: Registry, only: Iterable[str] | None = None) -> list[Source]:
    """The sources named in `only` (all when None); an unknown id raises SourceError."""
    if only is None:
        return list(registry.sources.values())
    if isinstance(only, str):
        only = [only]
    return [registry[sid] for sid in dict.fromkeys(only)]


def verify(registry: Registry, only: Iterable[str] | None = None) -> list[FileStatus]:
    """Status (ok / missing / changed) of every registered file of the selected sources."""
    return [st for s in selected_sources(registry, only) for st in registry.status(s.id)]


def fetch(
    registry: Registry,
    dest: str | os.PathLike[str] = FETCH_DIR,
    only: Iterable[str] | None = None,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    force: bool = False,
    progress: Callable[[FetchResult], None] | None = None,
) -> FetchReport:
    """Download the selected sources' raw files into `dest`; see the module docstring.

    Per-file failures do not stop the run: they are reported (`report.failed`, each with a
    message naming the file, the URL and the expected sha256) and the caller decides. An unknown
    source id in `only` raises SourceError before anything is downloaded. Transcribed tables
    (root 'transcribed') are never fetched; they are reported like files without a URL.
    """
    dest = Path(dest)
    report = FetchReport(dest)
    for source in selected_sources(registry, only):
        for f in source.files:
            result = _fetch_one(source, f, dest, base_url, timeout, force)
            report.results.append(result)
            if progress is not None:
                progress(result)
    _mark_if_complete(registry, dest)
    return report


def _mark_if_complete(registry: Registry, dest: Path) -> None:
    """Write the marker that makes data/raw the default raw directory, once it holds every
    registered raw file with the right hash; a partial fetch never shadows the mirror."""
    probe = Registry(raw_dir=dest, registry_file=registry.registry_file)
    complete = all(
        st.status == "ok"
        for s in probe.sources.values()
        if s.root == "raw"
        for st in probe.status(s.id)
    )
    if complete:
        (dest / COMPLETE_MARKER).write_text("all registered raw files verified\n", encoding="utf-8")


def _where_to_get(source: Source) -> str:
    return source.homepage or "the publisher named in the registry (no homepage registered)"


def _url_for(source: Source, f: SourceFile, base_url: str | None) -> str | None:
    if source.root != "raw":
        return None
    if base_url:
        return base_url.rstrip("/") + "/" + urllib.parse.quote(f.path)
    return f.download_url or None


def _target(dest: Path, f: SourceFile) -> Path:
    target = dest / f.path
    if f.path.startswith(("/", "\\")) or ".." in Path(f.path).parts:
        raise FetchError(f"{f.path}: registered path must stay inside the raw directory")
    return target


def _fetch_one(
    source: Source, f: SourceFile, dest: Path, base_url: str | None, timeout: float, force: bool
) -> FetchResult:
    url = _url_for(source, f, base_url)
    if url is None:
        kind = "transcribed table" if source.root == "transcribed" else "raw file"
        return FetchResult(
            source.id,
            f.path,
            "no_url",
            None,
            f"{f.path} (source {source.id}, {kind}): no download URL; "
            f"obtain from {_where_to_get(source)}",
        )
    try:
        target = _target(dest, f)
        if not force and target.is_file() and sha256_of(target) == f.sha256:
            return FetchResult(source.id, f.path, "skipped", url, f"{f.path} (already present)")
        download(url, target, f.sha256, expected_bytes=f.bytes, timeout=timeout)
    except FetchError as exc:
        return FetchResult(source.id, f.path, "failed", url, f"source {source.id}: {exc}")
    except OSError as exc:  # the existing file cannot be read
        return FetchResult(
            source.id, f.path, "failed", url, f"source {source.id}: {dest / f.path}: {exc}"
        )
    return FetchResult(source.id, f.path, "downloaded", url, f"{f.path} <- {url}")


def download(
    url: str,
    target: Path,
    sha256: str,
    expected_bytes: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download `url` to `target` atomically, verifying its size and sha256.

    Raises FetchError (naming the file, URL and expected hash) on any failure; then no file
    exists under `target` that was not there before, and no temporary file is left behind.
    """
    target = Path(target)

    def fail(reason: str) -> FetchError:
        return FetchError(
            f"{target}: download from {url} failed: {reason} (expected sha256 {sha256}); "
            "nothing written, any previous file kept"
        )

    # Directories this call creates; removed again on failure, so that a failed fetch leaves
    # the destination as it found it (find_raw_dir treats a non-empty data/raw as fetched).
    created = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    done = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        _remove_empty(created)
        raise fail(f"cannot write into {target.parent}: {exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, received, announced = _stream(url, out, expected_bytes, timeout, fail)
            out.flush()
            os.fsync(out.fileno())
        if announced is not None and received != announced:
            raise fail(f"connection closed after {received} of {announced} bytes")
        if expected_bytes is not None and received != expected_bytes:
            raise fail(f"received {received} bytes, registry says {expected_bytes}")
        actual = digest.hexdigest()
        if actual != sha256:
            raise fail(f"sha256 of the received {received} bytes is {actual}")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the final file should be readable
        os.replace(tmp, target)
        done = True
        _fsync_dir(target.parent)
    except FetchError:
        raise
    except OSError as exc:  # disk full, permission denied, ...
        raise fail(f"{type(exc).__name__}: {exc}") from exc
    finally:
        # Whatever happened (including KeyboardInterrupt), no temporary file stays behind.
        tmp.unlink(missing_ok=True)
        if not done:
            _remove_empty(created)
    return target


def _remove_empty(directories: list[Path]) -> None:
    """Remove the given directories, deepest first, as far as they are empty."""
    for d in directories:
        try:
            d.rmdir()
        except OSError:
            return


def _stream(
    url: str,
    out,
    expected_bytes: int | None,
    timeout: float,
    fail: Callable[[str], FetchError],
) -> tuple[Any, int, int | None]:
    """Copy the body of `url` into `out`, hashing it; returns (digest, bytes, Content-Length)."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            announced = int(length) if length and length.isdigit() else None
            while True:
                chunk = resp.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                if expected_bytes is not None and received > expected_bytes:
                    raise fail(f"server sent more than the registered {expected_bytes} bytes")
    except urllib.error.HTTPError as exc:
        raise fail(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise fail(f"cannot connect: {exc.reason}") from exc
    except TimeoutError as exc:
        raise fail(f"timed out after {received} bytes (timeout {timeout:g} s)") from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        raise fail(f"connection dropped after {received} bytes ({type(exc).__name__})") from exc
    return digest, received, announced


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
