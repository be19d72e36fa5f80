"""Specs: every built-in component round-trips through plain data (``to_dict``/``from_dict``)
and whole graphs save to and load from YAML.

A spec is a dict with a ``type`` naming a registered component, or a factory reference
``"package.module:function"`` (a string, or ``{"ref": ..., "args": {...}}``) wherever a
runnable is expected. Register third-party components with :func:`register`; their
``from_spec(ctx)`` reads fields through :class:`SpecContext`, which reports bad values with
the field path and the allowed values, and unknown fields as typos.

Loading a spec may import the modules it names: load specs you trust, as you would code.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.files import atomic_write_text
from agentkit.core.runnable import Runnable


class SpecBuildable(Protocol):
    @classmethod
    def from_spec(cls, ctx: SpecContext) -> Runnable[Any, Any]: ...


T = TypeVar("T")
_REGISTRY: dict[str, Callable[[SpecContext], Any]] = {}
_REQUIRED: Any = object()
_BUILTIN_MODULES = (
    "agentkit.core.compose",
    "agentkit.prompts",
    "agentkit.parsers",
    "agentkit.llms.fake",
    "agentkit.chains",
    "agentkit.retrievers.embeddings",
    "agentkit.retrievers.vectorstores",
    "agentkit.retrievers.vector",
    "agentkit.retrievers.bm25",
    "agentkit.retrievers.hybrid",
    "agentkit.retrievers.rerank",
    "agentkit.memory",
    "agentkit.tools",
    "agentkit.agents",
    "agentkit.llms.hf",
    "agentkit.llms.openai_compat",
    "agentkit.llms.extractive",
    "agentkit.finetune",
    "agentkit.evals",
)


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
    _load_builtins()
    return sorted(_REGISTRY)


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:  # a part whose optional dependencies are missing
            if (e.name or "").partition(".")[0] in ("", "agentkit"):
                raise  # a bug in agentkit itself: show it, not "unknown type"


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
            exc = resolve_ref(f"{module}:{attr}", f"{self._at(key)}[{i}]")
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


def load(data: Any, path: str = "$") -> Any:
    """Build a runnable (or other registered component) from a spec dict or a factory
    reference."""
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
        return _from_ref(str(data["ref"]), dict(args), f"{path}.ref")
    if "type" not in data:
        raise SpecError(
            f"{path}.type", "missing; every spec names its component type", registered_types()
        )
    type_name = data["type"]
    if not isinstance(type_name, str):
        raise SpecError(f"{path}.type", f"expected a type name, got {type(type_name).__name__}")
    builder = _REGISTRY.get(type_name)
    if builder is None:
        _load_builtins()
        builder = _REGISTRY.get(type_name)
    if builder is None:
        raise SpecError(f"{path}.type", f"unknown type {type_name!r}", allowed=registered_types())
    ctx = SpecContext(data, path)
    try:
        result = builder(ctx)
    except SpecError:
        raise
    except UsageError as exc:
        raise SpecError(path, str(exc)) from exc
    ctx.check_unknown()
    return result


def _from_ref(ref: str, args: dict[str, Any], path: str) -> Any:
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


def resolve_ref(ref: str, path: str = "$") -> Any:
    """Import ``package.module:attribute.path``."""
    module_name, sep, attr_path = ref.partition(":")
    if not sep or not module_name or not attr_path:
        raise SpecError(
            path, f"invalid factory reference {ref!r}; write it as 'package.module:function'"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(path, f"cannot import module {module_name!r} ({exc})") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise SpecError(path, f"{module_name!r} has no attribute {attr_path!r}") from exc
    return obj


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


# --- files ------------------------------------------------------------------------------


def save(runnable: Runnable[Any, Any], path: str | Path) -> Path:
    """Write the runnable's spec as YAML (or JSON for ``.json``), atomically."""
    import yaml

    target = Path(path)
    spec = dump(runnable)
    text = (
        json.dumps(spec, indent=2)
        if target.suffix == ".json"
        else yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    )
    atomic_write_text(target, text)
    return target


def load_file(source: str | Path | Mapping[str, Any]) -> Runnable[Any, Any]:
    """Load a graph from a YAML/JSON file, a spec dict, or a ``module:function`` reference."""
    if isinstance(source, Mapping):
        return load(source)
    text_source = str(source)
    path = Path(text_source)
    if path.suffix in (".yaml", ".yml", ".json"):
        if not path.exists():
            raise UsageError(f"spec file {path} does not exist; check the path")
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecError("$", f"{path} is not valid YAML: {exc}") from exc
        return load(data, "$")
    if ":" in text_source and not path.exists():
        return load(text_source)
    raise UsageError(
        f"cannot load {text_source!r}: give a .yaml/.yml/.json spec file or a "
        "'package.module:function' factory reference"
    )
