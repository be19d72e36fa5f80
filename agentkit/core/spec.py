"""Specs: every built-in component round-trips through plain data (``to_dict``/``from_dict``)
and whole graphs save to and load from YAML.

A spec is a dict with a ``type`` naming a registered component, or a factory reference
``"package.module:function"`` (a string, or ``{"ref": ..., "args": {...}}``) wherever a
runnable is expected. A component's ``from_spec(ctx)`` reads fields through
:class:`SpecContext`, which reports bad values with the field path and the allowed values,
and unknown fields as typos.

Types are found lazily: a type registered in this process (:func:`register`,
:func:`add_builder`), else the ``agentkit.specs`` entry point of that name, which names a
module that registers it, a class with ``from_spec`` or a builder function. agentkit's own
types are entry points in its ``pyproject.toml``; a third-party package adds its own the same
way, so nothing here lists the layers above core.

Specs are data: references are resolved under :mod:`agentkit.core.refs`, which by default
admits agentkit's own components only; ``load(..., allow_imports=True)`` (or a list of
trusted module prefixes) lets a spec the caller trusts import its own code.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import Any, Protocol, TypeVar

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.files import atomic_write_text
from agentkit.core.refs import (
    AllowImports,
    allowing_imports,
    check_trusted_fields,
    data_only,
    resolve_ref,
)
from agentkit.core.runnable import Runnable

__all__ = [
    "SpecContext",
    "add_builder",
    "atomic_write_text",
    "dump",
    "function_ref",
    "load",
    "load_data",
    "load_file",
    "read_spec_file",
    "register",
    "registered_types",
    "resolve_ref",
    "save",
]


class SpecBuildable(Protocol):
    @classmethod
    def from_spec(cls, ctx: SpecContext) -> Runnable[Any, Any]: ...


T = TypeVar("T")
_REGISTRY: dict[str, Callable[[SpecContext], Any]] = {}
_REQUIRED: Any = object()
ENTRY_POINT_GROUP = "agentkit.specs"


def register(type_name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make ``type: <type_name>`` build this class via ``cls.from_spec``."""

    def deco(cls: type[T]) -> type[T]:
        builder = getattr(cls, "from_spec", None)
        if builder is None:
            raise UsageError(f"{cls.__name__} needs a classmethod from_spec(ctx) to be registered")
        _REGISTRY[type_name] = builder
        return cls

    return deco


def add_builder(type_name: str, builder: Callable[[SpecContext], Any]) -> None:
    """Register a plain builder function for ``type: <type_name>``."""
    _REGISTRY[type_name] = builder


def registered_types() -> list[str]:
    """Every type a spec may name: those registered so far and every entry point's."""
    for name, entry in _entry_points().items():
        if name not in _REGISTRY:
            try:
                _load_entry_point(name, entry)
            except SpecError:  # a part whose optional dependencies are missing
                continue
    return sorted(_REGISTRY)


@functools.cache
def _entry_points() -> dict[str, Any]:
    """``{type name: entry point}`` of the installed packages; agentkit's own win. Every
    distribution is read (not just the first of each name), so a stale ``*.egg-info`` in
    the working directory does not hide the installed package's entry points."""
    from importlib.metadata import distributions

    found: dict[str, Any] = {}
    for dist in distributions():
        own = (dist.metadata["Name"] or "").lower() == "agentkit"
        for entry in dist.entry_points:
            if entry.group == ENTRY_POINT_GROUP and (own or entry.name not in found):
                found[entry.name] = entry
    return found


def _builder(type_name: str) -> Callable[[SpecContext], Any] | None:
    """The builder of ``type_name``, loading its entry point on first use."""
    builder = _REGISTRY.get(type_name)
    if builder is None and type_name in _entry_points():
        _load_entry_point(type_name, _entry_points()[type_name])
        builder = _REGISTRY.get(type_name)
    return builder


def _load_entry_point(type_name: str, entry: Any) -> None:
    """Import an entry point: a module that registers the type, a class with ``from_spec``
    or a builder function (registered here)."""
    try:
        target = entry.load()
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in ("", "agentkit"):
            raise  # a bug in agentkit itself: show it, not "unknown type"
        raise SpecError(
            "$.type", f"type {type_name!r} needs the missing package {exc.name!r} ({exc})"
        ) from exc
    if type_name in _REGISTRY:
        return
    builder = getattr(target, "from_spec", None)
    if builder is None and callable(target) and not isinstance(target, type | ModuleType):
        builder = target
    if builder is None:
        raise SpecError(
            "$.type",
            f"the entry point {entry.value!r} of type {type_name!r} neither registers it nor "
            "names a class with from_spec(ctx) or a builder function",
        )
    _REGISTRY[type_name] = builder


class SpecContext:
    """Typed access to one spec dict, tracking its path and the fields that were read."""

    def __init__(self, data: Mapping[str, Any], path: str = "$") -> None:
        self.data, self.path, self.seen = data, path, {"type"}

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _missing(self, key: str) -> SpecError:
        """A required field is absent; point at a likely typo among the given fields."""
        import difflib

        others = [str(k) for k in self.data if k not in self.seen]
        close = difflib.get_close_matches(key, others, n=1)
        hint = f" (found {close[0]!r}: a typo?)" if close else ""
        return SpecError(self._at(key), f"required field is missing{hint}")

    def get(
        self,
        key: str,
        types: type | tuple[type, ...] = object,
        default: Any = _REQUIRED,
        choices: Any = None,
        minimum: float | None = None,
    ) -> Any:
        """A field's value, checked against ``types``, ``choices`` and ``minimum``."""
        self.seen.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise self._missing(key)
            return default
        value = self.data[key]
        if types is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, types) or (types is int and isinstance(value, bool)):
            wanted = (
                types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
            )
            raise SpecError(
                self._at(key), f"expected {wanted}, got {type(value).__name__} {value!r}"
            )
        if choices is not None and value not in choices:
            raise SpecError(
                self._at(key), f"invalid value {value!r}", allowed=[str(c) for c in choices]
            )
        if minimum is not None and isinstance(value, int | float) and value < minimum:
            raise SpecError(self._at(key), f"must be at least {minimum}, got {value!r}")
        return value

    def options(self, fields: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
        """The optional ``fields`` (name: types) the spec sets, each checked as by
        :meth:`get`; absent ones are left out, so the builder's own defaults apply."""
        return {key: self.get(key, types) for key, types in fields.items() if key in self.data}

    def component(self, key: str, default: Any = _REQUIRED) -> Any:
        """A nested component that is not a runnable (an embedder, a memory, ...)."""
        return self.runnable(key, default)

    def runnable(self, key: str, default: Any = _REQUIRED) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise self._missing(key)
            return default
        return load(self.data[key], self._at(key))

    def runnables(self, key: str) -> list[Runnable[Any, Any]]:
        items = self.get(key, list)
        return [load(item, f"{self._at(key)}[{i}]") for i, item in enumerate(items)]

    def runnable_map(self, key: str) -> dict[str, Runnable[Any, Any]]:
        items = self.get(key, dict)
        return {str(k): load(v, f"{self._at(key)}.{k}") for k, v in items.items()}

    def sub(self, key: str) -> SpecContext:
        return SpecContext(self.get(key, dict), self._at(key))

    def function(self, key: str) -> Callable[..., Any]:
        return resolve_ref(self.get(key, str), self._at(key))

    def exceptions(self, key: str) -> tuple[type[BaseException], ...]:
        names = self.get(key, list, default=["builtins.Exception"])
        out = []
        for i, name in enumerate(names):
            module, _, attr = str(name).rpartition(".")
            where = f"{self._at(key)}[{i}]"
            if module != "builtins":
                exc = resolve_ref(f"{module}:{attr}", where)
            elif hasattr(builtins, attr):  # a name, not an import: always allowed
                exc = getattr(builtins, attr)
            else:
                raise SpecError(where, f"'builtins' has no attribute {attr!r}")
            if not (isinstance(exc, type) and issubclass(exc, BaseException)):
                raise SpecError(f"{self._at(key)}[{i}]", f"{name} is not an exception type")
            out.append(exc)
        return tuple(out)

    def check_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise SpecError(
                self._at(unknown[0]), f"unknown field {unknown[0]!r}", allowed=sorted(self.seen)
            )


def dump(component: Any) -> dict[str, Any]:
    """The spec of a runnable or other registered component (nested ones included)."""
    to_dict = getattr(component, "to_dict", None)
    if to_dict is None:
        raise SpecError("$", f"{type(component).__name__} cannot be serialised; give it to_dict()")
    return to_dict()


def load(data: Any, path: str = "$", *, allow_imports: AllowImports = None) -> Any:
    """Build a runnable (or other registered component) from a spec dict or a factory
    reference. ``allow_imports`` (``True``, or module prefixes such as ``["myproject."]``)
    lets references import the caller's own code; ``None`` keeps the policy in force
    (by default: agentkit's own components only, see :mod:`agentkit.core.refs`)."""
    with allowing_imports(allow_imports):
        return _load(data, path)


def load_data(data: Any, where: str, types: Collection[str]) -> Any:
    """Build a component from a file agentkit wrote itself (an index manifest, a run
    folder): its ``type`` must be one of ``types`` and no reference anywhere may import code,
    whatever the caller allows. ``where`` names the file in errors."""
    if isinstance(data, str) or (isinstance(data, Mapping) and "ref" in data):
        raise SpecError(
            where,
            "is a code reference; this file names registered agentkit types only and never "
            "imports code (it may have been tampered with: rebuild it)",
        )
    if not isinstance(data, Mapping) or data.get("type") not in types:
        got = data.get("type") if isinstance(data, Mapping) else type(data).__name__
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        raise SpecError(where, f"expected a spec of type {', '.join(sorted(types))}; got {shown}")
    with data_only():
        return _load(data, where)


def _load(data: Any, path: str) -> Any:
    if isinstance(data, Runnable):
        return data
    if isinstance(data, str):
        return _from_ref(data, {}, path)
    if not isinstance(data, Mapping):
        raise SpecError(
            path, f"expected a spec dict or 'module:function' string, got {type(data).__name__}"
        )
    if "ref" in data:
        extra = sorted(set(data) - {"ref", "args"})
        if extra:
            raise SpecError(
                f"{path}.{extra[0]}", "unknown field next to 'ref'", allowed=["args", "ref"]
            )
        args = data.get("args") or {}
        if not isinstance(args, Mapping):
            raise SpecError(
                f"{path}.args", f"expected a dict of arguments, got {type(args).__name__}"
            )
        check_trusted_fields(args, f"{path}.args")
        return _from_ref(data["ref"], dict(args), f"{path}.ref")
    if "type" not in data:
        raise SpecError(
            f"{path}.type", "missing; every spec names its component type", registered_types()
        )
    type_name = data["type"]
    if not isinstance(type_name, str):
        raise SpecError(f"{path}.type", f"expected a type name, got {type(type_name).__name__}")
    builder = _builder(type_name)
    if builder is None:
        raise SpecError(f"{path}.type", f"unknown type {type_name!r}", allowed=registered_types())
    check_trusted_fields(data, path)
    ctx = SpecContext(data, path)
    try:
        result = builder(ctx)
    except SpecError:
        raise
    except UsageError as exc:
        raise SpecError(path, str(exc)) from exc
    ctx.check_unknown()
    return result


def _from_ref(ref: Any, args: dict[str, Any], path: str) -> Any:
    """Call a factory reference; a class or function is called with ``args``."""
    target = resolve_ref(ref, path)
    if isinstance(target, Runnable):
        return target
    if not callable(target):
        raise SpecError(path, f"{ref} is neither a runnable nor a factory")
    try:
        return target(**args)
    except TypeError as exc:
        raise SpecError(path, f"calling {ref} failed: {exc}") from exc


def function_ref(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level function, or a SpecError saying how to fix it."""
    qualname = getattr(fn, "__qualname__", "")
    module = getattr(fn, "__module__", None)
    if not module or not qualname or "<" in qualname:
        raise SpecError(
            "$",
            f"function {getattr(fn, '__name__', fn)!r} cannot be serialised: only module-level "
            "functions can; define it with 'def' at module level",
        )
    return f"{module}:{qualname}"


def exception_names(types: tuple[type[BaseException], ...]) -> list[str]:
    return [f"{t.__module__}.{t.__qualname__}" for t in types]


# files: save/load YAML and JSON (re-exported here; they live in their own module)
from agentkit.core.specfile import load_file, read_spec_file, save  # noqa: E402
