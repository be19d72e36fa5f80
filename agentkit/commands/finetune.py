"""``agentkit finetune``: sft, dpo, embeddings, reader and merge, from a YAML config and/or flags.

Flags override the config file's keys. Progress and the loss show live; ``--resume``
continues an interrupted run from its newest checkpoint. The data is validated before any
model loads, so a bad line fails in a second with its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import number_range
from agentkit.core.errors import UsageError

finetune_app = typer.Typer(
    name="finetune",
    help="Fine-tune chat models (SFT, DPO with LoRA/QLoRA), embedders and span readers; "
    "merge adapters.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)

Config = Annotated[Path | None, typer.Option("--config", "-c", help="A YAML file of job options.")]
Base = Annotated[str | None, typer.Option(help="Base model: a local folder or cached hub id.")]
Data = Annotated[str | None, typer.Option(help="Training data (JSONL).")]
Output = Annotated[str | None, typer.Option("--output", "-o", help="The run folder to create.")]
Name = Annotated[str | None, typer.Option(help="Registry name (default: the output folder's).")]
Format = Annotated[str | None, typer.Option(help="Data format (default: detected).")]
Method = Annotated[str | None, typer.Option(help="lora, qlora (CUDA) or full.")]
Epochs = Annotated[
    float | None,
    typer.Option(callback=number_range(0, 10_000, above=True), help="Training epochs."),
]
MaxSteps = Annotated[
    int | None, typer.Option(min=-1, max=10**9, help="Stop after this many steps (-1: epochs).")
]
Batch = Annotated[int | None, typer.Option(min=1, max=65_536, help="Examples per device batch.")]
LR = Annotated[
    float | None,
    typer.Option("--lr", callback=number_range(0, 10, above=True), help="Learning rate."),
]
MaxLength = Annotated[
    int | None, typer.Option(min=1, max=10_000_000, help="Most tokens per example.")
]
TestSize = Annotated[
    float | None,
    typer.Option(callback=number_range(0, 1, below=True), help="Fraction held out for eval loss."),
]
Seed = Annotated[
    int | None, typer.Option(min=0, max=2**32 - 1, help="Random seed (split, shuffling, init).")
]
Device = Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 (default: auto).")]
LoraR = Annotated[int | None, typer.Option(min=1, max=4096, help="LoRA rank.")]
LoraAlpha = Annotated[int | None, typer.Option(min=1, max=65_536, help="LoRA alpha.")]
Targets = Annotated[str | None, typer.Option(help="LoRA target modules, comma-separated.")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")]
EvalData = Annotated[str | None, typer.Option(help="Eval data (JSONL) for the eval loss.")]
Checkpointing = Annotated[
    bool | None,
    typer.Option(
        "--gradient-checkpointing/--no-gradient-checkpointing",
        help="Recompute activations to save memory.",
    ),
]


def _options(config: Path | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The config file's options with the given flags on top."""
    data: dict[str, Any] = {}
    if config is not None:
        from agentkit.finetune.jobs import read_config

        data.update(read_config(config))
    lora = dict(data.get("lora") or {})
    for key, value in flags.items():
        if value is None:
            continue
        if key.startswith("lora_"):
            lora[key[5:]] = value
        else:
            data[key] = value
    if lora:
        data["lora"] = lora
    return data


def _targets(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


class LiveProgress:
    """Renders run events as a progress bar with the latest loss."""

    def __init__(self, title: str) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
            console=out,
            transient=False,
        )
        self.task = self.bar.add_task(title, total=None, loss="")

    def __enter__(self) -> LiveProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind in ("start", "step"):
            self.bar.update(self.task, total=event.get("total_steps"), completed=event["step"])
        elif kind == "log" and "loss" in event:
            eta = f", eta {event['eta_s']:.0f} s" if "eta_s" in event else ""
            self.bar.update(self.task, loss=f"loss {event['loss']:.4f}{eta}")
        elif kind == "log" and "eval_loss" in event:
            self.bar.console.print(f"step {event['step']}: eval loss {event['eval_loss']:.4f}")


def _summary(result: Any, usage: str) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    losses = result.train_losses
    table.add_row("output", Text(str(result.output)))
    table.add_row("name", Text(result.name))
    if losses:
        table.add_row("train loss", f"{losses[0]:.4f} -> {losses[-1]:.4f} ({len(losses)} logs)")
    if result.eval_losses:
        table.add_row("eval loss", f"{result.eval_losses[-1]:.4f}")
    for key in ("margin_before", "margin_after"):
        if key in result.manifest:
            table.add_row(key.replace("_", " "), f"{result.manifest[key]:.4f}")
    table.add_row("use it", Text(usage))
    out.print(table)


def _run_chat_job(kind: str, job_type: Any, train: Any, options: dict[str, Any]) -> None:
    """Build an SFT/DPO job from a command's options (a YAML config with flags on top), run
    it with live progress, and print the summary."""
    flags = dict(options)
    config, resume = flags.pop("config"), flags.pop("resume")
    flags["lora_target_modules"] = _targets(flags.pop("target_modules"))
    job = job_type.from_dict(_options(config, flags), where=str(config or "flags"))
    with LiveProgress(kind) as live:
        result = train(job, resume=resume, progress=live)
    _summary(result, _chat_usage(result))


def _chat_usage(result: Any) -> str:
    if result.manifest.get("kind") == "model":
        return f"HFChatModel({str(result.output)!r})"
    return f"model 'adapter:{result.name}' or HFChatModel.from_adapter({result.name!r})"


@finetune_app.command("sft")
def sft(
    config: Config = None,
    base: Base = None,
    data: Data = None,
    output: Output = None,
    name: Name = None,
    format: Format = None,
    method: Method = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: Batch = None,
    learning_rate: LR = None,
    max_length: MaxLength = None,
    truncation_side: Annotated[str | None, typer.Option(help="right or left.")] = None,
    packing: Annotated[bool | None, typer.Option("--packing/--no-packing")] = None,
    test_size: TestSize = None,
    eval_data: EvalData = None,
    seed: Seed = None,
    device: Device = None,
    gradient_checkpointing: Checkpointing = None,
    lora_r: LoraR = None,
    lora_alpha: LoraAlpha = None,
    target_modules: Targets = None,
    resume: Resume = False,
) -> None:
    """Supervised fine-tuning (trl SFTTrainer) of a chat model; registers the adapter."""
    options = dict(locals())  # the options, before anything else is defined
    from agentkit.finetune.jobs import SFTJob
    from agentkit.finetune.sft import train_sft

    _run_chat_job("sft", SFTJob, train_sft, options)


@finetune_app.command("dpo")
def dpo(
    config: Config = None,
    base: Base = None,
    data: Data = None,
    output: Output = None,
    name: Name = None,
    adapter: Annotated[str | None, typer.Option(help="Start from this SFT adapter.")] = None,
    beta: Annotated[
        float | None, typer.Option(callback=number_range(0, 1000, above=True), help="DPO beta.")
    ] = None,
    method: Method = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: Batch = None,
    learning_rate: LR = None,
    max_length: MaxLength = None,
    test_size: TestSize = None,
    eval_data: EvalData = None,
    seed: Seed = None,
    device: Device = None,
    gradient_checkpointing: Checkpointing = None,
    lora_r: LoraR = None,
    lora_alpha: LoraAlpha = None,
    target_modules: Targets = None,
    resume: Resume = False,
) -> None:
    """Direct preference optimisation (trl DPOTrainer) on prompt/chosen/rejected pairs."""
    options = dict(locals())  # the options, before anything else is defined
    from agentkit.finetune.dpo import train_dpo
    from agentkit.finetune.jobs import DPOJob

    _run_chat_job("dpo", DPOJob, train_dpo, options)


@finetune_app.command("embeddings")
def embeddings(
    config: Config = None,
    base: Annotated[str | None, typer.Option(help="Embedding model (default: MiniLM).")] = None,
    data: Annotated[str | None, typer.Option(help="query/passage pairs (JSONL).")] = None,
    corpus: Annotated[str | None, typer.Option(help="Documents to mine negatives from.")] = None,
    output: Output = None,
    name: Name = None,
    negatives: Annotated[
        int | None, typer.Option(min=0, max=1000, help="Hard negatives per pair.")
    ] = None,
    mine_with: Annotated[str | None, typer.Option(help="bm25, dense or none.")] = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: Batch = None,
    learning_rate: LR = None,
    max_seq_length: Annotated[
        int | None, typer.Option(min=1, max=10_000_000, help="Training truncation.")
    ] = None,
    test_size: TestSize = None,
    seed: Seed = None,
    device: Device = None,
    resume: Resume = False,
) -> None:
    """Fine-tune an embedding model on (query, passage) pairs; registers the embedder."""
    flags = dict(locals())  # the options, before anything else is defined
    from agentkit.finetune.embeddings import train_embeddings
    from agentkit.finetune.jobs import EmbeddingJob

    for key in ("config", "resume"):
        flags.pop(key)
    job = EmbeddingJob.from_dict(_options(config, flags), where=str(config or "flags"))
    with LiveProgress("embeddings") as live:
        result = train_embeddings(job, resume=resume, progress=live)
    _summary(result, f"registered_embedder({result.name!r}) in a VectorRetriever")


@finetune_app.command("merge")
def merge(
    adapter: Annotated[str, typer.Argument(help="A registered adapter name or folder.")],
    output: Annotated[str, typer.Argument(help="The folder to write the merged model to.")],
    base: Annotated[str | None, typer.Option(help="Base model (default: the adapter's).")] = None,
    name: Annotated[str | None, typer.Option(help="Also register the merged model.")] = None,
) -> None:
    """Merge a LoRA adapter into its base model's weights and save the full model."""
    from agentkit.finetune.merge import merge_adapter

    target = merge_adapter(adapter, output, base=base, name=name)
    out.print(Text(f"merged model written to {target}; load it with HFChatModel({str(target)!r})"))


@finetune_app.command("reader")
def reader(
    data: Annotated[str | None, typer.Option(help="SQuAD-format file (v1.1/v2.0, .gz ok).")] = None,
    base: Annotated[str | None, typer.Option(help="Encoder folder (default: MiniLM).")] = None,
    output: Output = None,
    name: Annotated[str, typer.Option(help="Registry name.")] = "squad-minilm",
    articles: Annotated[
        str | None,
        typer.Option(
            help="Article titles to train on, comma-separated, or 'all' "
            "(default: the 13 training articles)."
        ),
    ] = None,
    max_length: Annotated[int, typer.Option(min=32, max=100_000, help="Tokens per window.")] = 384,
    stride: Annotated[
        int, typer.Option(min=0, max=100_000, help="Overlap of a long passage's windows.")
    ] = 128,
    epochs: Annotated[
        float, typer.Option(callback=number_range(0, 10_000), help="Training epochs.")
    ] = 3.0,
    max_steps: Annotated[
        int, typer.Option(min=0, max=10**9, help="Stop after this many steps.")
    ] = 0,
    time_budget: Annotated[
        float,
        typer.Option(
            callback=number_range(0, 10**7),
            help="Seconds the training may take (0: no limit); the steps and the "
            "learning-rate schedule shrink to fit.",
        ),
    ] = 0.0,
    batch_size: Annotated[int, typer.Option(min=1, max=65_536, help="Windows per batch.")] = 16,
    learning_rate: Annotated[
        float,
        typer.Option("--lr", callback=number_range(0, 10, above=True), help="Learning rate."),
    ] = 5e-5,
    freeze_layers: Annotated[
        int, typer.Option(min=0, max=1000, help="Lower encoder layers kept frozen.")
    ] = 0,
    negatives: Annotated[
        float,
        typer.Option(callback=number_range(0, 100), help="'No answer' pairs per question."),
    ] = 0.3,
    held_back: Annotated[
        float,
        typer.Option(
            callback=number_range(0, 1, below=True), help="Share of questions for the threshold."
        ),
    ] = 0.05,
    eval_questions: Annotated[
        int, typer.Option(min=0, max=10**7, help="Held-out questions scored.")
    ] = 300,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed.")] = 0,
    threads: Annotated[
        int | None, typer.Option(min=1, max=4096, help="CPU threads (default: all).")
    ] = None,
    precision: Annotated[str, typer.Option(help="auto (bf16 if supported), bf16, fp32.")] = "auto",
) -> None:
    """Train a span reader (answers with a span of your documents, or says it does not
    know) on SQuAD-format data; registers it for the offline 'extractive' model."""
    from agentkit.finetune.reader import ReaderJob, train_reader

    if not data:
        raise UsageError(
            "pass the training data: --data ../shared/data/squad-v1.1-dev/dev-v1.1.json.gz "
            "(any SQuAD v1.1/v2.0 file)"
        )
    chosen: tuple[str, ...] | None = ReaderJob.articles
    if articles is not None:
        names = tuple(a.strip() for a in articles.split(",") if a.strip())
        chosen = None if names == ("all",) else names
        if not names:
            raise UsageError("--articles is empty; name articles or pass 'all'")
    job = ReaderJob(
        data=data,
        base=base or "",
        output=output or "",
        name=name,
        articles=chosen,
        max_length=max_length,
        stride=stride,
        epochs=epochs,
        max_steps=max_steps,
        time_budget=time_budget,
        batch_size=batch_size,
        learning_rate=learning_rate,
        freeze_layers=freeze_layers,
        negatives=negatives,
        held_back=held_back,
        eval_questions=eval_questions,
        seed=seed,
        threads=threads,
        precision=precision,
    )
    with LiveProgress("reader") as live:
        result = train_reader(job, progress=live)
    _summary(result, "model 'extractive' (agentkit ask, the app) or SpanReader(name)")
    held = result.manifest.get("held_out") or {}
    if held:
        out.print(
            f"held-out: EM {held['exact_match']:.1f}, F1 {held['f1']:.1f}, answers "
            f"{held['answer_right_paragraph']:.0%} on the right paragraph, abstains "
            f"{held.get('abstain_wrong_paragraph', 0):.0%} on a wrong one "
            f"({held['questions']} questions); trained in {result.manifest['train_seconds']:.0f} s"
        )


def register(app: typer.Typer) -> None:
    """Add ``agentkit finetune`` to ``app`` (once)."""
    if any(group.name == "finetune" for group in app.registered_groups):
        return
    app.add_typer(finetune_app, name="finetune")
