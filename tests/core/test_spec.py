"""Specs: round trips of every compose type, YAML files, factory references, registration
of third-party components, and errors with field paths."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

import agentkit
from agentkit.core import (
    Assign,
    Branch,
    Configured,
    Fallbacks,
    Lambda,
    Parallel,
    Passthrough,
    Pick,
    Retry,
    Runnable,
    Sequence,
    SpecError,
    UsageError,
    traced,
)
from agentkit.core.spec import (
    SpecContext,
    dump,
    function_ref,
    load,
    load_file,
    registered_types,
    resolve_ref,
)


def inc(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def is_big(x: int) -> bool:
    return x > 10


def total(d: dict[str, int]) -> int:
    return sum(d.values())


def make_chain(step: int = 1) -> Runnable[int, int]:
    """A factory: referenced as '<module>:make_chain'."""
    return Lambda(inc) | Lambda(functools.partial(_add, step=step), name="add")


def _add(x: int, step: int) -> int:
    return x + step


MODULE = __name__


def ref(name: str) -> str:
    return f"{MODULE}:{name}"


@agentkit.register("test_repeat")
class Repeat(Runnable[str, str]):
    """A third-party component registered with the decorator."""

    kind = "custom"

    def __init__(self, times: int = 2) -> None:
        self.times = times

    @traced
    def invoke(self, input: str, config: Any = None) -> str:
        return input * self.times

    def to_dict(self) -> dict[str, Any]:
        return {"type": "test_repeat", "times": self.times}

    @classmethod
    def from_spec(cls, ctx: SpecContext) -> Repeat:
        return cls(ctx.get("times", int, 2, minimum=1))


def every_compose_type() -> dict[str, Runnable[Any, Any]]:
    return {
        "lambda": Lambda(inc),
        "named_lambda": Lambda(double, name="twice", blocking=True),
        "sequence": Lambda(inc) | Lambda(double),
        "parallel": Parallel({"a": Lambda(inc), "b": Lambda(double)}) | Lambda(total),
        "passthrough": Passthrough() | Lambda(inc),
        "assign": Lambda(lambda_free_dict) | agentkit.assign(b=Lambda(total)) | Pick("b"),
        "pick": Lambda(lambda_free_dict) | Pick("a", "x"),
        "branch": agentkit.branch((Lambda(is_big), Lambda(double)), default=Lambda(inc)),
        "retry": Lambda(inc).with_retry(attempts=2, backoff=0.5, on=(ValueError, KeyError)),
        "fallbacks": Lambda(inc).with_fallbacks([Lambda(double)], on=(UsageError,)),
        "configured": Lambda(inc).with_config(tags=["t"], metadata={"k": 1}, run_name="r"),
    }


def lambda_free_dict(x: int) -> dict[str, int]:
    return {"a": x, "x": 1}


EXPECTED_TYPES = {
    "lambda": (Lambda, "lambda"),
    "named_lambda": (Lambda, "lambda"),
    "sequence": (Sequence, "sequence"),
    "parallel": (Sequence, "sequence"),
    "passthrough": (Sequence, "sequence"),
    "assign": (Sequence, "sequence"),
    "pick": (Sequence, "sequence"),
    "branch": (Branch, "branch"),
    "retry": (Retry, "retry"),
    "fallbacks": (Fallbacks, "fallbacks"),
    "configured": (Configured, "configured"),
}


@pytest.mark.parametrize("key", sorted(EXPECTED_TYPES))
def test_round_trip_through_dump_and_load(key: str) -> None:
    node = every_compose_type()[key]
    spec = dump(node)
    cls, type_name = EXPECTED_TYPES[key]
    assert spec["type"] == type_name
    rebuilt = load(spec)
    assert isinstance(rebuilt, cls)
    assert dump(rebuilt) == spec
    for value in (1, 20):
        assert rebuilt.invoke(value) == node.invoke(value)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip_through_files(tmp_path: Path, suffix: str) -> None:
    for key, node in every_compose_type().items():
        path = agentkit.save(node, tmp_path / f"{key}{suffix}")
        loaded = agentkit.load(path)
        assert dump(loaded) == dump(node), key
        assert loaded.invoke(3) == node.invoke(3), key
        assert agentkit.load(str(path)).invoke(30) == node.invoke(30), key


def test_saved_yaml_is_readable(tmp_path: Path) -> None:
    path = agentkit.save(Lambda(inc).with_retry(attempts=4), tmp_path / "chain.yaml")
    data = yaml.safe_load(path.read_text())
    assert data == {
        "type": "retry",
        "inner": {"type": "lambda", "fn": ref("inc")},
        "attempts": 4,
        "backoff": 0.0,
        "on": ["builtins.Exception"],
    }
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file


def test_every_compose_type_is_registered() -> None:
    types = set(registered_types())
    assert {t for _, t in EXPECTED_TYPES.values()} | {
        "parallel",
        "passthrough",
        "assign",
        "pick",
    } <= types


def test_all_mixed_in_one_graph_round_trips(tmp_path: Path) -> None:
    graph = (
        Lambda(inc)
        | {"a": Lambda(inc).with_retry(), "b": Passthrough()}
        | agentkit.assign(c=Lambda(total))
        | Pick("c")
        | agentkit.branch((Lambda(is_big), Lambda(double)), default=Lambda(inc))
    )
    loaded = agentkit.load(agentkit.save(graph, tmp_path / "g.yaml"))
    assert loaded.invoke(5) == graph.invoke(5) == 26


def test_factory_reference_string() -> None:
    chain = agentkit.load(ref("make_chain"))
    assert chain.invoke(1) == 3
    assert load(ref("make_chain")).invoke(1) == 3


def test_factory_reference_with_args_inside_a_spec() -> None:
    spec = {
        "type": "sequence",
        "steps": [{"ref": ref("make_chain"), "args": {"step": 10}}, ref("make_chain")],
    }
    assert load(spec).invoke(0) == 11 + 2


def test_factory_reference_to_a_runnable_instance() -> None:
    assert load(ref("PREBUILT")).invoke(1) == 2


PREBUILT = Lambda(inc)


def test_factory_reference_errors() -> None:
    with pytest.raises(SpecError, match=r"write it as 'package\.module:function'"):
        load("no_colon_here")
    with pytest.raises(SpecError, match="cannot import module 'no_such_module_xyz'"):
        load("no_such_module_xyz:f", allow_imports=True)
    with pytest.raises(SpecError, match="refusing to import 'no_such_module_xyz:f'"):
        load("no_such_module_xyz:f")
    with pytest.raises(SpecError, match="has no attribute 'missing'"):
        load(ref("missing"))
    with pytest.raises(SpecError, match=r"\$\.ref: calling .* failed"):
        load({"ref": ref("make_chain"), "args": {"bogus": 1}})
    with pytest.raises(SpecError, match=r"\$\.args: expected a dict of arguments"):
        load({"ref": ref("make_chain"), "args": [1]})
    with pytest.raises(SpecError, match=r"\$\.extra: unknown field next to 'ref'"):
        load({"ref": ref("make_chain"), "extra": 1})
    with pytest.raises(SpecError, match="neither a runnable nor a factory"):
        load(ref("MODULE"))


def test_third_party_component_registered_with_decorator(tmp_path: Path) -> None:
    assert "test_repeat" in registered_types()
    chain = Repeat(3) | Lambda(len)
    loaded = agentkit.load(agentkit.save(chain, tmp_path / "c.yaml"))
    assert (
        isinstance(loaded, Sequence)
        and isinstance(loaded.steps[0], Repeat)
        and loaded.steps[0].times == 3
    )
    assert loaded.invoke("ab") == 6
    with pytest.raises(SpecError, match=r"\$\.times: must be at least 1, got 0"):
        load({"type": "test_repeat", "times": 0})


def test_register_needs_from_spec() -> None:
    with pytest.raises(UsageError, match="needs a classmethod from_spec"):

        @agentkit.register("broken")
        class Broken:
            pass


def test_unknown_type_lists_allowed_types() -> None:
    with pytest.raises(SpecError) as info:
        load({"type": "sequense", "steps": []})
    err = info.value
    assert err.path == "$.type"
    assert "unknown type 'sequense'" in str(err)
    assert err.allowed is not None and "sequence" in err.allowed and "test_repeat" in err.allowed
    assert "allowed values: " in str(err)


def test_missing_or_bad_type() -> None:
    with pytest.raises(SpecError, match=r"\$\.type: missing; every spec names its component"):
        load({"steps": []})
    with pytest.raises(SpecError, match=r"\$\.type: expected a type name, got list"):
        load({"type": ["sequence"]})
    with pytest.raises(SpecError, match=r"\$: expected a spec dict or 'module:function' string"):
        load(42)


def test_invalid_value_reports_the_field_path() -> None:
    spec = {
        "type": "sequence",
        "steps": [
            {"type": "lambda", "fn": ref("inc")},
            {"type": "retry", "inner": {"type": "lambda", "fn": ref("inc")}, "attempts": "three"},
        ],
    }
    with pytest.raises(SpecError, match=r"\$\.steps\[1\]\.attempts: expected int, got str 'three'"):
        load(spec)
    spec["steps"][1]["attempts"] = 0  # type: ignore[index]
    with pytest.raises(SpecError, match=r"\$\.steps\[1\]\.attempts: must be at least 1, got 0"):
        load(spec)
    spec["steps"][1]["attempts"] = True  # type: ignore[index]
    with pytest.raises(SpecError, match=r"\$\.steps\[1\]\.attempts: expected int, got bool"):
        load(spec)


def test_nested_paths_in_maps_and_branches() -> None:
    with pytest.raises(SpecError, match=r"\$\.branches\.b\.type: unknown type"):
        load({"type": "parallel", "branches": {"a": ref("PREBUILT"), "b": {"type": "nope"}}})
    with pytest.raises(SpecError, match=r"\$\.cases\[0\]: must be a dict with 'when' and 'then'"):
        load({"type": "branch", "cases": [3], "default": ref("PREBUILT")})
    with pytest.raises(SpecError, match=r"\$\.cases\[0\]\.then: required field is missing"):
        load({"type": "branch", "cases": [{"when": ref("PREBUILT")}], "default": ref("PREBUILT")})
    with pytest.raises(
        SpecError, match=r"\.then: required field is missing \(found 'than': a typo"
    ):
        load(
            {
                "type": "branch",
                "cases": [{"when": ref("PREBUILT"), "than": ref("PREBUILT")}],
                "default": ref("PREBUILT"),
            }
        )


def test_unknown_field_is_rejected_with_allowed_fields() -> None:
    with pytest.raises(SpecError) as info:
        load({"type": "lambda", "fn": ref("inc"), "colour": "red"})
    assert info.value.path == "$.colour"
    assert "unknown field 'colour'" in str(info.value)
    assert info.value.allowed == ["blocking", "fn", "name", "type"]


def test_constructor_usage_errors_become_spec_errors() -> None:
    with pytest.raises(SpecError, match=r"\$: Pick needs at least one key"):
        load({"type": "pick", "keys": []})
    with pytest.raises(SpecError, match=r"\$: timeout must be a positive number"):
        load({"type": "configured", "inner": ref("PREBUILT"), "config": {"timeout": -1}})


def test_exception_names_must_resolve_to_exceptions() -> None:
    base = {"type": "retry", "inner": ref("PREBUILT")}
    with pytest.raises(SpecError, match=r"\$\.on\[0\]: builtins.int is not an exception type"):
        load({**base, "on": ["builtins.int"]})
    with pytest.raises(SpecError, match=r"\$\.on\[0\]: 'builtins' has no attribute 'Nope'"):
        load({**base, "on": ["builtins.Nope"]})
    retry = load({**base, "on": ["agentkit.core.errors.RunError"]})
    from agentkit.core.errors import RunError

    assert retry.on == (RunError,)


def test_lambdas_and_closures_refuse_to_serialise() -> None:
    with pytest.raises(SpecError, match="only module-level functions can"):
        dump(Lambda(lambda x: x))

    def local(x: int) -> int:
        return x

    with pytest.raises(SpecError, match="define it with 'def' at module level"):
        dump(Lambda(inc) | Lambda(local))
    with pytest.raises(SpecError, match="cannot be serialised"):
        dump(Lambda(inc).bind())


def test_runnable_without_to_dict_and_objects_without_it() -> None:
    class Custom(Runnable[int, int]):
        def invoke(self, input: int, config: Any = None) -> int:
            return input

    with pytest.raises(SpecError, match="Custom cannot be serialised; implement to_dict"):
        dump(Custom())
    with pytest.raises(SpecError, match="object cannot be serialised"):
        dump(object())


def test_config_with_tracers_cannot_be_serialised() -> None:
    from agentkit.core import InMemoryTracer

    with pytest.raises(UsageError, match="attach tracers at run time"):
        dump(Lambda(inc).with_config(callbacks=[InMemoryTracer()]))


def test_load_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("type: [unclosed\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_file(bad)
    with pytest.raises(UsageError, match=r"give a \.yaml/\.yml/\.json spec file"):
        load_file(tmp_path / "chain.txt")
    assert load_file({"type": "lambda", "fn": ref("inc")}).invoke(1) == 2


def test_function_ref_and_resolve_ref() -> None:
    assert function_ref(inc) == ref("inc")
    assert resolve_ref(ref("Repeat.from_spec")) == Repeat.from_spec
    assert resolve_ref("agentkit.core:Sequence") is Sequence


def test_spec_context_get_checks_types_choices_and_defaults() -> None:
    ctx = SpecContext({"type": "x", "n": 3, "f": 1, "mode": "b"}, "$.node")
    assert ctx.get("n", int) == 3
    assert ctx.get("f", float) == 1.0 and isinstance(ctx.get("f", float), float)
    assert ctx.get("absent", int, 7) == 7
    assert ctx.get("mode", str, choices=["a", "b"]) == "b"
    with pytest.raises(SpecError, match=r"\$\.node\.mode: invalid value 'b'; allowed values: a, c"):
        ctx.get("mode", str, choices=["a", "c"])
    with pytest.raises(SpecError, match=r"\$\.node\.absent: required field is missing"):
        ctx.get("absent", int)
    ctx.check_unknown()  # every field was read


def test_assign_and_passthrough_specs() -> None:
    assert dump(Passthrough()) == {"type": "passthrough"}
    spec = dump(Assign({"k": Lambda(inc)}))
    assert spec == {"type": "assign", "steps": {"k": {"type": "lambda", "fn": ref("inc")}}}


def test_entry_point_loading_skips_missing_extras_but_shows_real_import_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import EntryPoint

    from agentkit.core import spec

    def entry_points(value: str) -> None:
        entry = EntryPoint("nothing_like_this", value, spec.ENTRY_POINT_GROUP)
        monkeypatch.setattr(spec, "_entry_points", lambda: {"nothing_like_this": entry})

    (tmp_path / "ak_needs_extra.py").write_text("import ak_absent_optional_package\n")
    (tmp_path / "ak_broken.py").write_text("from json import no_such_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry_points("ak_needs_extra")
    with pytest.raises(SpecError, match="needs the missing package 'ak_absent_optional_package'"):
        load({"type": "nothing_like_this"})
    assert "nothing_like_this" not in registered_types()  # skipped, not fatal
    entry_points("ak_broken")
    with pytest.raises(ImportError, match="no_such_name"):
        load({"type": "nothing_like_this"})
    entry_points("agentkit.no_such_part")
    with pytest.raises(ModuleNotFoundError, match=r"agentkit\.no_such_part"):
        load({"type": "nothing_like_this"})


def test_entry_point_naming_a_class_or_a_builder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import EntryPoint

    from agentkit.core import spec

    (tmp_path / "ak_plugin.py").write_text(
        "from agentkit.core import Lambda\n"
        "class Doubler:\n"
        "    @classmethod\n"
        "    def from_spec(cls, ctx):\n"
        "        return Lambda(lambda x: 2 * x)\n"
        "def build_inc(ctx):\n"
        "    by = ctx.get('by', int, 1)\n"
        "    return Lambda(lambda x: x + by)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entries = {
        "ak_doubler": EntryPoint("ak_doubler", "ak_plugin:Doubler", spec.ENTRY_POINT_GROUP),
        "ak_inc": EntryPoint("ak_inc", "ak_plugin:build_inc", spec.ENTRY_POINT_GROUP),
    }
    monkeypatch.setattr(spec, "_entry_points", lambda: entries)
    monkeypatch.setattr(spec, "_REGISTRY", dict(spec._REGISTRY))
    assert load({"type": "ak_doubler"}).invoke(4) == 8
    assert load({"type": "ak_inc", "by": 3}).invoke(4) == 7


def test_agentkit_types_come_from_its_entry_points() -> None:
    import tomllib

    from agentkit.core import spec

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["agentkit.specs"]
    assert set(declared) <= set(spec._entry_points())  # the installed metadata is current
    assert set(declared) <= set(registered_types())
    assert not hasattr(spec, "_BUILTIN_MODULES")  # core lists no module above it


def test_options_reads_only_the_fields_a_spec_sets() -> None:
    ctx = SpecContext({"type": "x", "device": "cpu", "load_in_4bit": True}, "$.model")
    fields = {"device": str, "dtype": str, "load_in_4bit": bool}
    assert ctx.options(fields) == {"device": "cpu", "load_in_4bit": True}
    ctx.check_unknown()  # every field it read counts as known


def test_options_rejects_a_wrong_type_with_the_field_path() -> None:
    ctx = SpecContext({"type": "x", "load_in_4bit": "yes; rm -rf /"}, "$.model")
    with pytest.raises(SpecError, match=r"\$\.model\.load_in_4bit.*expected bool"):
        ctx.options({"load_in_4bit": bool})
