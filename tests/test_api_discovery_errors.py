"""API discovery of a project whose own code misbehaves: a warning or an error naming the
module and the reason, and the rest of the build goes on. Packages are written on the fly."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook

from docgen.api.introspect import discover_api
from docgen.errors import DocgenError
from docgen.runtime.showdoc import describe


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for packages made by the test; their modules are forgotten after."""
    root = tmp_path / "pkgs"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_package(root: Path, name: str, files: dict[str, str]) -> None:
    for rel, source in files.items():
        path = root / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def test_module_that_is_none_or_not_a_string(packages: Path) -> None:
    write_package(packages, "odd_module", {"__init__.py": '''
        """Odd."""
        __all__ = ["A", "f", "g"]
        class A:
            """A class."""
        A.__module__ = None
        def f():
            """A function."""
        f.__module__ = 5
        def g():
            """Another."""
        g.__module__ = ["not", "hashable"]
        g.__qualname__ = "g"
    '''})
    api = discover_api(["odd_module"])
    assert {"odd_module.A", "odd_module.f", "odd_module.g"} <= set(api.symbols)
    assert api.symbols["odd_module.A"].summary == "A class."
    assert api.warnings == []
    assert describe(api_object("odd_module", "A"))["module"] == ""
    assert describe(api_object("odd_module", "g"))["name"] == "g"


def api_object(module: str, name: str) -> object:
    return vars(sys.modules[module])[name]


def test_doc_property_that_raises(packages: Path) -> None:
    write_package(packages, "raising_doc", {"__init__.py": '''
        """Raising docs."""
        class Meta(type):
            @property
            def __doc__(cls):
                raise RuntimeError("no doc for the class")
        class A(metaclass=Meta):
            def method(self):
                """A method."""
        class B:
            @property
            def __doc__(self):
                raise RuntimeError("no doc for instances")
            def __call__(self):
                pass
    '''})
    api = discover_api(["raising_doc"])
    assert api.symbols["raising_doc.A"].summary == ""
    assert api.symbols["raising_doc.A.method"].summary == "A method."
    assert "raising_doc.B" in api.symbols
    assert describe(api_object("raising_doc", "A"))["doc"] == ""


def test_class_that_contains_itself(packages: Path) -> None:
    write_package(packages, "self_nested", {"__init__.py": '''
        """Nested."""
        class Outer:
            """Outer."""
            class Inner:
                """Inner."""
                def method(self):
                    """A method."""
        Outer.Inner.Inner = Outer.Inner
        class X:
            """X."""
        class Y:
            """Y."""
        X.Y, Y.X = Y, X
        X.__qualname__, Y.__qualname__ = "Y.X", "X.Y"
    '''})
    api = discover_api(["self_nested"])
    assert api.symbols["self_nested.Outer.Inner.method"].kind == "method"
    assert api.canonical("self_nested.Outer.Inner.Inner") == "self_nested.Outer.Inner"
    assert "self_nested.Outer.Inner.Inner.Inner" not in api.symbols
    assert sum(name.count(".") > 4 for name in api.symbols) == 0


def test_module_getattr_that_raises_for_every_name(packages: Path) -> None:
    write_package(packages, "lazy_mod", {
        "__init__.py": '''
            """Lazy."""
            def visible():
                """Visible."""
            def __getattr__(name):
                raise ImportError(f"lazy attribute {name} failed")
        ''',
        "listed.py": '''
            """Lists a lazy name."""
            __all__ = ["here", "lazy"]
            def here():
                """Here."""
            def __getattr__(name):
                raise RuntimeError(f"cannot load {name}")
        ''',
    })
    api = discover_api(["lazy_mod"])
    assert "lazy_mod.visible" in api.symbols and "lazy_mod.listed.here" in api.symbols
    assert len(api.warnings) == 1
    assert "lazy_mod.listed.lazy cannot be read" in api.warnings[0]
    assert "RuntimeError: cannot load lazy" in api.warnings[0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("import sys\nsys.exit('bye')\n", "it calls sys.exit('bye')"),
        ("import sys\nsys.exit()\n", "it calls sys.exit(None)"),
        ("raise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
        ("import not_installed_anywhere_xyz\n", "ModuleNotFoundError"),
    ],
)
def test_package_that_fails_when_imported_is_an_error(
    packages: Path, body: str, reason: str
) -> None:
    write_package(packages, "broken_pkg", {"__init__.py": body})
    with pytest.raises(DocgenError, match="broken_pkg") as e:
        discover_api(["broken_pkg"])
    assert reason in str(e.value)


def test_submodule_that_fails_when_imported_is_a_warning(packages: Path) -> None:
    write_package(packages, "mixed_pkg", {
        "__init__.py": '"""Mixed."""\n',
        "good.py": 'def fine():\n    """Fine."""\n',
        "exits/__init__.py": "import sys\nsys.exit(3)\n",
        "raises.py": "raise ValueError('bad config')\n",
        "bad_all.py": '__all__ = 5\ndef listed():\n    """Listed."""\n',
    })
    api = discover_api(["mixed_pkg"])
    assert "mixed_pkg.good.fine" in api.symbols and "mixed_pkg.bad_all.listed" in api.symbols
    assert "mixed_pkg.exits" not in api.symbols and "mixed_pkg.raises" not in api.symbols
    text = "\n".join(api.warnings)
    assert "module mixed_pkg.exits cannot be imported (it calls sys.exit(3))" in text
    assert "module mixed_pkg.raises cannot be imported (ValueError: bad config)" in text
    assert "module mixed_pkg.bad_all: __all__ is int" in text


def test_objects_whose_introspection_raises(packages: Path) -> None:
    write_package(packages, "tricky", {"__init__.py": '''
        """Tricky."""
        def looped(x=1):
            """Wrapped in itself."""
        looped.__wrapped__ = looped
        class Sig:
            """Its signature raises."""
            @property
            def __signature__(self):
                raise RuntimeError("no signature")
        class BadRepr:
            def __repr__(self):
                raise RuntimeError("no repr")
        def with_default(x=BadRepr()):
            """A default whose repr raises."""
    '''})
    api = discover_api(["tricky"])
    assert {"tricky.looped", "tricky.Sig", "tricky.with_default"} <= set(api.symbols)
    assert describe(api_object("tricky", "with_default"))["params"][0]["default"] == "<BadRepr>"
    describe(api_object("tricky", "Sig"))
    describe(api_object("tricky", "looped"))


def test_the_build_names_the_failing_package_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    write_package(project, "exiting", {
        "__init__.py": '"""Exiting."""\nclass Outer:\n    """Outer."""\n    class Inner:\n'
                       '        """Inner."""\nOuter.Inner.Inner = Outer.Inner\n',
        "sub/__init__.py": "import sys\nsys.exit(4)\n",
    })
    write_notebook(project / "doc_nbs" / "index.ipynb", "md:# Home")
    (project / "pyproject.toml").write_text('[tool.docgen]\npackages = ["exiting"]\n')
    monkeypatch.setenv("PYTHONPATH", f"{project}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = run_docgen("build", "--no-exec", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "module exiting.sub cannot be imported (it calls sys.exit(4))" in result.stderr
    assert "Outer.Inner" in (project / "site" / "api" / "exiting.html").read_text()

    (project / "exiting" / "__init__.py").write_text("import sys\nsys.exit(4)\n")
    result = run_docgen("build", "--no-exec", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "package 'exiting'" in result.stderr and "sys.exit(4)" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_sees_a_bare_command_line_and_no_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that parses the command line or reads stdin at import (a script that is
    also a module) sees what a bare interpreter gives it, not docgen's own arguments."""
    project = tmp_path / "project"
    write_package(project, "scripty", {
        "__init__.py": '''\
            """Scripty."""
            import argparse, sys
            parser = argparse.ArgumentParser()
            parser.add_argument("--verbose", action="store_true")
            ARGS = parser.parse_args()  # docgen's `build --no-exec` would make this exit
            FIRST = sys.stdin.read()

            def run():
                """Run it."""
            ''',
    })
    write_notebook(project / "doc_nbs" / "index.ipynb", "md:# Home\n\nSee `scripty.run`.")
    (project / "pyproject.toml").write_text('[tool.docgen]\npackages = ["scripty"]\n')
    monkeypatch.setenv("PYTHONPATH", f"{project}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = run_docgen("build", "--no-exec", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "sys.exit" not in result.stderr and "usage:" not in result.stderr
    assert 'id="scripty.run"' in (project / "site" / "api" / "scripty.html").read_text()
