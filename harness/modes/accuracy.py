"""Accuracy mode: every input of the dataset (ad01: every sliding window), `infer 1 W` each, scored
as the MLCommons runner scores it (Top-1 and AUC on file-averaged, normalised vectors).

Each completed inference is journalled at once; `--resume` skips files whose windows are all in the
journal and redoes a file that was cut off half way (its partial windows are dropped first).
"""

from __future__ import annotations

from collections import Counter

from harness.modes.common import RunContext, measure, record, timed_infer
from harness.mlc_format import accuracy_results
from submission_tools.scoring import accuracy


def _completed_files(ctx: RunContext) -> set[str]:
    seen = Counter(r.get("file") for r in ctx.session.records)
    totals = {r.get("file"): (r.get("total_length") or 1) for r in ctx.session.records}
    complete = {name for name, count in seen.items() if count >= totals.get(name, 1)}
    dropped = ctx.session.drop_records(lambda r: r.get("file") in complete)
    if dropped:
        ctx.log(f"{ctx.prefix()} Dropped {dropped} window(s) of a file measured only in part; it is redone")
    return complete


def run_accuracy(ctx: RunContext) -> list[str]:
    spec, dataset = ctx.spec, ctx.dataset
    assert dataset is not None
    items = dataset.inputs[:spec.limit] if spec.limit else dataset.inputs
    if spec.limit:
        ctx.log(f"{ctx.prefix()} Smoke run: the first {len(items)} of {len(dataset.inputs)} inputs only")
    done = _completed_files(ctx)
    ctx.progress.start("accuracy inputs", len(items))
    ctx.progress.advance(len([i for i in items if i.file in done]))
    for item in items:
        if item.file in done:
            continue
        segments = dataset.segments(item, dataset.read(item))
        for index, segment in enumerate(segments):
            ctx.log(f"{ctx.prefix()} Loading file {item.file} segment {index}")
            reply, _ = measure(ctx, item, segment, 1, spec.warmups, expect_laps=ctx.mode != "energy")
            ctx.log(f"{ctx.prefix()}   m-results    : {reply.results}")
            ctx.session.record(record(item, "accuracy", timed_infer(reply, throughput=False),
                                      segments=len(segments)))
        ctx.progress.advance(1, sum(len(s.data) for s in segments))
    ctx.progress.stop()
    predictions = predictions_of(ctx.session.records)
    return accuracy_results(accuracy.mlc_top1_pct(predictions), accuracy.sklearn_auc(predictions), ctx.prefix())


def predictions_of(records: list[dict]) -> list[accuracy.Prediction]:
    by_file: dict[str, accuracy.Prediction] = {}
    for r in records:
        by_file.setdefault(r["file"], accuracy.Prediction(r["file"], int(r["class"]))).vectors.append(
            r["infer"]["results"])
    return list(by_file.values())
