"""`show_doc(obj)` and `doc(obj)`, called inside notebooks.

`describe` turns an object into plain JSON (its signature, docstring, source line); the
output carries it as a MIME payload that the build renders into an API entry, and as HTML
for Jupyter. This package imports nothing from the build side, so a kernel stays light.
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import sys
from typing import Any

from docgen.runtime.docments import docments
from docgen.runtime.entry import _IDENTIFIER, _signature_html, html_text, render_doc_html
from docgen.runtime.objects import member_function, source_line
from docgen.runtime.userobjects import FAILURES, docstring, text_attr

__all__ = ["DOC_MIME", "show_doc", "doc", "describe", "render_doc_html"]


DOC_MIME = "application/vnd.docgen.doc+json"


_MISSING = object()


def _kind(obj: Any) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if isinstance(obj, property):
        return "property"
    qualname = text_attr(obj, "__qualname__")
    if "." in qualname and "<locals>" not in qualname.split(".")[-2]:
        return "method"
    return "function"


def full_name(obj: Any) -> str:
    """`module.qualname` of an object (of a property's getter for a property)."""
    if inspect.ismodule(obj):
        return obj.__name__
    target = obj.fget if isinstance(obj, property) else obj
    module = text_attr(target, "__module__")
    qualname = text_attr(target, "__qualname__") or text_attr(target, "__name__")
    return f"{module}.{qualname}" if module else qualname


def _is_documentable(obj: Any) -> bool:
    """Classes, functions and modules; not values such as `Size = tuple[int, int]`."""
    return inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)


def _annotation_names(text: str, globalns: dict[str, Any]) -> dict[str, list[str]]:
    """Dotted names in an annotation's text -> full names of what they denote, best first.

    Looked up in the namespace of the object's module, as Python would evaluate them:
    `Tensor` written in a module that did `from torch import Tensor` is `torch.Tensor`.
    """
    found: dict[str, list[str]] = {}
    for m in _IDENTIFIER.finditer(text):
        written = m.group(0)
        head, *rest = written.split(".")
        obj = globalns[head] if head in globalns else getattr(builtins, head, _MISSING)
        candidates = []
        if obj is not _MISSING:
            reached = obj.__name__ if inspect.ismodule(obj) else full_name(obj)
            for attr in rest:
                try:
                    obj = getattr(obj, attr, _MISSING)
                except FAILURES:  # a descriptor or module `__getattr__` that raises
                    obj = _MISSING
                reached = f"{reached}.{attr}"
                if obj is _MISSING:
                    break
            if obj is not _MISSING and reached and _is_documentable(obj):
                candidates.append(reached)
                real = full_name(obj)
                if real and real not in candidates:
                    candidates.append(real)
        elif rest:
            candidates.append(written)  # a string annotation naming a module not imported
        if candidates:
            found[written] = candidates
    return found


def _format_annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    try:
        return inspect.formatannotation(annotation)
    except FAILURES:  # its repr is the project's code
        return f"<{type(annotation).__name__}>"


def _default_text(value: Any, factories: dict[str, Any] | None = None, name: str = "") -> str:
    """A default value as the signature shows it: short, and the same from run to run."""
    try:
        text = repr(value)
    except FAILURES:  # a default value's `__repr__` is the project's code
        return f"<{type(value).__name__}>"
    if text == "<factory>" and factories and name in factories:
        factory = factories[name]  # a dataclass field's default_factory
        label = text_attr(factory, "__qualname__")
        return f"{label}()" if label and "<lambda>" not in label else "..."
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
        return text_attr(value, "__qualname__") or f"<{type(value).__name__}>"
    if inspect.ismodule(value):
        return value.__name__
    if len(text) > 60 or "\n" in text or " at 0x" in text or text == "<factory>":
        text = f"<{type(value).__name__}>"
    return text


def describe(
    obj: Any, name: str | None = None, level: int | None = None, home: bool = True
) -> dict[str, Any]:
    """A plain-JSON description of `obj`: what `render_doc_html` needs, nothing live."""
    kind = _kind(obj)
    target = member_function(obj)
    fullname = name or full_name(obj)
    module = obj.__name__ if kind == "module" else text_attr(target, "__module__")
    qualname = text_attr(target, "__qualname__") or fullname
    display = fullname if kind == "module" else qualname
    globalns = vars(sys.modules[module]) if module in sys.modules else {}
    params: list[dict[str, Any]] = []
    returns = None
    returns_comment = ""
    names: dict[str, list[str]] = {}
    if kind not in ("module", "property"):
        try:
            sig = inspect.signature(target)
        except FAILURES:  # no signature, or a `__signature__` of the project's that raises
            sig = None
        factories = {
            f.name: f.default_factory
            for f in (dataclasses.fields(target) if dataclasses.is_dataclass(target) else ())
            if f.default_factory is not dataclasses.MISSING
        }
        if sig is not None:
            for p in sig.parameters.values():
                annotation = None
                if p.annotation is not inspect.Parameter.empty:
                    annotation = _format_annotation(p.annotation)
                    names.update(_annotation_names(annotation, globalns))
                params.append(
                    {
                        "name": p.name,
                        "kind": p.kind.name,
                        "annotation": annotation,
                        "default": None
                        if p.default is inspect.Parameter.empty
                        else _default_text(p.default, factories, p.name),
                    }
                )
            if sig.return_annotation is not inspect.Signature.empty and kind != "class":
                returns = _format_annotation(sig.return_annotation)
                names.update(_annotation_names(returns, globalns))
            if kind == "method" and params and params[0]["name"] in ("self", "cls"):
                params = params[1:]
            comments, returns_comment = docments(target)
            for param in params:
                if param["name"] in comments:
                    param["comment"] = comments[param["name"]]
    elif kind == "property":
        try:
            annotations = getattr(target, "__annotations__", None)
        except FAILURES:  # the project's own descriptor
            annotations = None
        ret = annotations.get("return") if isinstance(annotations, dict) else None
        if ret is not None:
            returns = _format_annotation(ret)
            names.update(_annotation_names(returns, globalns))
    line = source_line(target) if kind != "module" else 1
    if level is None:
        level = {"module": 2, "class": 3, "function": 3}.get(kind, 4)
    return {
        "name": fullname,
        "display": display,
        "kind": kind,
        "module": module,
        "params": params,
        "returns": returns,
        "returns_comment": returns_comment,
        "names": names,
        "doc": docstring(obj),
        "line": line,
        "level": level,
        "home": home,
    }


def _plain_markdown(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["fenced_code", "tables"])


class ShowDoc:
    """What `show_doc` returns: displayed by Jupyter, rendered again by the docgen build."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _repr_html_(self) -> str:
        anchor = self.data["name"] if self.data["home"] else None
        return render_doc_html(self.data, markdown=_plain_markdown, anchor=anchor)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        plain = f"{self.data['display']}{self._plain_signature()}"
        bundle = {"text/html": self._repr_html_(), "text/plain": plain, DOC_MIME: self.data}
        return bundle, {DOC_MIME: {"name": self.data["name"]}}

    def _plain_signature(self) -> str:
        if self.data["kind"] in ("module", "property"):
            return ""
        return html_text(_signature_html(self.data, lambda n: None))

    def __repr__(self) -> str:
        return f"<show_doc {self.data['name']}>"


def show_doc(obj: Any, name: str | None = None, level: int | None = None) -> ShowDoc:
    """Document `obj` here: heading with a stable anchor, signature, docstring, source link.

    Args:
        obj: A module, class, function, method or property.
        name: The name to document it under, if not its `module.qualname`.
        level: Heading level; by default 2 for modules, 3 for classes and functions,
            4 for methods and properties.
    """
    return ShowDoc(describe(obj, name=name, level=level, home=True))


def doc(obj: Any) -> ShowDoc:
    """Show `obj`'s documentation, linking to the page that documents it."""
    return ShowDoc(describe(obj, home=False))
