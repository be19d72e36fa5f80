"""Local fine-tuning: data formats and validation, SFT and DPO with LoRA/QLoRA, embedding
fine-tuning, span-reader fine-tuning (``train_reader``), merging, and the registries that
let chains use the results by name (``adapter:<name>``, ``registered_embedder``, readers).

Imports are light: torch, transformers, trl, peft and sentence-transformers load when a run
starts. Importing registers the ``registered_embedder`` spec type.
"""

from __future__ import annotations

from agentkit.finetune.data import DataError, TrainingData, load_data
from agentkit.finetune.dpo import preference_margins, train_dpo
from agentkit.finetune.embedder_registry import EmbedderRegistry, registered_embedder
from agentkit.finetune.embeddings import train_embeddings
from agentkit.finetune.jobs import DPOJob, EmbeddingJob, LoraOptions, SFTJob
from agentkit.finetune.merge import merge_adapter
from agentkit.finetune.mining import mine_hard_negatives
from agentkit.finetune.reader import ReaderJob, train_reader
from agentkit.finetune.reader_registry import ReaderRegistry
from agentkit.finetune.registry import AdapterEntry, AdapterRegistry, default_root
from agentkit.finetune.runs import RunResult
from agentkit.finetune.sft import train_sft
from agentkit.finetune.templates import ALPACA_NO_INPUT, ALPACA_WITH_INPUT

__all__ = [
    "ALPACA_NO_INPUT",
    "ALPACA_WITH_INPUT",
    "AdapterEntry",
    "AdapterRegistry",
    "DPOJob",
    "DataError",
    "EmbedderRegistry",
    "EmbeddingJob",
    "LoraOptions",
    "ReaderJob",
    "ReaderRegistry",
    "RunResult",
    "SFTJob",
    "TrainingData",
    "default_root",
    "load_data",
    "merge_adapter",
    "mine_hard_negatives",
    "preference_margins",
    "registered_embedder",
    "train_dpo",
    "train_embeddings",
    "train_reader",
    "train_sft",
]
