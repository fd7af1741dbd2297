"""docgen on an nbdev project against nbdev's own runner: `bench/nbdev.py PROJECT_DIR`.

Side by side, on a copy of the project (the project itself is never written to):
- a cold `docgen build` (no cache, a fresh output folder) against `nbdev-test`, on the same
  notebooks with the same number of workers: the notebooks `[tool.docgen.execute] exclude`
  names are skipped by both (nbdev-test through `--skip-file-re`);
- the API entries on the built site against the names the project exports, as its
  `_modidx.py` lists them (the public functions and classes; methods and private helpers
  are counted apart, as nbdev's site gives them no entry of their own either).

Prints both times, their ratio, the notebooks each ran and the counts. Run it with the
Python of the project's environment (where nbdev and docgen are installed); `nbdev-test`
is found beside that Python, on PATH, or given with `--nbdev-test`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from docgen.api.modidx import modidx_file, read_modidx  # noqa: E402
from docgen.config import load_config  # noqa: E402
from docgen.execute.plan import is_excluded  # noqa: E402
from docgen.notebooks.discover import discover_notebooks  # noqa: E402
from docgen.notebooks.nbdev import skips_notebook  # noqa: E402

_ENTRY = re.compile(r'<h[1-6] class="api-heading" id="([^"]+)"')


def find_nbdev_test(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "nbdev-test"
    found = str(beside) if beside.is_file() else shutil.which("nbdev-test")
    if not found:
        sys.exit("nbdev-test not found: install nbdev, or give --nbdev-test PATH")
    return found


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stdout + done.stderr


def site_entries(site: Path, package: str) -> tuple[set[str], int, int]:
    """(anchors of every API entry, entries on notebook pages, on generated API pages: those
    named after a module of `package`, `api/pkg.core.html`)."""
    anchors: set[str] = set()
    on_notebooks = on_generated = 0
    for page in site.rglob("*.html"):
        found = _ENTRY.findall(page.read_text(encoding="utf-8", errors="replace"))
        anchors.update(found)
        generated = page.parent == site / "api" and page.stem.split(".")[0] == package
        if generated:
            on_generated += len(found)
        else:
            on_notebooks += len(found)
    return anchors, on_notebooks, on_generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path, help="the nbdev project's root folder")
    parser.add_argument("--nbdev-test", help="the nbdev-test command (default: found)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="a notebook glob neither runs, relative to the notebooks folder (repeatable); "
        "added to the copy as [tool.docgen.execute] exclude",
    )
    args = parser.parse_args()
    nbdev_test = find_nbdev_test(args.nbdev_test)

    with tempfile.TemporaryDirectory(prefix="docgen-bench-nbdev-") as tmp:
        root = Path(tmp) / args.project.resolve().name
        shutil.copytree(
            args.project, root, ignore=shutil.ignore_patterns(".docgen_cache", "_docs", ".git")
        )
        if args.exclude:
            pyproject = root / "pyproject.toml"
            text = pyproject.read_text() if pyproject.is_file() else ""
            if "[tool.docgen.execute]" in text:
                sys.exit("the project has its own [tool.docgen.execute]: put `exclude` there")
            globs = ", ".join(f'"{g}"' for g in args.exclude)
            pyproject.write_text(f"{text}\n[tool.docgen.execute]\nexclude = [{globs}]\n")
        config = load_config(cwd=root)
        if not config.nbdev:
            sys.exit(f"{args.project} is not an nbdev project (no [tool.nbdev], no settings.ini)")
        sources = discover_notebooks(config.nbs, private=True, home=config.home)
        excluded = [s for s in sources if is_excluded(s, config.exclude)]
        names = sorted({s.path.name for s in excluded})
        skip_re = "^[_.]" + "".join(f"|^{re.escape(n)}$" for n in names)
        run = [s for s in sources if s not in excluded]
        import nbformat

        whole_skips = sum(skips_notebook(nbformat.read(s.path, as_version=4)) for s in run)
        # This checkout's docgen, and the project's own package from the copy, as a
        # build in its root would import them.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(root)])}

        site = Path(tmp) / "site"
        docgen_s, docgen_rc, docgen_out = run_timed(
            [sys.executable, "-m", "docgen", "build", "--out", str(site)]
            + ["--workers", str(args.workers)],
            root,
            env,
        )
        nbdev_s, nbdev_rc, nbdev_out = run_timed(
            [nbdev_test, "--path", str(config.nbs), "--n-workers", str(args.workers)]
            + ["--skip-file-re", skip_re],
            root,
            env,
        )
        ran = len(re.findall(r"^ran ", docgen_out, re.MULTILINE))
        print(f"project: {args.project} ({len(sources)} notebooks, {len(excluded)} excluded)")
        print(f"workers: {args.workers}")
        print(f"docgen build, cold: {docgen_s:.1f} s (exit {docgen_rc}; ran {ran} notebooks)")
        print(
            f"nbdev-test:         {nbdev_s:.1f} s (exit {nbdev_rc}; "
            f"{len(run)} notebooks, {whole_skips} of them skip_exec)"
        )
        print(f"time ratio docgen/nbdev-test: {docgen_s / nbdev_s:.2f}")
        if docgen_rc:
            print("docgen's output ends:\n" + docgen_out[-2000:])
        if nbdev_rc:
            print("nbdev-test's output ends:\n" + nbdev_out[-1000:])

        package = config.packages[0] if config.packages else ""
        anchors, on_notebooks, on_generated = site_entries(site, package)
        path = modidx_file(package, root) if package else None
        modules = read_modidx(path) if path else {}
        exported = [
            name[len(module) + 1 :]
            for module, entries in modules.items()
            for name in entries
            if name.startswith(module + ".")
        ]
        full = {
            name[len(module) + 1 :]: name for module, entries in modules.items() for name in entries
        }
        public = [n for n in exported if "." not in n and not n.startswith("_")]
        methods = [
            n for n in exported if "." in n and not any(p.startswith("_") for p in n.split("."))
        ]
        private = len(exported) - len(public) - len(methods)
        with_entry = [n for n in public if full[n] in anchors]
        methods_entry = [n for n in methods if full[n] in anchors]
        print(
            f"API entries on the site: {on_notebooks} on notebook pages, "
            f"{on_generated} on generated API pages"
        )
        print(
            f"exported names (_modidx.py): {len(exported)}: {len(public)} public functions and "
            f"classes, {len(methods)} public methods, {private} private"
        )
        share = f"({100 * len(with_entry) / len(public):.0f}%)" if public else ""
        print(
            f"public functions and classes with an entry: {len(with_entry)} of {len(public)} "
            + share
        )
        print(f"public methods with an entry: {len(methods_entry)} of {len(methods)}")
        missing = sorted(set(public) - set(with_entry))
        if missing:
            more = " ..." if len(missing) > 20 else ""
            print("without an entry: " + ", ".join(missing[:20]) + more)


if __name__ == "__main__":
    main()
