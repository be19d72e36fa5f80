"""Model resolution: ``agentkit.llms.load("ollama:llama3.2")`` and friends.

Spec strings:

- ``hf:<hub id or path>`` — a local Hugging Face model (:class:`HFChatModel`);
- ``adapter:<name or path>`` — a LoRA adapter on its base model (``HFChatModel.from_adapter``);
- ``openai:<model>``, ``ollama:<model>``, ``vllm:<url>/<model>`` — OpenAI-compatible servers;
- ``extractive`` — the :class:`ExtractiveReader` (offline, no generative model): the span
  reader fine-tuned with ``agentkit finetune reader`` when registered, else whole sentences;
- ``fake`` — a :class:`FakeListModel` with a canned reply;
- ``auto`` — a running Ollama server (``GET /api/tags`` answers within ``probe_timeout``; its
  first model, or ``AGENTKIT_OLLAMA_MODEL``), else the model named by ``AGENTKIT_MODEL`` (a
  spec string, or a hub id / folder found locally), else the extractive reader.

:func:`resolve` returns a :class:`Resolution` (the model, the backend, and why), which is also
logged at INFO on the ``agentkit.llms.resolve`` logger.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.llms.base import BaseChatModel

logger = logging.getLogger(__name__)

SCHEMES = ("auto", "hf", "adapter", "openai", "ollama", "vllm", "extractive", "fake")
OLLAMA_PROBE_URL = "http://localhost:11434"
FAKE_REPLY = (
    "Hello! I am agentkit's fake model: I always give this reply. Pick a real model with "
    "a spec such as 'ollama:llama3.2', 'hf:<model id or folder>' or 'extractive'."
)
_EXAMPLES = "e.g. 'ollama:llama3.2', 'hf:Qwen/Qwen2.5-0.5B-Instruct', 'vllm:http://host:8000/m'"


@dataclass(frozen=True)
class Resolution:
    """The model a spec resolved to, its backend (a scheme name) and why it was picked."""

    model: BaseChatModel
    backend: str
    reason: str


def load_model(spec: str, **kwargs: Any) -> BaseChatModel:
    """The chat model for ``spec`` (see the module docs); ``kwargs`` go to its constructor.

    Named apart from :func:`agentkit.load` (a whole graph from a spec file) and
    :func:`agentkit.retrievers.load_documents` (documents from a file)."""
    return resolve(spec, **kwargs).model


load = load_model  # the short name, kept: agentkit.llms.load("auto")


def resolve(
    spec: str,
    *,
    ollama_url: str | None = None,
    probe_timeout: float = 0.3,
    **kwargs: Any,
) -> Resolution:
    """Resolve ``spec`` and say why. ``ollama_url`` (default ``AGENTKIT_OLLAMA_URL``, else
    ``http://localhost:11434``) is where ``auto`` looks for Ollama."""
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(f"a model spec must be a non-empty string ({_EXAMPLES}), got {spec!r}")
    scheme, _, rest = spec.strip().partition(":")
    scheme = scheme.lower()
    if scheme == "auto" and not rest:
        url = ollama_url or os.environ.get("AGENTKIT_OLLAMA_URL") or OLLAMA_PROBE_URL
        result = _auto(url.rstrip("/"), probe_timeout, kwargs)
    else:
        reason = f"asked for {spec!r}"
        if scheme == "extractive" and not rest:
            reason += f"; {offline_reader_note()}"
        result = Resolution(_build(scheme, rest, spec, kwargs), scheme, reason)
    logger.info("model: %s (%s)", result.backend, result.reason)
    return result


def _build(scheme: str, rest: str, spec: str, kwargs: dict[str, Any]) -> BaseChatModel:
    if scheme in ("extractive", "fake") and not rest:
        if scheme == "fake":
            from agentkit.llms.fake import FakeListModel

            return FakeListModel([FAKE_REPLY], **kwargs)
        from agentkit.llms.extractive import ExtractiveReader

        return ExtractiveReader(**kwargs)
    if scheme not in SCHEMES or scheme in ("auto", "extractive", "fake"):
        raise UsageError(
            f"unknown model spec {spec!r}; use one of: hf:<hub id or path>, adapter:<name or "
            "path>, openai:<model>, ollama:<model>, vllm:<url>/<model>, extractive, fake, auto"
        )
    if not rest.strip():
        raise UsageError(f"model spec {spec!r} names no model after '{scheme}:' ({_EXAMPLES})")
    rest = rest.strip()
    if scheme in ("hf", "adapter"):
        try:
            from agentkit.llms.hf import HFChatModel
        except ImportError as e:
            raise missing_dependency("transformers", "hf", f"The {scheme}: models") from e
        if scheme == "adapter":
            return HFChatModel.from_adapter(rest, **kwargs)
        return HFChatModel(rest, **kwargs)
    from agentkit.llms.openai_compat import OpenAICompatModel

    if scheme == "openai":
        return OpenAICompatModel.openai(rest, **kwargs)
    if scheme == "ollama":
        return OpenAICompatModel.ollama(rest, **kwargs)
    url, model = split_vllm(rest, spec)
    return OpenAICompatModel.vllm(url, model, **kwargs)


def split_vllm(rest: str, spec: str) -> tuple[str, str]:
    """``http://host:8000[/v1]/org/model`` -> (``http://host:8000/v1``, ``org/model``)."""
    parts = urlsplit(rest)
    path = parts.path.strip("/")
    if path == "v1" or path.startswith("v1/"):
        path = path[2:].strip("/")
    if parts.scheme not in ("http", "https") or not parts.netloc or not path:
        raise UsageError(
            f"model spec {spec!r} should be vllm:<server url>/<model>, e.g. "
            "'vllm:http://localhost:8000/Qwen/Qwen2.5-0.5B-Instruct'"
        )
    return f"{parts.scheme}://{parts.netloc}/v1", path


# --- auto ------------------------------------------------------------------------------------


def _auto(ollama_url: str, probe_timeout: float, kwargs: dict[str, Any]) -> Resolution:
    name, why_not = probe_ollama(ollama_url, probe_timeout)
    if name is not None:
        from agentkit.llms.openai_compat import OpenAICompatModel

        ollama = OpenAICompatModel.ollama(name, base_url=f"{ollama_url}/v1", **kwargs)
        source = "AGENTKIT_OLLAMA_MODEL" if _env_ollama_model() else "its first model"
        return Resolution(
            ollama, "ollama", f"an Ollama server answers at {ollama_url}; using {name!r} ({source})"
        )
    configured = os.environ.get("AGENTKIT_MODEL", "").strip()
    if not configured:
        return _extractive(f"{why_not} and AGENTKIT_MODEL is not set", kwargs)
    scheme, _, rest = configured.partition(":")
    scheme = scheme.lower()
    if scheme == "auto":
        raise UsageError("AGENTKIT_MODEL=auto would loop; set it to a concrete model spec")
    if scheme not in SCHEMES:
        local, detail = locate_hf_model(configured)
        if not local:
            return _extractive(f"{why_not}; AGENTKIT_MODEL={configured!r} {detail}", kwargs)
        scheme, rest = "hf", configured
    model = _build(scheme, rest, configured, kwargs)
    return Resolution(model, scheme, f"{why_not}; AGENTKIT_MODEL={configured!r}")


def _extractive(why: str, kwargs: dict[str, Any]) -> Resolution:
    from agentkit.llms.extractive import ExtractiveReader

    return Resolution(ExtractiveReader(**kwargs), "extractive", f"{why}; {offline_reader_note()}")


def offline_reader_note() -> str:
    """What the offline reader answers with: the fine-tuned span reader, or sentences."""
    from agentkit.readers.default import FALLBACK_NOTICE, registered_reader_path

    path = registered_reader_path()
    if path is not None:
        return f"using the extractive reader (the span reader fine-tuned here, {path.name})"
    return f"using the extractive reader ({FALLBACK_NOTICE})"


def _env_ollama_model() -> str:
    return os.environ.get("AGENTKIT_OLLAMA_MODEL", "").strip()


def probe_ollama(url: str, timeout: float = 0.3) -> tuple[str | None, str]:
    """(the model to use, or ``None``; why not) after ``GET <url>/api/tags``."""
    import urllib.request  # here: it imports ssl and http.client, slow for `import agentkit`

    try:
        with urllib.request.urlopen(f"{url}/api/tags", timeout=timeout) as response:
            tags = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):  # URLError is an OSError
        return None, f"no Ollama server answered at {url}"
    names = [m.get("name") or m.get("model") for m in tags.get("models") or ()]
    names = [n for n in names if isinstance(n, str) and n]
    if importlib.util.find_spec("httpx") is None:
        return None, f"an Ollama server answers at {url} but httpx is not installed"
    wanted = _env_ollama_model()
    if wanted:
        return wanted, ""
    if not names:
        return None, f"the Ollama server at {url} has no models (`ollama pull llama3.2`)"
    return names[0], ""


def locate_hf_model(name: str) -> tuple[bool, str]:
    """Whether ``name`` is a local model folder or a hub id in the local Hugging Face cache
    (no network), and if not, what to do."""
    if Path(name).expanduser().is_dir():
        return True, "is a local folder"
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "config.json")
    except Exception:  # no huggingface_hub, or not a valid hub id
        cached = None
    if isinstance(cached, str):
        return True, "is in the Hugging Face cache"
    return False, (
        "is neither a local folder nor in the Hugging Face cache (download it with "
        f"`huggingface-cli download {name}`, or set AGENTKIT_MODEL to a folder or a spec "
        "such as 'ollama:llama3.2')"
    )
