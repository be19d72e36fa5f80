"""From an example to a chain's input, and from the chain's output to a prediction.

Input (``input_map``): by default a chain that declares ``input_keys`` gets a dict (keys
named question/query/input/text/q take the question, context/contexts the gold contexts,
others a metadata field of that name) and any other runnable gets the question string.
Pass ``{"chain key": "example field"}`` to name fields yourself, one field name to pass that
field alone, or a function ``(Example) -> input``.

Output (``output_map``): a string or a message is the answer; a list of documents is a
retrieval result; a dict gives the answer from ``result``/``answer``/``output``/``text``
and the retrieved documents from ``retrieved_documents``/``source_documents``/
``documents``/``sources`` (RetrievalQA's output); a dict with none of these keys is an error. Pass
``{"text": key, "retrieved_ids": key, "contexts": key}`` to name the keys, or a function
``(output) -> {"text", "retrieved_ids", "contexts"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentkit.core.errors import WiringError
from agentkit.evals.records import Example

InputMap = Mapping[str, str] | str | Callable[[Example], Any] | None
OutputMap = Mapping[str, str] | Callable[[Any], Mapping[str, Any]] | None
QUESTION_KEYS = ("question", "query", "input", "text", "q")
CONTEXT_KEYS = ("context", "contexts")
ANSWER_KEYS = ("result", "answer", "output", "text", "response")
# retrieved_documents first: RetrievalQA's source_documents are only the documents used
# (one, for map_rerank), and retrieval metrics are about everything retrieved
DOCUMENT_KEYS = (
    "retrieved_documents",
    "source_documents",
    "documents",
    "docs",
    "sources",
    "retrieved",
)
OUTPUT_FIELDS = ("text", "retrieved_ids", "contexts")


def example_field(example: Example, name: str) -> Any:
    """A field of an example by name (lists of contexts joined by blank lines for
    ``context``); metadata fields by their own name."""
    if name in ("question", "id", "category"):
        return getattr(example, name)
    if name in ("answers", "relevant_ids"):
        return list(getattr(example, name))
    if name == "contexts":
        return list(example.contexts)
    if name == "context":
        return "\n\n".join(example.contexts)
    if name == "answer":
        return example.answers[0] if example.answers else ""
    if name in example.metadata:
        return example.metadata[name]
    raise WiringError(
        f"example {example.id!r} has no field {name!r}; use question, answers, answer, "
        "contexts, context, id, category, relevant_ids or a metadata field"
    )


def make_input(example: Example, chain: Any, input_map: InputMap = None) -> Any:
    """The input the chain receives for ``example``."""
    if callable(input_map):
        return input_map(example)
    if isinstance(input_map, str):
        return example_field(example, input_map)
    if isinstance(input_map, Mapping):
        return {key: example_field(example, field) for key, field in input_map.items()}
    keys = getattr(chain, "input_keys", None)
    if not keys:
        return example.question
    values = {}
    for key in keys:
        if key in QUESTION_KEYS:
            values[key] = example.question
        elif key in CONTEXT_KEYS:
            values[key] = "\n\n".join(example.contexts)
        elif key in example.metadata:
            values[key] = example.metadata[key]
        else:
            raise WiringError(
                f"the chain's input key {key!r} matches no example field; pass "
                f"input_map={{{key!r}: '<example field>'}} (or --input-map {key}=<field>)"
            )
    return values


def read_output(output: Any, output_map: OutputMap = None) -> dict[str, Any]:
    """``{"text", "retrieved_ids", "contexts"}`` read from a chain's output."""
    if callable(output_map):
        fields = output_map(output)
        if not isinstance(fields, Mapping):
            raise WiringError(
                f"output_map must return a dict with {OUTPUT_FIELDS}, got {type(fields).__name__}"
            )
        return _checked(fields)
    if isinstance(output_map, Mapping):
        if not isinstance(output, Mapping):
            raise WiringError(
                f"output_map names dict keys but the chain returned a {type(output).__name__}"
            )
        fields = {}
        for name, key in output_map.items():
            if name not in OUTPUT_FIELDS:
                raise WiringError(f"output_map field {name!r} is unknown; use {OUTPUT_FIELDS}")
            if key not in output:
                raise WiringError(
                    f"output_map reads {key!r}, but the chain's output has only {sorted(output)}"
                )
            value = output[key]
            fields[name] = (
                value if name == "text" else _documents(value)[0 if name == "retrieved_ids" else 1]
            )
        return _checked(fields)
    return default_output(output)


def default_output(output: Any) -> dict[str, Any]:
    if output is None:
        return _checked({})
    if isinstance(output, str):
        return _checked({"text": output})
    content = getattr(output, "content", None)
    if isinstance(content, str):
        return _checked({"text": content})
    if isinstance(output, Sequence) and not isinstance(output, bytes):
        ids, texts = _documents(output)
        return _checked({"retrieved_ids": ids, "contexts": texts})
    if isinstance(output, Mapping):
        known = (*ANSWER_KEYS, *DOCUMENT_KEYS, *CONTEXT_KEYS)
        if not any(key in output for key in known):
            keys = ", ".join(repr(str(k)) for k in list(output)[:10]) or "none"
            raise WiringError(
                f"the chain's output dict has no answer key ({', '.join(ANSWER_KEYS)}) and no "
                f"documents key; its keys: {keys}. Name the answer with "
                "output_map={'text': '<key>'} (or --output-map text=<key>)"
            )
        fields: dict[str, Any] = {}
        for key in ANSWER_KEYS:
            if key in output:
                fields["text"] = default_output(output[key])["text"]
                break
        for key in DOCUMENT_KEYS:
            if output.get(key):
                fields["retrieved_ids"], fields["contexts"] = _documents(output[key])
                break
        if "contexts" in output or "context" in output:
            raw = output.get("contexts", output.get("context"))
            fields["contexts"] = [raw] if isinstance(raw, str) else _documents(raw)[1]
        return _checked(fields)
    raise WiringError(
        f"cannot read an answer from a {type(output).__name__} output; pass output_map "
        "(a function from the output to {'text', 'retrieved_ids', 'contexts'})"
    )


def _documents(value: Any) -> tuple[list[str], list[str]]:
    """Ids and texts of a list of documents, citation dicts or ids."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise WiringError(f"expected a list of documents, got {type(value).__name__}")
    ids, texts = [], []
    for item in value:
        if isinstance(item, str):
            ids.append(item)
        elif isinstance(item, Mapping):
            if "id" in item:
                ids.append(str(item["id"]))
            text = item.get("text", item.get("page_content", item.get("snippet")))
            if isinstance(text, str):
                texts.append(text)
        else:
            ident = getattr(item, "id", None)
            text = getattr(item, "text", getattr(item, "page_content", None))
            if ident is None and text is None:
                raise WiringError(f"cannot read a document from a {type(item).__name__}")
            if ident is not None:
                ids.append(str(ident))
            if isinstance(text, str):
                texts.append(text)
    return ids, texts


def _checked(fields: Mapping[str, Any]) -> dict[str, Any]:
    text = fields.get("text", "")
    return {
        "text": "" if text is None else str(text),
        "retrieved_ids": [str(i) for i in fields.get("retrieved_ids") or []],
        "contexts": [str(c) for c in fields.get("contexts") or []],
    }
