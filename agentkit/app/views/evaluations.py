"""The Evaluations page: browse eval runs, their summary metrics and plots, drill down to
one example with its trace, and compare two runs."""

from __future__ import annotations

import streamlit as st

from agentkit.app import ui
from agentkit.app.render import plain
from agentkit.core.errors import AgentkitError
from agentkit.evals.report import primary_key
from agentkit.evals.results import EvalRun, flat_scores, load_run
from agentkit.workspace.runs import (
    RunInfo,
    category_scores,
    comparable,
    example_rows,
    histogram,
    latencies,
    list_runs,
    score_keys,
    score_rows,
    trace_lines,
)


def unreadable(info: RunInfo, exc: Exception) -> None:
    st.error(
        f"Run {plain(info.name)} cannot be read ({plain(f'{type(exc).__name__}: {exc}')}). "
        "It may be half-written (still running, or stopped mid-write) or corrupt: rerun it "
        "with agentkit eval run ... --out FOLDER, or pick another run."
    )


def show_run(info: RunInfo) -> None:
    """The run's summary, plots and examples, or why its files cannot be shown."""
    try:
        run = load_run(info.path)
        if not isinstance(run.summary, dict) or not all(isinstance(r, dict) for r in run.records):
            raise ValueError("its summary or a result line is not a JSON object")
        draw_run(info, run)
    except (AgentkitError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        unreadable(info, exc)


def draw_run(info: RunInfo, run: EvalRun) -> None:
    summary = run.summary
    st.caption(
        f"Chain {plain(info.chain or '?')} · dataset {plain(info.dataset or '?')} · "
        f"{info.examples} examples · {plain(summary.get('errors', 0))} errors · finished "
        f"{plain(info.finished or '?')}"
    )
    keys = score_keys(summary)
    shown = keys[:6]
    if shown:
        cols = st.columns(len(shown))
        for col, key in zip(cols, shown, strict=True):
            col.metric(key, f"{summary['metrics'][key]:.3f}")
    from agentkit.evals.legend import legend

    st.caption(plain(legend(summary, run.records)))  # what each metric means, which matter
    with st.expander("All summary values"):
        st.json(summary)
    main = primary_key(keys)
    left, right = st.columns(2)
    if main is not None:
        values = [flat_scores(r).get(main) for r in run.records]
        with left:
            st.caption(f"Distribution of {main}")
            st.bar_chart(histogram([v for v in values if v is not None]))
        categories = summary.get("by_category") or {}
        shown_categories, caption = category_scores(categories, main)
        if shown_categories:
            with right:
                st.caption(caption)
                rows = [{"category": k, main: v} for k, v in shown_categories.items()]
                st.bar_chart(rows, x="category", y=main, horizontal=True, sort=f"-{main}")
    times = latencies(run.records)
    if times:
        st.caption("Latency (seconds)")
        st.bar_chart(histogram(times))
    st.subheader("Examples")
    rows = example_rows(run.records, shown)
    st.dataframe(rows, hide_index=True)
    ids = [str(r["id"]) for r in run.records]
    picked = st.selectbox("Example", ids, key=f"ex-{info.name}")
    record = next((r for r in run.records if str(r["id"]) == picked), None)
    if record is not None:
        prediction = record.get("prediction") or {}
        st.markdown("**Question**")
        st.text(record.get("question", ""))
        st.markdown("**Gold answers**")
        st.text("\n".join(record.get("answers") or []) or "(none)")
        st.markdown("**Prediction**")
        st.text(prediction.get("text", ""))
        if prediction.get("error"):
            st.error(plain(prediction["error"]))
        st.markdown("**Scores**")
        st.dataframe(score_rows(record), hide_index=True)
        lines = trace_lines(record)
        if lines:
            st.markdown("**Trace**")
            st.code("\n".join(lines), language=None)


def show_compare(runs: list[RunInfo]) -> None:
    from agentkit.evals.compare import compare

    st.subheader("Compare two runs")
    names = [r.name for r in runs]
    by_name = {r.name: r for r in runs}
    col_a, col_b = st.columns(2)
    a = col_a.selectbox("Run A (baseline)", names, index=min(1, len(names) - 1), key="cmp-a")
    others = [r.name for r in comparable(runs, by_name[a])]
    if not others:
        col_b.info("No other run shares an example with this one: nothing to compare.")
        return
    b = col_b.selectbox("Run B (runs that share examples with A)", others, key=f"cmp-b-{a}")
    if not st.button("Compare") or b is None:
        return
    try:
        result = compare(by_name[a].path, by_name[b].path, resamples=1000)
    except Exception as exc:
        st.error(plain(f"{type(exc).__name__}: {exc}"))
        return
    rows = [
        {
            "metric": d.key,
            "A": d.a,
            "B": d.b,
            "delta": d.delta,
            "95% CI": f"[{d.low:+.4f}, {d.high:+.4f}]",
            "significant": d.significant,
        }
        for d in result.deltas
    ]
    st.caption(
        f"{result.common} paired examples ({result.only_a} only in A, {result.only_b} only in B)"
    )
    st.dataframe(rows, hide_index=True)
    for key, flips in result.flipped.items():
        st.caption(
            f"{key}: {flips.n_gained} gained ({plain(', '.join(flips.gained[:10]) or '-')}), "
            f"{flips.n_lost} lost ({plain(', '.join(flips.lost[:10]) or '-')})"
        )


def render() -> None:
    settings = ui.page("Evaluations")
    runs = list_runs(settings.runs)
    if not runs:
        st.info(
            f"No eval runs in `{settings.runs}`. Run one with agentkit eval run ... --out "
            f"{settings.runs}/<name>, or start the app with --runs <folder>."
        )
        return
    picked = st.selectbox(
        "Run",
        [r.name for r in runs],
        format_func=lambda n: next(r.label for r in runs if r.name == n),
    )
    info = next(r for r in runs if r.name == picked)
    show_run(info)
    if len(runs) > 1:
        show_compare(runs)


if __name__ == "__main__":
    render()
