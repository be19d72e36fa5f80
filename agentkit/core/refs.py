"""Which ``module:function`` references a spec may import: specs are data.

By default a spec resolves references into agentkit's own component packages only (a
function or class *defined* there, reached without passing through another module or a
private name); anything else is refused with a :class:`SpecError` saying how to opt in.
The caller opts in per load (``agentkit.load(path, allow_imports=True)``, or a list of
trusted module prefixes such as ``["myproject."]``), for a block of code
(``with allowing_imports(["myproject."]): ...``), or for a process through the
``AGENTKIT_ALLOW_IMPORTS`` environment variable (``1`` for everything, else a comma-separated
list of prefixes). Files the project writes and reads back (index manifests, run folders,
registries) load under :func:`data_only`, which refuses every reference.

The permission lives in a context variable, so nested loads (a spec file naming another
spec, a builder loading its fields) inherit it without passing it along.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from agentkit.core.errors import SpecError

ENV_VAR = "AGENTKIT_ALLOW_IMPORTS"
AllowImports = bool | Sequence[str] | None
ALLOW_IMPORTS_HELP = (
    "Let the chain spec import and run any code it names ('module:function' references "
    "outside agentkit). Only for specs you trust as code: without it a spec is data and names "
    "registered agentkit types and agentkit's own components only. To trust one package "
    "instead, set AGENTKIT_ALLOW_IMPORTS=myproject."
)

# agentkit packages whose public functions and classes build components; a reference may
# name them by default. Modules that act on the machine (write files, run code, load specs,
# drive the CLI) are left out: a spec could otherwise call them with arguments of its own.
AGENTKIT_REF_PACKAGES = (
    "agentkit",  # the top-level re-exports (checked again at their defining module)
    "agentkit.core",
    "agentkit.prompts",
    "agentkit.parsers",
    "agentkit.llms",
    "agentkit.chains",
    "agentkit.retrievers",
    "agentkit.memory",
    "agentkit.tools",
    "agentkit.agents",
    "agentkit.readers",
    "agentkit.evals.suites",
    "agentkit.evals.metrics",
)
AGENTKIT_NEVER = (
    "agentkit.core.spec",
    "agentkit.core.specfile",
    "agentkit.core.refs",
    "agentkit.core.files",
    "agentkit.core.tracing",
    "agentkit.core.datafile",
    "agentkit.tools.pyexec",
    "agentkit.tools.pychild",
    "agentkit.tools.safe",
    "agentkit.retrievers.ingest",
    "agentkit.retrievers.vectorstores.persist",
    "agentkit.llms.hf.adapters",
)
# builtins a spec may name (``Lambda(len)`` saves as ``builtins:len``): pure functions of
# their input that neither import, evaluate, open files nor build huge numbers
SAFE_BUILTINS = frozenset(
    {
        "abs",
        "all",
        "any",
        "bool",
        "chr",
        "dict",
        "enumerate",
        "float",
        "frozenset",
        "int",
        "len",
        "list",
        "max",
        "min",
        "ord",
        "repr",
        "reversed",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    }
)
# single functions of otherwise allowed modules that import a module named by their argument
AGENTKIT_NEVER_OBJECTS = frozenset({"agentkit.core.errors.import_optional"})
_TRUSTED_FIELDS = ("trust_remote_code",)  # options that run code shipped with a model


@dataclass(frozen=True)
class ImportPolicy:
    """What references may import: ``everything``, modules under ``prefixes`` (besides
    agentkit's component packages), or, with ``refs=False``, nothing at all."""

    everything: bool = False
    prefixes: tuple[str, ...] = ()
    refs: bool = True

    @classmethod
    def of(cls, allow_imports: AllowImports) -> ImportPolicy:
        if allow_imports is None or allow_imports is False:
            return cls()
        if allow_imports is True:
            return cls(everything=True)
        if isinstance(allow_imports, str) or not all(isinstance(p, str) for p in allow_imports):
            raise SpecError(
                "allow_imports",
                f"expected True, False or a list of module prefixes (['myproject.']), "
                f"got {allow_imports!r}",
            )
        prefixes = tuple(p.strip() for p in allow_imports if p.strip())
        return cls(prefixes=prefixes)

    def trusts(self, module: str) -> bool:
        """Whether the caller opted in to importing ``module``."""
        return self.everything or any(_under(module, p) for p in self.prefixes)


_POLICY: ContextVar[ImportPolicy | None] = ContextVar("agentkit_import_policy", default=None)


def current_policy() -> ImportPolicy:
    """The policy in force: the innermost :func:`allowing_imports`, else the environment."""
    policy = _POLICY.get()
    return policy if policy is not None else _from_env(os.environ.get(ENV_VAR, ""))


def imports_allowed() -> bool:
    """Whether the caller trusts the spec being loaded as code (``allow_imports=True``)."""
    return current_policy().everything


@contextlib.contextmanager
def allowing_imports(allow_imports: AllowImports) -> Iterator[ImportPolicy]:
    """Load specs under ``allow_imports`` inside the block (``None`` keeps the current
    policy; ``False`` restores the default)."""
    if allow_imports is None:
        yield current_policy()
        return
    policy = ImportPolicy.of(allow_imports)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


@contextlib.contextmanager
def data_only() -> Iterator[None]:
    """Inside the block, every reference is refused: for files agentkit wrote itself."""
    token = _POLICY.set(ImportPolicy(refs=False))
    try:
        yield
    finally:
        _POLICY.reset(token)


def _from_env(value: str) -> ImportPolicy:
    text = value.strip()
    if text.lower() in ("1", "true", "yes", "all", "*"):
        return ImportPolicy(everything=True)
    if text.lower() in ("", "0", "false", "no"):
        return ImportPolicy()
    return ImportPolicy(prefixes=tuple(p.strip() for p in text.split(",") if p.strip()))


def _under(module: str, prefix: str) -> bool:
    base = prefix.rstrip(".")
    return bool(base) and (module == base or module.startswith(base + "."))


def agentkit_refable(module: str, defined_in: bool = False) -> bool:
    """Whether a reference may name agentkit module ``module`` by default (``defined_in``:
    whether a function or class defined there may be reached; the top-level package only
    re-exports, and its own helpers such as ``agentkit.index`` write folders)."""
    if any(_under(module, p) for p in AGENTKIT_NEVER):
        return False
    if module == "agentkit":
        return not defined_in
    return any(_under(module, p) for p in AGENTKIT_REF_PACKAGES[1:])


def _refused(ref: str, module: str, path: str, why: str) -> SpecError:
    top = module.partition(".")[0][:40] or "myproject"
    shown = repr(ref) if len(ref) <= 100 else repr(ref[:97] + "...")
    return SpecError(
        path,
        f"refusing to import {shown}: {why}. Specs are data: by default they name "
        "registered agentkit types and agentkit's own components only. If you trust this "
        f"spec as code, load it with allow_imports=True (or allow_imports=['{top}.']), or "
        "pass --allow-imports on the command line",
    )


def resolve_ref(ref: str, path: str = "$") -> Any:
    """Import ``package.module:attribute.path``, if the current policy permits it."""
    if not isinstance(ref, str):
        raise SpecError(path, f"expected a 'package.module:function' string, got {ref!r}")
    module_name, sep, attr_path = ref.partition(":")
    if not sep or not module_name or not attr_path:
        raise SpecError(
            path, f"invalid factory reference {ref!r}; write it as 'package.module:function'"
        )
    policy = current_policy()
    if not policy.refs:
        raise SpecError(
            path,
            f"{ref!r} is a code reference; this file names registered agentkit types only "
            "and never imports code (it may have been tampered with: rebuild it)",
        )
    if module_name == "builtins" and attr_path in SAFE_BUILTINS:
        return getattr(importlib.import_module("builtins"), attr_path)
    trusted = policy.trusts(module_name)
    parts = attr_path.split(".")
    if not policy.everything:
        names = [*module_name.split("."), *parts]
        private = "__" if trusted else "_"  # a trusted module's own _helpers are fine
        if not all(n.isidentifier() and n.isascii() and not n.startswith(private) for n in names):
            raise _refused(ref, module_name, path, "it names a private or malformed name")
        if not trusted and not agentkit_refable(module_name):
            raise _refused(ref, module_name, path, f"module {module_name!r} is not trusted")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(path, f"cannot import module {module_name!r} ({exc})") from exc
    for part in parts:
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise SpecError(path, f"{module_name!r} has no attribute {attr_path!r}") from exc
        if isinstance(obj, ModuleType) and not policy.everything:
            raise _refused(ref, module_name, path, f"{part!r} is a module, not a component")
    if not policy.everything and callable(obj):
        home = str(getattr(obj, "__module__", None) or type(obj).__module__)
        qualified = f"{home}.{getattr(obj, '__qualname__', '')}"
        if qualified in AGENTKIT_NEVER_OBJECTS and not policy.trusts(home):
            raise _refused(ref, module_name, path, "it imports modules by name")
        if not policy.trusts(home) and not agentkit_refable(home, defined_in=True):
            raise _refused(
                ref, module_name, path, f"it is defined in {home!r}, not in {module_name!r}"
            )
    return obj


def check_trusted_fields(data: Mapping[str, Any] | Sequence[Any], path: str) -> None:
    """Refuse options that run code shipped with a model (``trust_remote_code: true``)
    unless imports are allowed, anywhere inside ``data``."""
    if imports_allowed():
        return
    items = data.items() if isinstance(data, Mapping) else enumerate(data)
    for key, value in items:
        where = f"{path}.{key}" if isinstance(data, Mapping) else f"{path}[{key}]"
        if key in _TRUSTED_FIELDS and value:
            raise SpecError(
                where,
                f"{key} runs Python code shipped with the model folder; specs are data, so "
                "it needs allow_imports=True (--allow-imports) from a caller who trusts it",
            )
        if isinstance(value, Mapping | list | tuple):
            check_trusted_fields(value, where)
