"""``HFChatModel``: a local Hugging Face causal LM as a chat model.

Weights load on first use (or :meth:`HFChatModel.load`) and are shared by every model object
naming the same (model, device, dtype) while one of them is alive. ``generate_batch`` is one
left-padded ``generate`` call; ``stream`` yields tokens from a cancellable worker thread.
``bind`` takes generation params plus ``adapter=`` (a LoRA adapter by name, ``None`` for the
base model), ``tools=`` (JSON schemas for prompt-based tool calling), ``tool_choice=``,
``response_format=`` (a JSON schema the reply must match) and ``hf_params=``.

With llguidance installed (extra ``structured``), a ``response_format`` and the tool-call
format are enforced by grammar-constrained decoding (:mod:`agentkit.llms.hf.grammar`): a
tool call always names a bound tool and has arguments valid against its schema.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from agentkit.core import spec
from agentkit.core.errors import UsageError, missing_dependency
from agentkit.llms.base import BaseChatModel, ParamsLike
from agentkit.llms.hf import adapters as lora
from agentkit.llms.hf import grammar
from agentkit.llms.hf.chat_template import (
    check_chat_template,
    render_prompt,
)
from agentkit.llms.hf.generation import Row, check_hf_param_names, check_hf_params, generate_rows
from agentkit.llms.hf.loading import (
    Backbone,
    adapter_base_model,
    check_4bit,
    check_dtype,
    load_backbone,
    resolve_device,
    resolve_source,
)
from agentkit.llms.hf.perplexity import perplexity
from agentkit.llms.hf.streaming import ThreadedGeneration, stream_messages
from agentkit.llms.hf.tool_prompting import (
    TOOL_PROMPT,
    parse_tool_calls,
    render_history,
    tool_schema,
)
from agentkit.llms.messages import ChatResult, Message, ToolCall
from agentkit.llms.params import GenerationParams
from agentkit.llms.switch import check_model_requests

if TYPE_CHECKING:
    from agentkit.finetune.registry import AdapterRegistry
    from agentkit.llms.structured import OutputSchema, Strategy

_TOOL_CHOICES = ("auto", "none", "required")


class HFChatModel(BaseChatModel):
    """A Hugging Face causal LM (hub id or local folder) as a chat model.

    Args:
        model: a local folder, or a hub id (taken from the local cache; downloaded only when
            ``HF_HUB_OFFLINE`` allows it and the hub answers within seconds).
        adapter: the active LoRA adapter: a name from ``adapters`` or an adapter folder.
        adapters: LoRA adapters to load, ``{name: folder}``.
        device, dtype: default CUDA with bfloat16 when available, else CPU float32.
        load_in_4bit: bitsandbytes 4-bit weights (needs CUDA).
        chat_template: a Jinja chat template overriding (or supplying) the tokenizer's.
        params: default generation params; ``hf_params``: extra ``generate`` options such as
            ``{"repetition_penalty": 1.1}``.
        tools: tool JSON schemas for prompt-based tool calling (also ``bind(tools=...)``).
        tool_choice: ``"auto"`` (text or a call), ``"required"`` (a call), ``"none"`` (text;
            calls are not parsed) or a tool name (a call of that tool); "required" and a
            name are enforced only with llguidance installed.
        response_format: a JSON schema every reply must match (needs llguidance).

    A conversation longer than the model's context window (``max_position_embeddings``)
    raises :class:`UsageError` naming it; a reply that would run past the window ends there
    (finish reason ``"length"``).
    """

    tool_prompt: ClassVar[str] = TOOL_PROMPT
    batch_size: ClassVar[int | None] = None  # a generate_batch is one padded batch

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        adapter: str | os.PathLike[str] | None = None,
        adapters: Mapping[str, str | os.PathLike[str]] | None = None,
        device: Any = None,
        dtype: Any = None,
        load_in_4bit: bool = False,
        chat_template: str | None = None,
        params: ParamsLike = None,
        hf_params: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        trust_remote_code: bool = False,
        tool_choice: str | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(params)
        self.source = resolve_source(model)
        key = self.source.key
        self.model_id = key[4:] if key.startswith("hub:") else self.source.ref
        if device is not None:
            resolve_device(device)
        check_dtype(dtype)
        if load_in_4bit:
            check_4bit()
        if chat_template is not None and not isinstance(chat_template, str):
            raise UsageError(
                f"chat_template must be a Jinja template string, got {chat_template!r}"
            )
        self.device, self.dtype = device, dtype
        self.load_in_4bit, self.trust_remote_code = load_in_4bit, trust_remote_code
        self.chat_template = chat_template
        self.hf_params = check_hf_params(hf_params)
        self.tools = [tool_schema(t) for t in tools or ()]
        self.tool_choice = _tool_choice(tool_choice)
        self.response_format = _response_format(response_format)
        self.adapters = {str(n): lora.adapter_folder(p) for n, p in (adapters or {}).items()}
        self.adapter = self._adapter_name(adapter)
        self._backbone: Backbone | None = None
        self._merged: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        return f"HFChatModel({Path(self.model_id).name or self.model_id})"

    # --- loading ----------------------------------------------------------------------

    def load(self) -> HFChatModel:
        """Load the weights now (otherwise they load on first use); returns ``self``."""
        self._loaded()
        return self

    @property
    def hf_model(self) -> Any:
        """The loaded transformers model (a peft ``PeftModel`` once adapters are attached)."""
        return self._loaded().model

    @property
    def tokenizer(self) -> Any:
        return self._loaded().tokenizer

    def _loaded(self) -> Backbone:
        backbone = self._backbone
        if backbone is None:
            backbone = load_backbone(
                self.source, self.device, self.dtype, self.load_in_4bit, self.trust_remote_code
            )
            check_chat_template(backbone.tokenizer, self.chat_template, self.model_id)
            if self.hf_params:
                check_hf_param_names(self.hf_params)
            self._backbone = backbone
        for folder in self.adapters.values():
            lora.attach(backbone, folder)
        return backbone

    # --- adapters ---------------------------------------------------------------------

    def _adapter_name(self, adapter: str | os.PathLike[str] | None) -> str | None:
        return lora.adapter_name(self.adapters, adapter)

    def load_adapter(self, path: str | os.PathLike[str], name: str | None = None) -> str:
        """Load a LoRA adapter folder under ``name`` (default: the folder name); activate it
        per call with ``bind(adapter=name)``. Returns the name."""
        folder = lora.adapter_folder(path)
        name = name or Path(folder).name
        if self.adapters.get(name, folder) != folder:
            raise UsageError(
                f"adapter name {name!r} is taken by {self.adapters[name]}; pick another"
            )
        self.adapters[name] = folder
        self._loaded()
        return name

    def merge(self, adapter: str | os.PathLike[str] | None = None) -> HFChatModel:
        """A new model whose weights are a fresh copy of the base with ``adapter`` (default:
        the active one) merged in; this model is unchanged."""
        if self.load_in_4bit:
            raise UsageError(
                "cannot merge an adapter into 4-bit weights; load the base "
                "without load_in_4bit to merge"
            )
        merged = copy.copy(self)
        merged.adapters = dict(self.adapters)
        name = merged._adapter_name(adapter) if adapter is not None else self.adapter
        if name is None:
            raise UsageError("no adapter to merge: pass merge('name') or bind(adapter='name')")
        folder = merged.adapters[name]
        base = self._loaded()
        merged._backbone = lora.merged_backbone(
            self.source, base.device, base.dtype, self.trust_remote_code, folder
        )
        merged.adapters, merged.adapter, merged._merged = {}, None, (name, folder)
        return merged

    def merge_and_save(self, path: str | os.PathLike[str], adapter: str | None = None) -> Path:
        """Merge ``adapter`` (default: the active one) and save the full model and tokenizer
        to ``path`` (atomically); ``HFChatModel(path)`` loads it, with this model's chat
        template."""
        merged = self.merge(adapter)
        return lora.save_backbone(merged._loaded(), path, merged.chat_template)

    @classmethod
    def from_adapter(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        base: str | None = None,
        registry: AdapterRegistry | None = None,
        **options: Any,
    ) -> HFChatModel:
        """Base model plus adapter from a registered adapter name or an adapter folder; the
        base is ``base`` or the one named in the adapter's ``adapter_config.json``; a
        registered folder holding a full model (merged, or fully fine-tuned) loads as is; the
        chat template defaults to the one the run was trained with (its ``manifest.json``);
        the registry defaults to ``AdapterRegistry()``."""
        from agentkit.finetune.registry import AdapterRegistry, trained_chat_template

        folder = (registry if registry is not None else AdapterRegistry()).resolve(name_or_path)
        if options.get("chat_template") is None:  # chat as the run was trained to
            options["chat_template"] = trained_chat_template(folder)
        if (folder / "config.json").exists() and not (folder / "adapter_config.json").exists():
            # a registered full model (full fine-tuning or a merge): no base to combine with
            return cls(folder, **options)
        base_model = base or adapter_base_model(folder)
        name = str(name_or_path) if not Path(name_or_path).exists() else folder.name
        try:
            return cls(base_model, adapters={name: folder}, adapter=name, **options)
        except UsageError as e:
            raise UsageError(
                f"{e} (the adapter names base model {base_model!r}; pass "
                "base=... to from_adapter to use another copy of it)"
            ) from e

    def _peft_name(self, backbone: Backbone) -> str | None:
        return None if self.adapter is None else backbone.adapters[self.adapters[self.adapter]]

    # --- generation -------------------------------------------------------------------

    def _run(
        self,
        batch: Sequence[Sequence[Message]],
        params: GenerationParams,
        streamer: Any = None,
        cancel: Any = None,
    ) -> list[Row]:
        backbone = self._loaded()
        prompts = [
            render_prompt(
                backbone.tokenizer,
                render_history(messages, self.tools, self.tool_prompt),
                self.chat_template,
                self.model_id,
            )
            for messages in batch
        ]
        adapter = self._peft_name(backbone)
        hf_params = self.hf_params
        constraint = self._grammar()
        if constraint is not None:
            from transformers import LogitsProcessorList

            ends = _eos_ids(backbone)
            processor = grammar.GrammarProcessor(constraint, backbone.tokenizer, ends)
            hf_params = {**hf_params, "logits_processor": LogitsProcessorList([processor])}
        return generate_rows(backbone, prompts, params, hf_params, adapter, streamer, cancel)

    def _grammar(self) -> str | None:
        """The grammar replies must follow: the response format, else the tool-call format
        (when llguidance is installed); ``None``: unconstrained."""
        if self.response_format is not None:
            return grammar.json_grammar(self.response_format)
        if not self._tool_names() or not grammar.available():
            return None
        choice = self.tool_choice or "auto"
        tools = self.tools if choice in _TOOL_CHOICES else [self._tool(choice)]
        return grammar.tool_grammar(tools, required=choice != "auto")

    def _tool(self, name: str) -> dict[str, Any]:
        for t in self.tools:
            if t["name"] == name:
                return t
        raise UsageError(
            f"tool_choice {name!r} names no bound tool; bound: {[t['name'] for t in self.tools]}"
        )

    def _tool_names(self) -> list[str]:
        return [] if self.tool_choice == "none" else [t["name"] for t in self.tools]

    def structured_strategy(self, schema: OutputSchema, method: str) -> Strategy:
        """Grammar-constrained JSON (or a constrained call of a tool named after the schema,
        ``method="tools"``) with llguidance; without it, the prompt-and-retry fallback."""
        from agentkit.llms.structured import Strategy

        if method == "prompt" or (method == "auto" and not grammar.available()):
            return Strategy(self)
        if method == "tools":
            tool = {"name": schema.name, "description": "", "parameters": schema.json_schema}
            bound = self.bind(tools=[tool], tool_choice=schema.name)
            return Strategy(bound, constrained=grammar.available(), from_tool_call=True)
        if not grammar.available():
            raise missing_dependency(
                "llguidance", "structured", "structured output with method='json_schema'"
            )
        return Strategy(self.bind(response_format=schema.closed()), constrained=True)

    def _result(self, row: Row) -> ChatResult:
        text, calls = row.text, list[ToolCall]()
        if self._tool_names() and self.response_format is None:
            text, calls = parse_tool_calls(row.text, self._tool_names())
        return ChatResult(
            text, calls, row.usage, "tool_calls" if calls else row.finish_reason, self._metadata()
        )

    def _metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"model": self.model_id}
        if self.adapter is not None:
            meta["adapter"] = self.adapter
        elif self._merged is not None:
            meta["adapter"] = self._merged[0]
        return meta

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        return self._result(self._run([messages], self.resolve_params(params))[0])

    def generate_together(
        self, batch: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[ChatResult]:
        """One left-padded ``generate`` call for the whole batch; results in input order."""
        rows = self._run(batch, self.resolve_params(params)) if batch else []
        return [self._result(row) for row in rows]

    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        p = self.resolve_params(params)
        job = ThreadedGeneration(
            self._loaded().tokenizer,
            lambda streamer, cancel: self._run([messages], p, streamer, cancel)[0],
        )
        names = self._tool_names() if self.response_format is None else []
        return stream_messages(job, p.stop, names, self._metadata())

    def perplexity(self, texts: Sequence[str], *, batch_size: int = 8) -> list[float]:
        """Per-text perplexity under the model (with the active adapter), for evaluation."""
        check_model_requests(self.name)
        backbone = self._loaded()
        return perplexity(backbone, self._peft_name(backbone), texts, batch_size)

    # --- bind and specs ---------------------------------------------------------------

    bind_fields = {
        "adapter": lambda model, adapter: model._adapter_name(adapter),
        "tools": lambda model, tools: [tool_schema(t) for t in tools or ()],
        "hf_params": lambda model, extra: {**model.hf_params, **check_hf_params(extra)},
        "tool_choice": lambda model, choice: _tool_choice(choice),
        "response_format": lambda model, fmt: _response_format(fmt),
    }

    def _with_params(self, params: Mapping[str, Any]) -> HFChatModel:
        bound = super()._with_params(params)
        bound.adapters = dict(self.adapters)
        return bound

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "hf_model", "model": self.model_id}
        adapters, adapter = self.adapters, self.adapter
        if self._merged is not None:
            adapters, adapter = {self._merged[0]: self._merged[1]}, self._merged[0]
        optional = {
            "adapters": dict(adapters),
            "adapter": adapter,
            "merge": self._merged is not None,
            "device": None if self.device is None else str(self.device),
            "dtype": None if self.dtype is None else str(self.dtype).removeprefix("torch."),
            "load_in_4bit": self.load_in_4bit,
            "chat_template": self.chat_template,
            "params": self.params.to_dict(),
            "hf_params": dict(self.hf_params),
            "tools": list(self.tools),
            "tool_choice": self.tool_choice,
            "response_format": self.response_format,
            "trust_remote_code": self.trust_remote_code,
        }
        data.update({k: v for k, v in optional.items() if v})
        return data


_SPEC_OPTIONS: dict[str, type] = {
    "adapter": str,
    "adapters": dict,
    "device": str,
    "dtype": str,
    "load_in_4bit": bool,
    "chat_template": str,
    "params": dict,
    "hf_params": dict,
    "tools": list,
    "trust_remote_code": bool,
    "tool_choice": str,
    "response_format": dict,
}


def _build(ctx: spec.SpecContext) -> HFChatModel:
    model = HFChatModel(ctx.get("model", str), **ctx.options(_SPEC_OPTIONS))
    return model.merge() if ctx.get("merge", bool, False) else model


def _tool_choice(choice: Any) -> str | None:
    if choice is None or (isinstance(choice, str) and choice):
        return choice
    raise UsageError(
        f"tool_choice must be 'auto', 'none', 'required' or a tool name, got {choice!r}"
    )


def _response_format(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return dict(schema.model_json_schema())
    if isinstance(schema, Mapping):
        return dict(schema)
    raise UsageError(
        "response_format must be a JSON schema dict or a pydantic model class, got "
        f"{type(schema).__name__} {schema!r}"
    )


def _eos_ids(backbone: Backbone) -> list[int]:
    ids = backbone.model.generation_config.eos_token_id
    found = ids if isinstance(ids, list) else [ids] if ids is not None else []
    if not found and backbone.tokenizer.eos_token_id is not None:
        found = [backbone.tokenizer.eos_token_id]
    return [int(i) for i in found]


spec.add_builder("hf_model", _build)
