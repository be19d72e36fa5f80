"""Graph introspection: nodes, edges, Mermaid and ASCII renderings."""

from __future__ import annotations

import agentkit
from agentkit.core import Graph, Lambda, Parallel


def a(x: object) -> object:
    return x


def b(x: object) -> object:
    return x


def c(x: object) -> object:
    return x


def edges_by_name(g: Graph) -> set[tuple[str, str]]:
    names = {n.id: n.name for n in g.nodes}
    return {(names[x], names[y]) for x, y in g.edges}


def test_single_node() -> None:
    g = Lambda(a).graph()
    assert [(n.name, n.kind) for n in g.nodes] == [("a", "lambda")]
    assert g.edges == [] and g.sources == g.sinks == ["n0"]


def test_sequence_is_a_chain() -> None:
    g = (Lambda(a) | Lambda(b) | Lambda(c)).graph()
    assert g.names() == ["a", "b", "c"]
    assert edges_by_name(g) == {("a", "b"), ("b", "c")}
    assert len({n.id for n in g.nodes}) == 3
    assert [g.nodes[0].id] == g.sources and [g.nodes[2].id] == g.sinks


def test_parallel_fans_out_and_joins() -> None:
    g = (Lambda(a) | {"x": Lambda(b), "y": Lambda(c)} | Lambda(a)).graph()
    assert g.names() == ["a", "Parallel", "b", "c", "Parallel:join", "a"]
    assert edges_by_name(g) == {
        ("a", "Parallel"),
        ("Parallel", "b"),
        ("Parallel", "c"),
        ("b", "Parallel:join"),
        ("c", "Parallel:join"),
        ("Parallel:join", "a"),
    }
    assert len(g.edges) == 6


def test_parallel_alone_has_one_source_and_sink() -> None:
    g = Parallel({"x": Lambda(b), "y": Lambda(c)}).graph()
    assert len(g.sources) == 1 and len(g.sinks) == 1
    assert {n.kind for n in g.nodes} == {"parallel", "lambda", "join"}


def test_branch_fans_out_without_a_join() -> None:
    router = agentkit.branch((Lambda(a), Lambda(b)), default=Lambda(c))
    g = (router | Lambda(a)).graph()
    assert g.names() == ["Branch", "b", "c", "a"]
    assert edges_by_name(g) == {("Branch", "b"), ("Branch", "c"), ("b", "a"), ("c", "a")}


def test_wrappers_show_their_inner_graph() -> None:
    assert Lambda(a).with_retry().graph().names() == ["a"]
    assert Lambda(a).with_config(tags=["x"]).graph().names() == ["a"]
    fb = Lambda(a).with_fallbacks([Lambda(b)]).graph()
    assert fb.names() == ["Fallbacks(a)", "a", "b"]
    assign = agentkit.assign(k=Lambda(b)).graph()
    assert assign.names() == ["Assign", "b", "Assign:join"]


def test_mermaid_rendering() -> None:
    text = (Lambda(a) | {"x": Lambda(b)}).graph().to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "graph TD"
    assert '    n0["a"]' in lines
    assert "    n0 --> n1" in lines
    assert "    n1 --> n2" in lines
    assert sum("-->" in line for line in lines) == 3


def test_mermaid_escapes_quotes() -> None:
    text = Lambda(a, name='say "hi"').graph().to_mermaid()
    assert "n0[\"say 'hi'\"]" in text


def test_ascii_rendering_in_topological_order() -> None:
    text = (Lambda(a) | {"x": Lambda(b), "y": Lambda(c)}).graph().to_ascii()
    lines = text.splitlines()
    assert lines[0] == "[a] (lambda)"
    assert lines[1] == "    └─> Parallel"
    assert lines.index("[Parallel] (parallel)") < lines.index("[b] (lambda)")
    assert lines[-1] == "[Parallel:join] (join)"
