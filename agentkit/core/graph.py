"""Graph introspection: nodes and edges of a chain graph, rendered as Mermaid or ASCII."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentkit.core.runnable import Runnable


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    name: str
    kind: str


@dataclass
class Graph:
    """A directed graph of nodes. ``sources`` are entry nodes, ``sinks`` exit nodes."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)

    # --- building -------------------------------------------------------------------

    @classmethod
    def single(cls, runnable: Runnable[Any, Any]) -> Graph:
        node = Node("n0", runnable.name, runnable.kind)
        return cls([node], [], [node.id], [node.id])

    def _renumbered(self, start: int) -> Graph:
        mapping = {n.id: f"n{start + i}" for i, n in enumerate(self.nodes)}
        return Graph(
            [Node(mapping[n.id], n.name, n.kind) for n in self.nodes],
            [(mapping[a], mapping[b]) for a, b in self.edges],
            [mapping[s] for s in self.sources],
            [mapping[s] for s in self.sinks],
        )

    @classmethod
    def _union(cls, graphs: Iterable[Graph]) -> tuple[Graph, list[Graph]]:
        merged, parts, offset = cls(), [], 0
        for g in graphs:
            part = g._renumbered(offset)
            offset += len(part.nodes)
            merged.nodes += part.nodes
            merged.edges += part.edges
            parts.append(part)
        return merged, parts

    @classmethod
    def chain(cls, graphs: Sequence[Graph]) -> Graph:
        merged, parts = cls._union(graphs)
        for left, right in itertools.pairwise(parts):
            merged.edges += [(a, b) for a in left.sinks for b in right.sources]
        merged.sources, merged.sinks = parts[0].sources, parts[-1].sinks
        return merged

    @classmethod
    def fan_out(
        cls, owner: Runnable[Any, Any], graphs: Sequence[Graph], join: bool = True
    ) -> Graph:
        head = cls.single(owner)
        merged, parts = cls._union([head, *graphs])
        start = parts[0].nodes[0].id
        for part in parts[1:]:
            merged.edges += [(start, s) for s in part.sources]
        merged.sources = [start]
        sinks = [s for part in parts[1:] for s in part.sinks]
        if join:
            end = Node(f"n{len(merged.nodes)}", f"{owner.name}:join", "join")
            merged.nodes.append(end)
            merged.edges += [(s, end.id) for s in sinks]
            merged.sinks = [end.id]
        else:
            merged.sinks = sinks
        return merged

    # --- rendering ------------------------------------------------------------------

    def to_mermaid(self) -> str:
        lines = ["graph TD"]
        for n in self.nodes:
            label = n.name.replace('"', "'")
            lines.append(f'    {n.id}["{label}"]')
        lines += [f"    {a} --> {b}" for a, b in self.edges]
        return "\n".join(lines)

    def to_ascii(self) -> str:
        """One line per node in topological order, with its successors."""
        by_id = {n.id: n for n in self.nodes}
        succ: dict[str, list[str]] = {n.id: [] for n in self.nodes}
        indegree = {n.id: 0 for n in self.nodes}
        for a, b in self.edges:
            succ[a].append(b)
            indegree[b] += 1
        order, ready = [], [n.id for n in self.nodes if indegree[n.id] == 0]
        while ready:
            nid = ready.pop(0)
            order.append(nid)
            for b in succ[nid]:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
        lines = []
        for nid in order:
            node = by_id[nid]
            lines.append(f"[{node.name}] ({node.kind})")
            for b in succ[nid]:
                lines.append(f"    └─> {by_id[b].name}")
        return "\n".join(lines)

    def names(self) -> list[str]:
        return [n.name for n in self.nodes]
