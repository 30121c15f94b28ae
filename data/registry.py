"""The source registry: which files the build may read, where they come from, and their hashes.

Every loader asks for its files through `Registry.files(source_id)`, which checks each file's
sha256 before handing out its path, so a changed or truncated file never reaches a loader.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGISTRY_FILE = Path(__file__).resolve().parent / "sources.yaml"
FETCH_DIR = PROJECT_ROOT / "data" / "raw"
SHARED_RAW = PROJECT_ROOT.parent / "shared" / "data" / "raw"
ENV_RAW = "SKILLNADER_RAW"
ENV_TRANSCRIBED = "SKILLNADER_TRANSCRIBED"
# Written by `skillnader fetch` once data/raw holds every registered raw file.
COMPLETE_MARKER = ".complete"


class SourceError(RuntimeError):
    """A registered source file is missing, changed or unreadable."""


class SourceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="Path relative to the source's root directory")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)
    download_url: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    publisher: str
    licence: str
    homepage: str | None = None
    root: Literal["raw", "transcribed"] = "raw"
    note: str = ""
    files: tuple[SourceFile, ...]


class RegistryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_raw_dir(cli_value: str | os.PathLike | None = None) -> Path:
    """The raw directory, in order: --raw DIR, $SKILLNADER_RAW, data/raw (once fetched
    completely), ../shared/data/raw."""
    if cli_value:
        return Path(cli_value).resolve()
    if os.environ.get(ENV_RAW):
        return Path(os.environ[ENV_RAW]).resolve()
    if (FETCH_DIR / COMPLETE_MARKER).is_file():
        return FETCH_DIR
    return SHARED_RAW


def find_transcribed_dir(raw_dir: Path) -> Path:
    """Transcribed tables: $SKILLNADER_TRANSCRIBED, else beside the raw directory, else the
    shared mirror's."""
    if os.environ.get(ENV_TRANSCRIBED):
        return Path(os.environ[ENV_TRANSCRIBED]).resolve()
    beside = raw_dir.parent / "transcribed"
    return beside if beside.is_dir() else SHARED_RAW.parent / "transcribed"


@dataclass(frozen=True)
class FileStatus:
    source_id: str
    path: Path
    status: Literal["ok", "missing", "changed"]
    expected: str
    actual: str | None = None

    def describe(self) -> str:
        if self.status == "ok":
            return f"OK       {self.path}"
        if self.status == "missing":
            return (
                f"MISSING  {self.path} (source {self.source_id}, "
                f"expected sha256 {self.expected})"
            )
        return (
            f"CHANGED  {self.path} (source {self.source_id}): sha256 is {self.actual}, "
            f"expected {self.expected}"
        )


class Registry:
    """Registered sources, resolved against a raw directory (and its transcribed sibling)."""

    def __init__(
        self,
        raw_dir: Path | None = None,
        transcribed_dir: Path | None = None,
        registry_file: Path = REGISTRY_FILE,
    ) -> None:
        self.registry_file = Path(registry_file)
        self.raw_dir = Path(raw_dir) if raw_dir else find_raw_dir()
        self.transcribed_dir = (
            Path(transcribed_dir) if transcribed_dir else find_transcribed_dir(self.raw_dir)
        )
        data = yaml.safe_load(registry_file.read_text(encoding="utf-8"))
        self.sources: dict[str, Source] = {
            s.id: s for s in RegistryModel.model_validate(data).sources
        }
        self._verified: set[Path] = set()

    def __getitem__(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            raise SourceError(f"unknown source id {source_id!r}") from None

    def root_of(self, source: Source) -> Path:
        return self.raw_dir if source.root == "raw" else self.transcribed_dir

    def status(self, source_id: str) -> list[FileStatus]:
        source = self[source_id]
        out = []
        for f in source.files:
            path = self.root_of(source) / f.path
            if not path.is_file():
                out.append(FileStatus(source_id, path, "missing", f.sha256))
                continue
            actual = sha256_of(path)
            state = "ok" if actual == f.sha256 else "changed"
            out.append(FileStatus(source_id, path, state, f.sha256, actual))
        return out

    def files(self, source_id: str) -> list[Path]:
        """Verified paths of a source's files; raises SourceError naming the first bad file."""
        source = self[source_id]
        paths = [self.root_of(source) / f.path for f in source.files]
        if all(p in self._verified for p in paths):
            return paths
        for st in self.status(source_id):
            if st.status != "ok":
                raise SourceError(st.describe())
        self._verified.update(paths)
        return paths

    def file(self, source_id: str, name: str | None = None) -> Path:
        """The one verified file of a source, or the one whose path ends with `name`."""
        paths = self.files(source_id)
        if name is None:
            if len(paths) != 1:
                raise SourceError(f"source {source_id} has {len(paths)} files; name one")
            return paths[0]
        matches = [p for p in paths if p.as_posix().endswith(name)]
        if len(matches) != 1:
            raise SourceError(f"source {source_id} has no single file ending in {name!r}")
        return matches[0]

    @cached_property
    def fingerprint(self) -> str:
        """One hash over all registered file hashes: identifies the data a build used."""
        digest = hashlib.sha256()
        for sid in sorted(self.sources):
            for f in self.sources[sid].files:
                digest.update(f"{sid}:{f.path}:{f.sha256}\n".encode())
        return digest.hexdigest()[:16]

    def citation(self, source_id: str) -> str:
        s = self[source_id]
        return f"{s.publisher}: {s.title}" + (f" ({s.homepage})" if s.homepage else "")
