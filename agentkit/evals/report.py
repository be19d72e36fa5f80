"""The self-contained HTML report of a run: summary, plots, worst examples with traces.

One file, inline CSS and SVG and one small inline script (it filters the examples table;
it never inserts markup), nothing fetched from elsewhere. Every piece of text from the
data, the chain or the model is HTML-escaped (model output is untrusted). The summary is
the compact table with the metric legend (:mod:`agentkit.evals.legend`); sums, tokens and
the other timing sit in a collapsed details section. Long example lists collapse: the
worst few open, the rest folded, and every example in a filterable table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals import svg
from agentkit.evals.metrics.base import percentile
from agentkit.evals.results import EvalRun, flat_scores, load_run, write_text

PRIMARY = ("f1", "em", "correct", "contains", "rougeL", "ndcg@10", "hit@5", "mrr", "bleu")
USAGE_KEYS = frozenset(
    {"prompt_tokens", "completion_tokens", "total_tokens", "model_calls", "cost_usd"}
)
LOWER_IS_BETTER = frozenset({"wer", "cer", "levenshtein", "perplexity", "cost_usd"})
WORST = 20
WORST_OPEN = 3  # worst examples shown unfolded
TABLE_ROWS = 2000
FOLD_ROWS = 25  # a longer examples table starts folded
CELL_CHARS = 160
CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 7px;
text-align:left;vertical-align:top;overflow-wrap:break-word}th{background:#f4f4f4}.num{text-align:right}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{border:1px solid #eee}
.ex{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.err{color:#b00}.muted{color:#777}pre{white-space:pre-wrap;background:#f8f8f8;padding:.5em}
ul.trace{font-size:.85em;margin:.2em 0}.legend{color:#555;font-size:.9em}
details.ex>summary{cursor:pointer}input.filter{margin:.5em 0;padding:3px;width:22em}
"""
FILTER_JS = (
    "document.querySelectorAll('input.filter').forEach(function(box){"
    "box.addEventListener('input',function(){var q=box.value.toLowerCase();"
    "document.querySelectorAll('#examples tr.row').forEach(function(tr){"
    "tr.style.display=tr.textContent.toLowerCase().indexOf(q)<0?'none':'';});});});"
)


def primary_key(keys: Sequence[str]) -> str | None:
    """The score that ranks examples in the report."""
    for key in PRIMARY:
        if key in keys:
            return key
    return next(iter(keys), None)


def _num(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 10 else f"{value:.4f}"
    return escape(str(value))


def _cut(text: str, limit: int = CELL_CHARS) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def render_report(run: EvalRun, title: str | None = None) -> str:
    """The report as one HTML string."""
    from agentkit.evals.legend import compact, legend

    meta, summary = run.meta, run.summary
    chain = (meta.get("chain") or {}).get("name", "chain")
    dataset = Path((meta.get("dataset") or {}).get("path", "")).name or "dataset"
    suite = meta.get("suite")
    heading = title or (f"{suite}: " if suite else "Eval report: ") + f"{chain} on {dataset}"
    scores = [flat_scores(r) for r in run.records]
    keys = list(summary.get("metrics", {}))
    ranked = [k for k in keys if k not in USAGE_KEYS and not k.endswith(("_sum", "_error"))]
    main = primary_key([k for k in ranked if any(k in s for s in scores)])
    means, details = compact(summary)
    body = [
        f"<h1>{escape(heading)}</h1>",
        _overview(run),
        "<h2>Summary</h2>",
        _table(["metric", "mean"], [[escape(k), _num(v)] for k, v in means.items()]),
        f'<p class="legend">{escape(legend(summary, run.records))}</p>',
    ]
    if details:
        rows = [[escape(k), _num(v)] for k, v in details.items()]
        body.append(
            "<details><summary>Sums, tokens and timing</summary>"
            + _table(["measure", "value"], rows)
            + "</details>"
        )
    body += ["<h2>Plots</h2>", _plots(run, scores, ranked, main)]
    if main is not None:
        body += [f"<h2>Worst examples by {escape(main)}</h2>", _worst(run, scores, main)]
    body += [f"<h2>All examples ({len(run.records)})</h2>", _all_examples(run, scores, ranked[:6])]
    body += [
        "<h2>Run metadata</h2>",
        "<details><summary>run.json</summary>"
        f"<pre>{escape(json.dumps(meta, indent=2, default=str))}</pre></details>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + f"<script>{FILTER_JS}</script></body></html>\n"
    )


def gold_answers(record: Mapping[str, Any]) -> list[str]:
    """The record's gold answers, each once (SQuAD repeats the same answer per annotator)."""
    seen: dict[str, None] = {}
    for answer in record.get("answers") or []:
        seen.setdefault(str(answer).strip(), None)
    return [a for a in seen if a]


def _overview(run: EvalRun) -> str:
    meta, summary = run.meta, run.summary
    git = meta.get("git") or {}
    items = [
        ("examples", summary.get("examples")),
        ("chain errors", summary.get("errors")),
        ("metric errors", summary.get("metric_errors")),
        ("dataset", (meta.get("dataset") or {}).get("path")),
        ("dataset sha256", ((meta.get("dataset") or {}).get("sha256") or "")[:16]),
        ("models", ", ".join(meta.get("models") or [])),
        ("git commit", (git.get("commit") or "")[:12] + (" (dirty)" if git.get("dirty") else "")),
        ("created", meta.get("created")),
    ]
    rows = [[escape(k), escape(str(v))] for k, v in items if v not in (None, "")]
    return _table(["", ""], rows, header=False)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], header: bool = True) -> str:
    """A table; cells must already be escaped."""
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _plots(run: EvalRun, scores: list[dict[str, float]], keys: list[str], main: str | None) -> str:
    charts: list[str] = []
    binary: list[str] = []
    for key in keys:
        values = [s[key] for s in scores if key in s]
        if not values:
            continue
        if set(values) <= {0.0, 1.0}:
            binary.append(key)
        elif len(charts) < 6:
            charts.append(svg.histogram(values, f"{key} distribution", key))
    if binary:
        shares = [run.summary["metrics"].get(k, 0.0) for k in binary]
        charts.append(svg.bar_chart(binary, shares, "pass/fail metrics: share scoring 1"))
    latencies = sorted(
        r["prediction"]["latency"]
        for r in run.records
        if r["prediction"].get("latency") is not None
    )
    if latencies:
        cap = percentile(latencies, 99)
        over = sum(1 for v in latencies if v > cap)
        title = "latency per example" + (f" ({over} above p99 not shown)" if over else "")
        charts.append(svg.histogram([v for v in latencies if v <= cap], title, "seconds"))
    categories = run.summary.get("by_category") or {}
    if main and len(categories) > 1:
        top = sorted(categories.items(), key=lambda kv: -kv[1].get("examples", 0))[:30]
        labels = [name for name, values in top if main in values]
        values = [categories[name][main] for name in labels]
        charts.append(svg.bar_chart(labels, values, f"{main} by category (largest 30)"))
    return '<div class="plots">' + "".join(c for c in charts if c) + "</div>"


def _worst(run: EvalRun, scores: list[dict[str, float]], key: str) -> str:
    sign = -1.0 if key in LOWER_IS_BETTER else 1.0
    scored = [(sign * s[key], i) for i, s in enumerate(scores) if key in s]
    chosen = [i for _, i in sorted(scored)[:WORST]]
    if not chosen:
        return "<p>none</p>"
    shown = [
        _example(run.records[i], scores[i], key, open_=n < WORST_OPEN) for n, i in enumerate(chosen)
    ]
    note = (
        f"<p class='muted'>The {len(chosen)} lowest of {len(scored)}; the first {WORST_OPEN} "
        "open, click the others to unfold.</p>"
        if len(chosen) > WORST_OPEN
        else ""
    )
    return note + "".join(shown)


def _example(
    record: Mapping[str, Any], scores: Mapping[str, float], key: str = "", open_: bool = True
) -> str:
    pred = record.get("prediction") or {}
    score = f"{escape(key)} = {_num(scores[key])} · " if key in scores else ""
    parts = [
        f'<details class="ex"{" open" if open_ else ""}><summary>{score}'
        f"<b>{escape(str(record.get('id')))}</b> {_cut(str(record.get('question', '')), 100)}"
        f' <span class="muted">{escape(str(record.get("category") or ""))}</span></summary>',
        f"<p><b>Question:</b> {escape(str(record.get('question', '')))}</p>",
        f"<p><b>Gold:</b> {escape(' | '.join(gold_answers(record)) or '(no answer)')}</p>",
        f"<p><b>Prediction:</b> {escape(str(pred.get('text', '')))}</p>",
    ]
    if pred.get("error"):
        parts.append(f'<p class="err"><b>Error:</b> {escape(str(pred["error"]))}</p>')
    shown = sorted((k, v) for k, v in scores.items() if k not in USAGE_KEYS)
    parts.append("<p>" + ", ".join(f"{escape(k)} = {_num(v)}" for k, v in shown) + "</p>")
    for name, note in (record.get("notes") or {}).items():
        parts.append(f"<p><b>{escape(name)} rationale:</b> {escape(str(note))}</p>")
    if pred.get("retrieved_ids"):
        parts.append(f"<p><b>Retrieved:</b> {escape(', '.join(pred['retrieved_ids'][:10]))}</p>")
    if pred.get("spans"):
        parts.append(f"<details><summary>trace</summary>{trace_html(pred['spans'])}</details>")
    parts.append("</details>")
    return "".join(parts)


def trace_html(spans: Sequence[Mapping[str, Any]]) -> str:
    """A span tree as nested lists, with durations, errors and input/output previews."""
    ids = {s.get("id") for s in spans}
    children: dict[Any, list[Mapping[str, Any]]] = {}
    for span in spans:
        parent = span.get("parent_id") if span.get("parent_id") in ids else None
        children.setdefault(parent, []).append(span)

    def walk(parent: Any) -> str:
        items = []
        for span in sorted(children.get(parent, []), key=lambda s: s.get("start") or 0):
            took = ((span.get("end") or 0) - (span.get("start") or 0)) * 1000
            status = (
                f' <span class="err">{escape(str(span["error"]))}</span>'
                if span.get("error")
                else ""
            )
            usage = f" {escape(str(span['usage']))}" if span.get("usage") else ""
            items.append(
                f"<li>{escape(str(span.get('name')))} <span class='muted'>"
                f"[{escape(str(span.get('kind')))}] {took:.1f} ms{usage}</span>{status}"
                f"<br><span class='muted'>in:</span> {_cut(str(span.get('input', '')))}"
                f"<br><span class='muted'>out:</span> {_cut(str(span.get('output', '')))}"
                f"{walk(span.get('id'))}</li>"
            )
        return f'<ul class="trace">{"".join(items)}</ul>' if items else ""

    return walk(None)


def _all_examples(run: EvalRun, scores: list[dict[str, float]], keys: list[str]) -> str:
    rows = []
    for record, s in list(zip(run.records, scores, strict=True))[:TABLE_ROWS]:
        pred = record.get("prediction") or {}
        cells = [
            escape(str(record.get("id"))),
            _cut(str(record.get("question", "")), 100),
            _cut(" | ".join(gold_answers(record)), 60),
            _cut(str(pred.get("text", "")), 100)
            + (' <span class="err">error</span>' if pred.get("error") else ""),
            *[_num(s[k]) if k in s else "" for k in keys],
        ]
        rows.append('<tr class="row">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in ["id", "question", "gold", "prediction", *keys])
    table = f'<table id="examples"><tr>{head}</tr>{"".join(rows)}</table>'
    more = len(run.records) - TABLE_ROWS
    note = f"<p class='muted'>{more} more in results.jsonl</p>" if more > 0 else ""
    box = '<input class="filter" type="search" placeholder="filter by id, question, answer...">'
    if len(rows) <= FOLD_ROWS:
        return box + table + note
    return f"<details><summary>Show all {len(rows)} rows</summary>{box}{table}{note}</details>"


def write_report(run: EvalRun, path: str | Path, title: str | None = None) -> Path:
    """Write the report of ``run`` to ``path`` (atomically)."""
    target = Path(path)
    # a lone surrogate in model text cannot be encoded: it shows as "?"
    html = render_report(run, title).encode("utf-8", "replace").decode("utf-8")
    write_text(target, html)
    return target


def open_run(run_dir: str | Path) -> EvalRun:
    """A finished run folder, or a UsageError saying the folder does not exist."""
    folder = Path(run_dir)
    if not folder.exists():
        raise UsageError(
            f"run folder {folder} does not exist; give a folder 'agentkit eval run' wrote "
            "(its --out, by default runs/<name>-<time>)"
        )
    if not folder.is_dir():
        raise UsageError(f"{folder} is a file; give the run's folder (it holds results.jsonl)")
    return load_run(folder)


def report_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """(Re)write the report of a finished run folder; returns its path."""
    run = open_run(run_dir)
    return write_report(run, out or Path(run_dir) / "report.html")
