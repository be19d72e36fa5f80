"""The SQLite docstore: filters in SQL agree with ``matches``; backup/open round trip."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.retrievers.base import matches
from agentkit.retrievers.document import Document
from agentkit.retrievers.vectorstores.docstore import DocStore, _sql_where

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 1.0, "a", "b", "1"])
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.just("x"), scalars))
metas = st.dictionaries(st.sampled_from(["k", "j", "a.b"]), values, max_size=3)
filters = st.dictionaries(
    st.sampled_from(["k", "j", "a.b"]),
    st.one_of(scalars, st.lists(scalars, min_size=1, max_size=3)),
    min_size=1,
    max_size=2,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(metas, min_size=1, max_size=6), filters)
def test_sql_filters_agree_with_matches(rows: list[dict[str, Any]], flt: dict[str, Any]) -> None:
    assert _sql_where(flt) is not None
    store = DocStore()
    iids = store.insert([Document(str(i), id=str(i), metadata=m) for i, m in enumerate(rows)])
    want = [int(iid) for iid, m in zip(iids, rows, strict=True) if matches(m, flt)]
    assert store.matching_iids(flt).tolist() == want


def test_nested_filter_values_fall_back_to_python() -> None:
    store = DocStore()
    store.insert([Document("a", id="a", metadata={"tags": ["x"]}), Document("b", id="b")])
    assert _sql_where({"tags": [["x"]]}) is None
    assert store.matching_iids({"tags": [["x"]]}).tolist() == [0]
    assert store.matching_iids(lambda m: "tags" not in m).tolist() == [1]


def test_backup_and_open_keep_ids_and_counter(tmp_path) -> None:
    store = DocStore()
    store.insert([Document("a", id="a", metadata={"n": 1}, source="s", chunk=2)])
    store.insert([Document("b", id="b")])
    store.remove([1])
    store.backup(tmp_path / "d.sqlite")
    again = DocStore.open(tmp_path / "d.sqlite")
    assert len(again) == 1 and again.next_iid == 2  # deleted ids are never reused
    doc = again.get(["a"])[0]
    assert (doc.text, doc.metadata, doc.source, doc.chunk) == ("a", {"n": 1}, "s", 2)
    assert again.insert([Document("c", id="c")]).tolist() == [2]
