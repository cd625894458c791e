"""The landing zone: which files wait under <home>/landing/<kind>/, and writing new ones there atomically.

Folders and files whose names start with `_` or `.` are never taken (`_late`, `_truth`, `_quarantine`,
`_staging`, temporary files of writers in progress). `overrides/` holds the bake-plan overrides the app lands
for the decisions step (bakery.decisions.overrides), not a source: the import leaves it alone.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bakery.config import Settings
from bakery.decisions.overrides import OVERRIDES_KIND

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandingFile:
    """One file waiting in the landing zone; `relpath` is relative to the landing dir (e.g. pos/pos_S01.csv)."""

    kind: str
    path: Path
    relpath: str
    size: int
    mtime: float


def landing_relpath(settings: Settings, path: Path | str) -> str:
    """A landing file's name as bronze records it in `_source_file`: relative to the landing dir, `/`-separated.

    A Path is a file in the landing dir. A str is a name recorded elsewhere (ops.upload_batches), possibly on
    Windows: its separators, `./` and `//` are normalised, and an absolute path inside the landing dir is made
    relative to it, so it compares equal to `_source_file`.
    """
    if isinstance(path, Path):
        return path.relative_to(settings.landing_dir).as_posix()
    name = PurePosixPath(str(path).replace("\\", "/"))
    root = PurePosixPath(settings.landing_dir.as_posix())
    return (name.relative_to(root) if name.is_relative_to(root) else name).as_posix()


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def scan_kind(settings: Settings, kind: str) -> list[LandingFile]:
    """Every takeable file of one kind, oldest first (modification time, then path)."""
    root = settings.landing_dir / kind
    files: list[LandingFile] = []
    if not root.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        for name in filenames:
            if _hidden(name):
                continue
            path = Path(dirpath) / name
            st = path.stat()
            files.append(LandingFile(kind, path, landing_relpath(settings, path), st.st_size, st.st_mtime))
    return sorted(files, key=lambda f: (f.mtime, f.relpath))


def scan_landing(settings: Settings) -> tuple[dict[str, list[LandingFile]], list[str]]:
    """Files per kind (kinds in sources.yml order), plus landing folders that name no kind (ignored)."""
    root = settings.landing_dir
    present = (
        sorted(p.name for p in root.iterdir() if p.is_dir() and not _hidden(p.name)) if root.is_dir() else []
    )
    unknown = [name for name in present if name not in settings.sources and name != OVERRIDES_KIND]
    for name in unknown:
        log.warning("landing folder %s/ matches no source in sources.yml; ignored", name)
    return {kind: scan_kind(settings, kind) for kind in settings.sources}, unknown


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a hidden temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
