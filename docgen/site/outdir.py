"""The output folder: what docgen may replace or delete, one build at a time, and the swap.

docgen replaces the output folder with every build and `docgen clean` deletes it, so both
first make sure it holds nothing else: it must not be (or contain) the notebooks, the
project root with its config file, the templates, the cache, the user's home or a
filesystem root, and an existing folder must be empty or hold the marker file every site
docgen writes. Builds and cleans take a lock beside the output folder (`.site.lock` for
`site`), so two that write the same site, of one project or two, never run at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

from docgen.config import CACHE_DIR, Config
from docgen.errors import STOP_SIGNALS, BuildFailed, DocgenError, Interrupted, UsageError
from docgen.notebooks.discover import SITE_MARKER

MARKER_TEXT = (
    b"This folder is a documentation site written by docgen.\n"
    b"`docgen build` replaces the whole folder and `docgen clean` deletes it: keep nothing\n"
    b"else in it. docgen refuses to replace or delete a non-empty folder without this file.\n"
)
# What tempfile.mkdtemp adds to the `.SITE.old-` / `.SITE.new-` prefixes of the swap folders.
_SWAP_LEFTOVER = re.compile(r"\.(old|new)-[a-z0-9_]{8}")

Log = Callable[[str], None]


def _within(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no password entry
        return None


def _as_given(config: Config, option: str) -> str:
    """The path of `option` as the user wrote it, and what it resolves to if that differs."""
    path = getattr(config, option)
    given = config.as_written.get(option)
    return f"{given} (which resolves to {path})" if given and given != path else str(path)


def not_a_folder(path: Path) -> Path | None:
    """The file (or other non-folder) that keeps `path` from being or becoming a folder:
    `path` itself or the nearest of its parents that exists; None when there is none."""
    for p in (path, *path.parents):
        if os.path.lexists(p):
            return None if p.is_dir() else p
    return None


def _is_a_file(path: Path) -> str:
    return f"{path} is {'a file' if path.is_file() else 'not a folder'}, not a folder"


def check_output_folder(config: Config) -> None:
    """Raise `UsageError` unless docgen may replace (or delete) `config.out`."""
    out = config.out
    named = _as_given(config, "out")
    how = "Set `out` in the config (or --out) to a folder of its own, such as 'site'."
    if out.parent == out:
        raise UsageError(f"the output folder {named} is a filesystem root. {how}")
    protected = [
        ("your home folder", _home()),
        ("the project root", config.root),
        ("the notebooks folder", config.nbs),
        ("the templates folder", config.templates),
        ("the cache folder", config.root / CACHE_DIR),
    ]
    for what, path in protected:
        if path is not None and _within(out, path):
            verb = "is" if path == out else "contains"
            note = " (the folder of the config file, or where docgen runs)" * (path == config.root)
            raise UsageError(
                f"the output folder {named} {verb} {what} {path}{note}; docgen replaces the "
                f"output folder with each build and `docgen clean` deletes it. {how}"
            )
    cache = config.root / CACHE_DIR
    if cache in out.parents:
        raise UsageError(f"the output folder {named} is inside the cache folder {cache}. {how}")
    blocker = not_a_folder(out.parent)
    if blocker is not None:
        raise UsageError(
            f"the output folder {named} cannot be made: {_is_a_file(blocker)}. "
            "Choose another output folder with --out or `out`."
        )
    check_replaceable(out, named)


def check_cache_folder(config: Config) -> None:
    """Raise `UsageError` when the build needs the cache folder (execution cache, downloaded
    inventories) and it cannot be made: a file has its name."""
    if not (config.execute and config.cache) and not config.inventories:
        return
    blocker = not_a_folder(config.root / CACHE_DIR)
    if blocker is not None:
        raise UsageError(
            f"docgen keeps its cache in {config.root / CACHE_DIR}, but {_is_a_file(blocker)}; "
            "rename or remove it"
        )


def is_docgen_site(folder: Path) -> bool:
    marker = folder / SITE_MARKER
    return folder.is_dir() and marker.is_file() and not marker.is_symlink()


def check_replaceable(out: Path, named: str = "") -> None:
    """Raise `UsageError` unless `out` is absent, an empty folder, or a site docgen wrote.
    `named` is how messages name it (see `_as_given`)."""
    named = named or str(out)
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        kind = "a symbolic link" if out.is_symlink() else "an existing file"
        raise UsageError(
            f"the output folder {named} is {kind}, not a folder; docgen leaves it alone. "
            "Choose another output folder with --out or `out`."
        )
    if is_docgen_site(out):
        return
    try:
        with os.scandir(out) as entries:
            empty = next(entries, None) is None
    except OSError as e:
        raise UsageError(f"the output folder {named} cannot be read: {e.strerror}") from e
    if not empty:
        raise UsageError(
            f"the output folder {named} is not empty and is not a site docgen wrote (it has no "
            f"{SITE_MARKER} file), so docgen will not replace or delete it. Build into another "
            "folder with --out (or `out` in the config), or remove this one yourself if "
            "nothing in it is needed."
        )


def excluded_folders(config: Config) -> list[Path]:
    """Folders never searched for notebooks: what docgen writes, not what it reads."""
    return [config.out, config.root / CACHE_DIR]


def _swap_leftovers(out: Path) -> list[Path]:
    """`.site.new-*` and `.site.old-*` folders beside `out` named as docgen names them."""
    prefix = f".{out.name}"
    try:
        names = os.listdir(out.parent)
    except OSError:
        return []
    return [
        out.parent / name
        for name in names
        if name.startswith(prefix)
        and _SWAP_LEFTOVER.fullmatch(name[len(prefix) :])
        and (out.parent / name).is_dir()
        and not (out.parent / name).is_symlink()
    ]


def remove_swap_leftovers(out: Path) -> None:
    """Remove what an interrupted build left beside `out`; call it holding the lock.

    Only folders docgen made: named as it names them, and holding its marker (an old site
    has it, a new one gets it before any other file) or empty (made, not yet filled). A
    user's folder that merely looks like one is left alone.
    """
    for path in _swap_leftovers(out):
        if is_docgen_site(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.rmdir()  # only if empty


def join_site_files(
    own: Mapping[str, bytes], owners: Mapping[str, str], generated: Mapping[str, bytes]
) -> dict[str, bytes]:
    """The site's files: the pages' `own` files (`owners` says whose each is) and the ones
    docgen `generated`. Raise `BuildFailed` naming both sides when a page's file would
    replace a generated one, or when one path would have to be a file and a folder."""
    problems = [
        f"{owners[path]} would be {path}, which docgen writes itself; rename the notebook"
        for path in own
        if path in generated or path == SITE_MARKER
    ]
    files = {**own, **generated}
    needs_folder: dict[str, str] = {}
    for path in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            needs_folder.setdefault("/".join(parts[:i]), path)

    def whose(path: str) -> str:
        return owners.get(path, f"docgen's own {path}")

    problems += [
        f"{whose(path)} would be the file {path}, but {whose(needs_folder[path])} needs a "
        f"folder of that name ({needs_folder[path]}); rename one of them"
        for path in files
        if path in needs_folder
    ]
    if problems:
        raise BuildFailed(problems)
    return files


# --- one build or clean at a time -------------------------------------------------------

if sys.platform == "win32":  # pragma: no cover
    import msvcrt

    def _try_lock(f: IO[str]) -> bool:
        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _wait_lock(f: IO[str]) -> None:
        while not _try_lock(f):
            threading.Event().wait(0.2)

else:
    import fcntl

    def _try_lock(f: IO[str]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _wait_lock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


def lock_path(out: Path) -> Path:
    """The lock of the site `out`: beside it, with the swap folders (`.site.lock`)."""
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def site_lock(out: Path, wait: bool = True, log: Log | None = None) -> Iterator[None]:
    """Hold the lock of the site `out` (checked by `check_output_folder`): a second build or
    clean of it waits, or with `wait=False` fails at once. The lock is the OS's (flock), so
    a killed build never leaves it taken."""
    path = lock_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+", encoding="utf-8")  # closed below, after the lock
    except OSError as e:
        raise UsageError(f"cannot create the lock file {path}: {reason(e)}") from e
    with f:
        if not _try_lock(f):
            holder = f"{_holder(path)}, lock file {path}"
            if not wait:
                raise UsageError(
                    f"another docgen build or clean of the site {out} is running ({holder}); "
                    "try again when it has finished, or leave out --no-wait to wait for it"
                )
            if log is not None:
                log(f"waiting for another docgen build or clean of the site {out} ({holder})")
            _wait_lock(f)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield  # closing the file releases the lock


# --- the swap ----------------------------------------------------------------------------


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then deliver the first one.

    Python runs signal handlers in the main thread whichever thread the OS picks, so the
    handlers themselves are swapped for one that only records (masking the main thread
    with pthread_sigmask would not hold a signal that another thread receives).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers run in the main thread; this block cannot be split by them
        return
    received: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in previous:
        signal.signal(signum, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if received:
            signal.raise_signal(received[0])


def reason(e: OSError) -> str:
    """An OSError as 'No space left on device (PATH)'."""
    where = f" ({e.filename})" if e.filename else ""
    return f"{e.strerror or e}{where}"


def _as_one_step(step: Callable[[], None], done: str) -> None:
    """Run `step` with SIGINT, SIGTERM and SIGHUP held; one that arrives meanwhile is raised
    after it as `Interrupted` carrying `done`, so the report says what really happened."""
    completed = False
    try:
        with _signals_deferred():
            step()
            completed = True
    except KeyboardInterrupt as e:
        if not completed:
            raise
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        raise Interrupted(signum, done=done) from e


def swap_in(new: Path, out: Path) -> None:
    """Put the folder `new` in the place of `out` and delete the old site, as one step."""

    def swap() -> None:
        old = None
        try:
            if os.path.lexists(out):
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                old.rmdir()
                out.rename(old)
            new.rename(out)
        except BaseException as e:
            if old is not None and not os.path.lexists(out):
                old.rename(out)
            shutil.rmtree(new, ignore_errors=True)
            if isinstance(e, OSError):
                raise DocgenError(
                    f"cannot put the new site in place at {out}: {reason(e)}; "
                    "the previous site is unchanged"
                ) from e
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    _as_one_step(swap, done=f"the new site was written to {out}")


def remove_site(out: Path) -> bool:
    """Delete the docgen site `out` (checked by `check_output_folder`); False if none.

    The folder is renamed aside and removed as one step for signals, so an interrupted
    clean leaves the whole site, or at worst a leftover the next build removes.
    """
    if not is_docgen_site(out):
        return False

    def remove() -> None:
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        aside.rmdir()
        try:
            out.rename(aside)
        except OSError as e:
            raise DocgenError(f"cannot remove {out}: {reason(e)}") from e
        shutil.rmtree(aside, ignore_errors=True)

    _as_one_step(remove, done=f"{out} was removed")
    return True


def clean(config: Config, wait: bool = True, log: Log | None = None) -> bool:
    """`docgen clean`: remove the site and any leftovers of interrupted builds."""
    check_output_folder(config)
    if not config.out.parent.is_dir():
        return False  # nothing was built there: no lock file is made to find that out
    with site_lock(config.out, wait, log):
        remove_swap_leftovers(config.out)
        return remove_site(config.out)
