"""The execution cache: executed notebooks kept under `.docgen_cache/`, addressed by content.

A notebook's key hashes everything that decides its outputs: its path in the project (two
notebooks with the same code may read different files beside them), the source and
execution options of its code cells, the kernel, the environment (Python, installed
distributions, the documented packages' own sources, GPU models, preloaded modules) and
the data files it declares in its metadata (`"docgen": {"data": ["data/x.csv"]}`), the
project's own modules it imports (localimports.py), and the values of the environment
variables named in `env_keys`; no other environment variable. Markdown cells are not part
of the key, so a prose edit reuses the outputs.

An entry is the whole executed notebook, written atomically. An entry that cannot be read
is reported and ignored; the notebook then runs again. Beside the entries, `imports/`
keeps which modules each notebook's code imports (a function of the code's text alone), and
`durations/` the seconds of each notebook's latest run by its project path, whatever its
code was then: what scheduling expects it to take next time (execute/schedule.py), and
whether its latest run on a machine with a GPU used it (pool.py gives the GPUs' turns to
those that do).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.errors import DocgenError
from docgen.execute.gpus import Gpu
from docgen.notebooks.cells import cell_options
from docgen.notebooks.node import NotebookNode, from_dict, loads_v4

if TYPE_CHECKING:
    import nbformat

FORMAT = 2  # bump when the key or the entry layout changes
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is docgen's execution cache; `make clean` or deleting it is safe.\n"
)


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def code_digest(nb: nbformat.NotebookNode) -> str:
    """Hash of what runs: each code cell's source, whether it runs and whether it may raise."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            options = cell_options(cell)
            cells.append([cell.source, options.execute, options.may_raise])
    return _sha256(_canonical(cells))


def docgen_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's `metadata.docgen` table, created when missing."""
    return nb.metadata.setdefault("docgen", NotebookNode())


def notebook_settings(nb: nbformat.NotebookNode, path: Path) -> dict[str, Any]:
    """The notebook's `metadata.docgen` table, checked: `data` (list) and `requires_gpu`."""
    settings = nb.metadata.get("docgen", {})
    if not isinstance(settings, dict):
        raise DocgenError(f"{path}: metadata 'docgen' must be a table, not {settings!r}")
    data = settings.get("data", [])
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        raise DocgenError(
            f"{path}: metadata docgen.data must be a list of file paths (relative to the "
            f"notebook's folder), not {data!r}"
        )
    if not isinstance(settings.get("requires_gpu", False), bool):
        raise DocgenError(f"{path}: metadata docgen.requires_gpu must be true or false")
    return settings


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_digest(folder: Path, patterns: Iterable[str]) -> dict[str, str]:
    """Content hash of each declared data file (folders and globs expanded), by its pattern."""
    result = {}
    for pattern in patterns:
        matches = (
            sorted(folder.glob(pattern)) if any(c in pattern for c in "*?[") else [folder / pattern]
        )
        files: list[Path] = []
        for match in matches:
            if match.is_dir():
                files += sorted(p for p in match.rglob("*") if p.is_file())
            elif match.is_file():
                files.append(match)
        if not files:
            result[pattern] = "missing"
            continue
        result[pattern] = _sha256(
            _canonical([[p.relative_to(folder).as_posix(), _file_digest(p)] for p in files])
            if all(p.is_relative_to(folder) for p in files)
            else _canonical([[str(p), _file_digest(p)] for p in files])
        )
    return result


def distributions_in(folders: Iterable[str | Path]) -> list[str]:
    """Names of the installed distributions (name and version) and .pth files in `folders`."""
    names: set[str] = set()
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        names.update(e for e in entries if e.endswith((".dist-info", ".egg-info", ".pth")))
    return sorted(names)


def source_digest(package: str) -> str:
    """Hash of a documented package's own .py files: an editable install changes no version."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return "not installed"
    if spec is None:
        return "not installed"
    roots = [Path(p) for p in (spec.submodule_search_locations or [])]
    files = sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    if not roots and spec.origin and os.path.isfile(spec.origin):
        files = [Path(spec.origin)]
    return _sha256(_canonical([[p.name, _file_digest(p)] for p in files]))


def environment_fingerprint(
    gpus: Sequence[Gpu], packages: Sequence[str], root: Path | None = None
) -> dict[str, str]:
    """What about this machine decides outputs: Python, distributions, sources, GPU models.

    Installed distributions are read from their `*.dist-info` folder names, which carry the
    version (torch's also its CUDA build, as in `torch-2.4.0+cu121`), without importing them.
    The source of a documented package inside the project `root` is left out: each notebook
    that imports it has it in its key (see localimports.py), so an edit to it runs those
    notebooks again and no others.
    """
    fingerprint = {
        "python": f"{sys.version} {platform.machine()} {sys.platform}",
        # sys.path without "" (the folder docgen was started in, which varies)
        "distributions": _sha256("\n".join(distributions_in(p for p in sys.path if p))),
        "gpus": "; ".join(g.name for g in gpus) or "none",
    }
    from docgen.execute.localimports import package_in_project

    for package in sorted(packages):
        if root is None or not package_in_project(package, root):
            fingerprint[f"source:{package}"] = source_digest(package)
    return fingerprint


def kernel_fingerprint(name: str) -> dict[str, Any]:
    """The kernel spec `name` resolves to; a kernel in another environment adds its packages."""
    from docgen.execute.kernelspecs import kernel_spec

    spec = kernel_spec(name)
    if spec is None:
        return {"name": name, "missing": True}
    fingerprint: dict[str, Any] = {"name": name, **spec}
    interpreter = spec["argv"][0] if spec["argv"] else ""
    if interpreter not in ("", "python", "python3", sys.executable):
        prefix = Path(interpreter).parent.parent
        fingerprint["distributions"] = _sha256(
            "\n".join(distributions_in(prefix.glob("lib/python3*/site-packages")))
        )
    return fingerprint


def notebook_key(
    rel_path: str,
    nb: nbformat.NotebookNode,
    kernel: dict[str, Any],
    environment: dict[str, str],
    data: dict[str, str],
    preload: Sequence[str],
    local: dict[str, str] | None = None,
    env: dict[str, str | None] | None = None,
) -> str:
    """The key of one notebook's outputs; `local` hashes the project modules it imports and
    `env` holds the declared environment variables (None: unset)."""
    return _sha256(
        _canonical(
            {
                "format": FORMAT,
                "path": rel_path,
                "code": code_digest(nb),
                "kernel": kernel,
                "environment": environment,
                "data": data,
                "preload": list(preload),
                "local": local or {},
                "env": env or {},
            }
        )
    )


def with_outputs_of(
    source: nbformat.NotebookNode, executed: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """`source` (its current prose and cell metadata) with the code outputs of `executed`.

    Both must have the same code cells, which a matching key guarantees.
    """
    nb = from_dict(source)  # a copy: the caller's notebook stays as it was
    code = [c for c in nb.cells if c.cell_type == "code"]
    done = [c for c in executed.cells if c.cell_type == "code"]
    for cell, ran in zip(code, done, strict=True):
        cell.outputs = ran.get("outputs", [])
        cell.execution_count = ran.get("execution_count")
        if "execution" in ran.get("metadata", {}):
            cell.metadata["execution"] = ran.metadata["execution"]
    if "language_info" in executed.metadata:
        nb.metadata["language_info"] = executed.metadata["language_info"]
    provenance = executed.metadata.get("docgen", {}).get("provenance")
    if provenance:
        docgen_metadata(nb)["provenance"] = from_dict(provenance)
    return nb


class ExecutionCache:
    """Executed notebooks by key, and for each notebook's path and code its latest entry."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._unsaved_imports: dict[Path, list[tuple[str, int]]] = {}

    def entry_path(self, key: str) -> Path:
        return self.folder / "nb" / key[:2] / f"{key}.ipynb"

    def _latest_path(self, rel_path: str, code: str) -> Path:
        return self.folder / "latest" / f"{_sha256(rel_path + chr(0) + code)[:40]}.txt"

    def load(
        self, key: str, source: nbformat.NotebookNode
    ) -> tuple[nbformat.NotebookNode | None, str | None]:
        """(`source` with the entry's outputs, None), or (None, why the entry was ignored)."""
        path = self.entry_path(key)
        if not path.is_file():
            return None, None
        try:
            # docgen wrote it; validating it again would cost more than the run it saves,
            # and reading it without nbformat keeps a build of cached notebooks quick
            executed = loads_v4(path.read_text(encoding="utf-8"))
            stored = executed.metadata.get("docgen", {}).get("cache", {})
            if stored.get("key") != key:
                raise ValueError("its key does not match its file name")
            if code_digest(executed) != code_digest(source):
                raise ValueError("its code cells differ from the notebook's")
        except Exception as e:  # any unreadable entry is ignored the same way
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self._discard(path)
            return None, f"ignored a corrupted cache entry {path} ({reason}); running again"
        return with_outputs_of(source, executed), None

    def latest(self, rel_path: str, source: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
        """The newest entry for this path and code, from whichever machine ran it."""
        pointer = self._latest_path(rel_path, code_digest(source))
        try:
            key = pointer.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        nb, _ = self.load(key, source)
        return nb

    def _duration_path(self, rel_path: str) -> Path:
        return self.folder / "durations" / f"{_sha256(rel_path)[:40]}.json"

    def _recorded(self, rel_path: str) -> dict[str, Any]:
        try:
            kept = json.loads(self._duration_path(rel_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # never run here, or unreadable: the caller's default applies
        return kept if isinstance(kept, dict) and kept.get("path") == rel_path else {}

    def recorded_seconds(self, rel_path: str) -> float | None:
        """Seconds the latest recorded run of the notebook at `rel_path` took, if any."""
        try:
            return max(0.0, float(self._recorded(rel_path)["seconds"]))
        except (ValueError, TypeError, KeyError):
            return None

    def recorded_gpu_use(self, rel_path: str) -> bool | None:
        """Whether the notebook's latest run on a machine with a GPU used it; None when it
        never ran on one (or nothing says)."""
        used = self._recorded(rel_path).get("gpu_used")
        return used if isinstance(used, bool) else None

    def store(
        self,
        key: str,
        rel_path: str,
        executed: nbformat.NotebookNode,
        record_duration: bool = True,
    ) -> str | None:
        """Write an entry atomically; returns a warning instead of failing the build.

        `record_duration=False` leaves `durations/` as it was, so that CI shards started
        from the same cache all split the notebooks the same way whichever ran first."""
        import nbformat  # a notebook ran, so nbformat is loaded already

        nb = nbformat.from_dict(executed)
        code = code_digest(nb)
        docgen_metadata(nb)["cache"] = nbformat.from_dict({"key": key, "path": rel_path})
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tag = self.folder / "CACHEDIR.TAG"
            if not tag.exists():
                write_atomically(tag, _CACHEDIR_TAG.encode())
            write_atomically(self.entry_path(key), nbformat.writes(nb).encode())
            write_atomically(self._latest_path(rel_path, code), key.encode())
            if record_duration:
                self._record_duration(rel_path, docgen_metadata(nb).get("provenance", {}))
        except OSError as e:
            return f"could not write the cache entry for {rel_path} into {self.folder}: {e}"
        return None

    def _record_duration(self, rel_path: str, provenance: dict[str, Any]) -> None:
        seconds, date = provenance.get("seconds"), str(provenance.get("date", ""))
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            record: dict[str, Any] = {"path": rel_path, "seconds": seconds, "date": date}
            if provenance.get("device", "CPU") != "CPU" and "cuda_used" in provenance:
                record["gpu_used"] = bool(provenance["cuda_used"])
            else:  # a run without a GPU says nothing about one: the last that had one does
                gpu_used = self.recorded_gpu_use(rel_path)
                if gpu_used is not None:
                    record["gpu_used"] = gpu_used
            write_atomically(self._duration_path(rel_path), _canonical(record).encode())

    def keep_newer_duration(self, rel_path: str, provenance: dict[str, Any]) -> None:
        """Record the seconds of a cached run (one a CI shard stored) when it ran after
        the run `durations/` records for its path."""
        date = str(provenance.get("date", ""))
        if str(self._recorded(rel_path).get("date", "")) >= date > "":
            return  # else nothing recorded, or unreadable: replaced
        if date:
            try:
                self._record_duration(rel_path, provenance)
            except OSError:
                pass  # a read-only cache: scheduling falls back to the older record

    def add_entry(self, key: str, text: str) -> bool:
        """Keep an entry another cache wrote (its file's text) under its own key, unless
        this cache has it already: False then. Its notebook's latest pointer follows it
        only when it ran after the entry it points at, so merging caches in any order
        gives the same result. Raises `ValueError` for an entry that is not one."""
        executed = loads_v4(text)
        stored = executed.metadata.get("docgen", {}).get("cache", {})
        rel_path = stored.get("path")
        if stored.get("key") != key or not isinstance(rel_path, str):
            raise ValueError("its key or path does not match its file name")
        if self.entry_path(key).is_file():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            write_atomically(tag, _CACHEDIR_TAG.encode())
        write_atomically(self.entry_path(key), text.encode())
        pointer = self._latest_path(rel_path, code_digest(executed))
        if _run_date(executed) >= self._pointed_date(pointer):
            write_atomically(pointer, key.encode())
        return True

    def _pointed_date(self, pointer: Path) -> str:
        """When the entry `pointer` names ran ("" when there is none)."""
        try:
            key = pointer.read_text(encoding="utf-8").strip()
            return _run_date(loads_v4(self.entry_path(key).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return ""

    def cell_imports(self, code: Sequence[str]) -> list[tuple[str, int]]:
        """`localimports.cell_imports(code)`, kept by the code's hash: parsing every cell
        again took most of a build whose notebooks were all cached."""
        from docgen.execute.localimports import cell_imports

        path = self.folder / "imports" / f"{_sha256(_canonical(list(code)))}.json"
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            return [(str(name), int(level)) for name, level in kept]
        except (OSError, ValueError, TypeError):
            pass  # not kept yet, or unreadable: worked out again and kept
        found = cell_imports(code)
        self._unsaved_imports[path] = found
        return found

    def keep_imports(self) -> None:
        """Write what `cell_imports` worked out (planning itself writes nothing)."""
        for path, found in self._unsaved_imports.items():
            try:
                write_atomically(path, _canonical(found).encode())
            except OSError:
                pass  # a read-only cache: worked out each time
        self._unsaved_imports.clear()

    def _discard(self, path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass  # a read-only cache still works: the entry is ignored each time


def _run_date(nb: nbformat.NotebookNode) -> str:
    """When the notebook ran (UTC, ISO 8601, so strings order as times), or ""."""
    return str(nb.metadata.get("docgen", {}).get("provenance", {}).get("date", ""))


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part: write beside, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
