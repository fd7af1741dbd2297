"""What a page offers to run elsewhere: its notebooks and script, and the names they have.

Beside `page.html` the site publishes:
- `page.ipynb`, the notebook as executed, outputs and all;
- `page-clean.ipynb`, the same cells with no outputs and no execution counts;
- `page.py`, the clean notebook as a Python script (nbconvert's ScriptExporter: markdown
  cells become comments, IPython magics become calls to IPython).

Both notebooks start with the `[tool.docgen.open] setup` cell when one is set, and a GPU
page's with a note of the runtime it needs. The page itself shows neither.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docgen.errors import DocgenError
from docgen.notebooks.cells import SETUP_TAG
from docgen.notebooks.node import dumps_v4, from_dict, loads_v4

# "-": API pages are named by dotted module names, so ".clean" could be a module's page.
CLEAN_SUFFIX = "-clean.ipynb"
SCRIPT_SUFFIX = ".py"
GPU_NOTE = (
    "**This notebook needs a GPU.** On Colab, choose *Runtime → Change runtime type → GPU* "
    "before you run it; elsewhere, run it where PyTorch sees a CUDA device."
)


def download_names(page_url: str) -> dict[str, str]:
    """The site paths of a page's downloads, by kind: notebook, clean, script."""
    stem = page_url.removesuffix(".html")
    return {
        "notebook": f"{stem}.ipynb",
        "clean": f"{stem}{CLEAN_SUFFIX}",
        "script": f"{stem}{SCRIPT_SUFFIX}",
    }


def _pip_requirements(line: str) -> list[str]:
    """The distribution names a `%pip install ...` (or `!pip install ...`) line names."""
    words = line.split("#", 1)[0].split()
    if len(words) < 2 or words[0] not in ("%pip", "!pip", "%pip3", "!pip3", "!python"):
        return []
    if words[0] == "!python":  # !python -m pip install ...
        words = words[2:] if words[1:3] == ["-m", "pip"] else []
        words = ["pip", *words]
    if len(words) < 2 or words[1] != "install":
        return []
    try:
        args = shlex.split(" ".join(words[2:]))
    except ValueError:
        return []
    names = []
    for arg in args:
        m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", arg)
        if arg.startswith("-") or "/" in arg or "://" in arg or not m:
            continue  # an option, a path or a URL: nothing to check for
        names.append(m.group(0))
    return names


def setup_cell_source(lines: Sequence[str]) -> str:
    """The setup cell: `lines`, run only where one of the packages they install is
    missing; lines that install no package by name run only on Colab."""
    names = [name for line in lines for name in _pip_requirements(line)]
    body = "".join(f"    {line}\n" for line in lines)
    head = (
        "# Setup: installs what this notebook needs where it is missing (Colab, Binder, a\n"
        "# fresh environment); where it is all installed, this cell does nothing.\n"
    )
    if names:
        return (
            f"{head}from importlib.metadata import PackageNotFoundError, version\n\n"
            "try:\n"
            f"    for _package in {names!r}:\n"
            "        version(_package)\n"
            "except PackageNotFoundError:\n"
            f"{body}"
        ).rstrip("\n")
    return f"{head}import sys\n\nif 'google.colab' in sys.modules:\n{body}".rstrip("\n")


def _new_cell(nb: dict[str, Any], kind: str, source: str, cell_id: str, tags: list[str]) -> Any:
    cell: dict[str, Any] = {"cell_type": kind, "metadata": {"tags": tags} if tags else {}}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    cell["source"] = source
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = cell_id  # required from nbformat 4.5 on, and unique in the notebook
    return from_dict(cell)


def _front_cells(nb: dict[str, Any], setup: Sequence[str], gpu: bool) -> list[Any]:
    taken = {c.get("id") for c in nb.get("cells", [])}

    def unique(name: str) -> str:
        n = 1
        candidate = name
        while candidate in taken:
            n += 1
            candidate = f"{name}-{n}"
        return candidate

    cells = []
    if gpu:
        cells.append(_new_cell(nb, "markdown", GPU_NOTE, unique("docgen-gpu"), [SETUP_TAG]))
    if setup:
        source = setup_cell_source(setup)
        cells.append(_new_cell(nb, "code", source, unique("docgen-setup"), [SETUP_TAG]))
    return cells


def for_download(nb: dict[str, Any], setup: Sequence[str], gpu: bool) -> Any:
    """The executed notebook as published: the setup cell (and GPU note) first."""
    front = _front_cells(nb, setup, gpu)
    if not front:
        return nb
    out = copy.copy(nb)
    out["cells"] = [*front, *nb["cells"]]
    if gpu:
        out["metadata"] = {**nb.get("metadata", {}), "accelerator": "GPU"}  # Colab reads it
    return out


def clean_notebook(nb: dict[str, Any], setup: Sequence[str], gpu: bool) -> Any:
    """The notebook with no outputs, execution counts or run records, ready to run."""
    clean = from_dict(copy.deepcopy(dict(nb)))
    metadata = clean.get("metadata", {})
    metadata.pop("widgets", None)  # the saved state of widgets is an output
    docgen = metadata.get("docgen")
    if isinstance(docgen, dict):
        docgen.pop("provenance", None)  # where the outputs came from: there are none
        if not docgen:
            metadata.pop("docgen")
    for cell in clean.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)  # timing of the run
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return for_download(clean, setup, gpu)


def notebook_bytes(nb: dict[str, Any]) -> bytes:
    return dumps_v4(nb).encode() + b"\n"


def script_of(clean: bytes, exporter: Any = None) -> bytes:
    """The clean notebook as a Python script, as `jupyter nbconvert --to script` writes it.
    `exporter`, a ScriptExporter, is best shared: a new one loads its templates again
    (a tenth of a second per notebook)."""
    from nbconvert.exporters import ScriptExporter

    nb = loads_v4(clean.decode())
    info = nb.setdefault("metadata", from_dict({})).setdefault("language_info", from_dict({}))
    if not info.get("name"):
        info["name"] = nb.metadata.get("kernelspec", {}).get("language", "python")
    if info.get("name") == "python" and not info.get("nbconvert_exporter"):
        # What ipykernel records: without it, ScriptExporter writes only the code.
        info["nbconvert_exporter"] = "python"
    text, _ = (exporter or ScriptExporter()).from_notebook_node(nb)
    return text.encode()


def scripts_of(cleans: Sequence[bytes]) -> list[bytes]:
    """`script_of` each clean notebook, with one exporter."""
    from nbconvert.exporters import ScriptExporter

    exporter = ScriptExporter()
    return [script_of(clean, exporter) for clean in cleans]


def _nbconvert_data() -> list[str]:
    """The Jupyter data folder where nbconvert is installed, which holds its templates.
    Jupyter's data path looks only under the running Python's prefix (and the user's and
    system's folders), which is elsewhere when nbconvert comes from another environment
    (a .pth file, PYTHONPATH)."""
    import nbconvert

    # <prefix>/lib/pythonX.Y/site-packages/nbconvert/__init__.py; Windows: <prefix>/Lib/...
    package = Path(nbconvert.__file__).resolve().parent
    found = []
    for prefix in (package.parents[3], package.parents[2]):
        data = prefix / "share" / "jupyter"
        if (data / "nbconvert" / "templates").is_dir():
            found.append(str(data))
    return found


def export_scripts(cleans: Sequence[bytes], in_process: bool = False) -> list[bytes]:
    """`script_of` each clean notebook, in one child process (or in this one).

    Importing nbconvert loads nbclient, jupyter_client, nbformat and zmq, which a build whose
    notebooks are all cached never needs in its own process (see execute/cache.py). A
    long-lived process (a preview server) imports it once instead: a child per rebuild
    would import it again each time, for a second or more.
    """
    if not cleans:
        return []
    if in_process:
        return scripts_of(cleans)
    payload = json.dumps([clean.decode() for clean in cleans])
    try:
        done = subprocess.run(
            [sys.executable, "-m", "docgen.site.downloads"],
            input=payload.encode(),
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise DocgenError(f"cannot export the pages' .py scripts with nbconvert: {e}") from e
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise DocgenError(
            "nbconvert's ScriptExporter failed on a page's notebook:\n" + "\n".join(error)
        )
    return [script.encode() for script in json.loads(done.stdout)]


def page_downloads(
    page_url: str,
    nb: dict[str, Any],
    executed: bytes,
    setup: Sequence[str],
    gpu: bool,
) -> dict[str, bytes]:
    """A page's notebooks, by site path (its script is made from the clean one, by
    `export_scripts`). `executed` is its notebook copy as kept (`assemble.notebook_file`)."""
    names = download_names(page_url)
    if setup or gpu:
        executed = notebook_bytes(for_download(nb, setup, gpu))
    return {
        names["notebook"]: executed,
        names["clean"]: notebook_bytes(clean_notebook(nb, setup, gpu)),
    }


if __name__ == "__main__":  # export_scripts' child: JSON list of notebooks in, of scripts out
    import os

    from docgen.notebooks.node import skip_iri_grammar

    skip_iri_grammar()

    paths = [os.environ.get("JUPYTER_PATH", ""), *_nbconvert_data()]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in paths if p)
    notebooks = json.loads(sys.stdin.buffer.read())
    json.dump([s.decode() for s in scripts_of([t.encode() for t in notebooks])], sys.stdout)
