"""Run configuration passed down a chain graph.

A :class:`RunConfig` is immutable; nodes derive children with :meth:`RunConfig.merge` or
:meth:`RunConfig.child`. ``plain`` is precomputed so that the untraced hot path costs one
attribute read per node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError

if TYPE_CHECKING:
    from agentkit.core.events import EventSink
    from agentkit.core.tracing import Tracer

_FIELDS = (
    "tracers",
    "callbacks",
    "tags",
    "metadata",
    "run_name",
    "max_concurrency",
    "timeout",
    "configurable",
)


@dataclass(frozen=True)
class RunConfig:
    """Options for one run of a chain graph.

    Attributes:
        tracers: receive a span for every node run (see :mod:`agentkit.core.tracing`).
        tags: free-form labels copied onto every span.
        metadata: key/values copied onto every span.
        run_name: name of the root span (children keep their own names).
        max_concurrency: bound for ``batch``/``abatch`` and parallel fan-out.
        timeout: seconds for the node run with this config; raises ``RunTimeoutError``.
        configurable: values read by nodes at run time, such as ``session_id``.
        parent_run_id: set by the tracer machinery; do not set it yourself.
        events: the event sink of a ``stream_events`` run (set by ``stream_events``;
            not a ``with_config`` field).
        owner: the node whose span this config belongs to (set by the tracing
            machinery, so that a node calling its own methods makes one span, not two).
    """

    tracers: tuple[Tracer, ...] = ()
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    run_name: str | None = None
    max_concurrency: int | None = None
    timeout: float | None = None
    configurable: Mapping[str, Any] = field(default_factory=dict)
    parent_run_id: str | None = None
    events: EventSink | None = field(default=None, repr=False, compare=False)
    owner: object = field(init=False, repr=False, compare=False, default=None)
    plain: bool = field(init=False, repr=False, compare=False, default=True)

    def __post_init__(self) -> None:
        # normalise sequences so that merge() can append (RunConfig(tags=["a"]) is common)
        if type(self.tags) is not tuple:
            object.__setattr__(self, "tags", as_tags(self.tags))
        if type(self.tracers) is not tuple:
            object.__setattr__(self, "tracers", tuple(self.tracers))
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise UsageError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError(f"timeout must be a positive number of seconds, got {self.timeout}")
        plain = not self.tracers and self.timeout is None and self.events is None
        object.__setattr__(self, "plain", plain)

    def merge(self, **changes: Any) -> RunConfig:
        """A copy with ``changes``: tags and tracers append, dicts merge, the rest replaces."""
        updates: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in _FIELDS:
                raise UsageError(f"unknown run config field {key!r}; allowed: {', '.join(_FIELDS)}")
            if key in ("tracers", "callbacks"):
                updates["tracers"] = self.tracers + tuple(value)
            elif key == "tags":
                updates["tags"] = self.tags + as_tags(value)
            elif key in ("metadata", "configurable"):
                updates[key] = {**getattr(self, key), **value}
            else:
                updates[key] = value
        return replace(self, **updates)

    def child(self, parent_run_id: str | None, owner: object = None) -> RunConfig:
        """The config a node (``owner``) passes to the nodes it calls."""
        # a hand-rolled copy (this runs once per traced node): dataclasses.replace re-runs
        # __init__ and __post_init__ and costs about ten times more
        new = _new_config(RunConfig)
        fields = new.__dict__
        fields.update(self.__dict__)
        fields["parent_run_id"] = parent_run_id
        fields["run_name"] = None
        fields["timeout"] = None
        fields["owner"] = owner
        fields["plain"] = not self.tracers and self.events is None
        return new

    def get(self, key: str, default: Any = None) -> Any:
        """A ``configurable`` value (``config.get("session_id")``)."""
        return self.configurable.get(key, default)


_new_config = object.__new__
_DEFAULT = RunConfig()


def default_config() -> RunConfig:
    """The config used when none is given (carries the debug tracer when debug is on)."""
    return _DEFAULT


def set_default_config(config: RunConfig) -> None:
    """Replace the process-wide default config (used by :func:`agentkit.debug`)."""
    global _DEFAULT
    _DEFAULT = config


ConfigLike = RunConfig | Mapping[str, Any] | None


def ensure_config(config: ConfigLike) -> RunConfig:
    """Accept a :class:`RunConfig`, a plain dict of its fields (LangChain style), or None."""
    if config is None:
        return _DEFAULT
    if isinstance(config, RunConfig):
        if _DEFAULT.tracers and config.parent_run_id is None:
            return _with_default_tracers(config)  # debug is on: root runs get its tracer too
        return config
    if isinstance(config, Mapping):
        unknown = set(config) - set(_FIELDS)
        if unknown:
            raise UsageError(
                f"unknown run config field(s) {sorted(unknown)}; allowed: {', '.join(_FIELDS)}"
            )
        return _DEFAULT.merge(**dict(config))
    raise UsageError(
        f"config must be a RunConfig or a dict, got {type(config).__name__}; "
        "use RunConfig(tags=[...]) or {'configurable': {...}}"
    )


def _with_default_tracers(config: RunConfig) -> RunConfig:
    extra = [t for t in _DEFAULT.tracers if t not in config.tracers]
    return config.merge(tracers=extra) if extra else config


def as_tags(tags: str | Sequence[str] | None) -> tuple[str, ...]:
    """Tags as a tuple; a single string is one tag, not its characters."""
    if isinstance(tags, str):
        return (tags,)
    return tuple(tags or ())
