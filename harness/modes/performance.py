"""Performance mode: 5 timed windows of N inferences each (protocol.md 2.3, 2.5).

N comes from the config, or from a short calibration pass so that each window lasts about
`target_window_s` (at least `min_window_s` = 10 s, the rules' minimum, and at least 10 iterations,
EEMBC's). A window that still falls short (a DUT that speeds up once warm) is measured again with
a larger N, and the log says so: a session never claims a window the rules would reject.
"""

from __future__ import annotations

import math

from harness.errors import HarnessError
from harness.mlc_format import PerformanceWindow, performance_results, performance_window_log
from harness.modes.common import RunContext, measure, record, timed_infer

MIN_ITERATIONS = 10
CALIBRATION_S = 0.5  # long enough for a 1 ms timestamp counter to give 0.2% resolution
WINDOW_ATTEMPTS = 3
CALIBRATION_PASSES = 8  # 1 inference, then x10 or to the measured rate: 8 passes reach 10^7 inferences
# A window whose time differs from the expected one by more than this is measured again: a lap line
# that lost a digit on the wire still parses, and would otherwise be a throughput off by 10x.
PLAUSIBLE_DEVIATION = 0.25


def implausible(elapsed_us: int, expected_us: float | None) -> bool:
    return bool(expected_us) and abs(elapsed_us / expected_us - 1.0) > PLAUSIBLE_DEVIATION


def iterations_for(per_inference_us: float, target_s: float) -> int:
    return max(MIN_ITERATIONS, math.ceil(target_s * 1e6 / max(per_inference_us, 1e-3)))


def calibrate(ctx: RunContext, item, segment) -> float:
    """Microseconds per inference, from `infer n 0` with n growing until it lasts CALIBRATION_S."""
    n = 1
    for _ in range(CALIBRATION_PASSES):
        reply, _ = measure(ctx, item, segment, n, 0, expect_laps=True)
        elapsed = reply.elapsed_us or 0
        ctx.log(f"{ctx.prefix()} Calibration: {n} inferences took {elapsed} us")
        if elapsed >= CALIBRATION_S * 1e6:
            return elapsed / n
        n = n * 10 if elapsed == 0 else max(n + 1, math.ceil(n * CALIBRATION_S * 1.2e6 / elapsed))
    raise HarnessError(f"calibration: {n // 10} inferences still took {elapsed} us; the DUT's timestamp counter "
                       "(th_timestamp, m-lap-us) does not seem to advance")


def run_performance(ctx: RunContext) -> list[str]:
    spec, dataset = ctx.spec, ctx.dataset
    assert dataset is not None
    chosen = dataset.inputs[:max(1, spec.inputs or spec.windows)]
    iterations = spec.iterations
    per_inference: float | None = None
    if iterations is None:
        first = chosen[0]
        per_inference = calibrate(ctx, first, dataset.segments(first, dataset.read(first), first_only=True)[0])
        iterations = iterations_for(per_inference, spec.target_window_s)
        ctx.log(f"{ctx.prefix()} Calibrated: {per_inference:.1f} us per inference; {iterations} inferences "
                f"per window for {spec.target_window_s:g} s")
    windows: list[PerformanceWindow] = []
    ctx.progress.start("performance windows", spec.windows)
    for number in range(1, spec.windows + 1):
        item = chosen[(number - 1) % len(chosen)]
        segment = dataset.segments(item, dataset.read(item), first_only=True)[0]
        for attempt in range(WINDOW_ATTEMPTS):
            ctx.log(f"{ctx.prefix()} Loading file {item.file} segment 0")
            reply, stats = measure(ctx, item, segment, iterations, spec.warmups, expect_laps=True)
            window = PerformanceWindow(number, iterations, reply.elapsed_us or 0)
            if window.elapsed_us <= 0:
                ctx.log(f"{ctx.prefix()} Window {number}: both lap stamps are equal; measuring it again")
                continue
            expected = per_inference * iterations if per_inference else (
                sorted(w.elapsed_us for w in windows)[len(windows) // 2] if windows else None)
            if implausible(window.elapsed_us, expected):
                ctx.log(f"{ctx.prefix()} Window {number} took {window.elapsed_us} us where about {expected:.0f} "
                        "was expected: a damaged lap line or a disturbed DUT; measuring it again")
                continue
            if window.runtime_s >= spec.min_window_s or spec.iterations is not None:
                break
            grown = iterations_for(window.elapsed_us / iterations, spec.target_window_s)
            ctx.log(f"{ctx.prefix()} Window {number} lasted {window.runtime_s:.3f} s, under "
                    f"{spec.min_window_s:g} s; measuring it again with {grown} inferences")
            iterations = max(grown, iterations + 1)
        else:
            raise HarnessError(f"window {number}: no valid measurement in {WINDOW_ATTEMPTS} attempts (too short, or "
                               f"timed far from the calibration; see {ctx.session.directory / 'log.txt'}); set "
                               "`iterations:` for performance mode in the config if the DUT's speed varies")
        ctx.log(f"Running inference with {spec.warmups}/{iterations} (warmup/measured) iterations ...")
        for line in performance_window_log(window, reply.results, ctx.prefix()):
            ctx.log(line)
        ctx.session.record(record(item, "performance", timed_infer(reply, throughput=True), segments=1))
        windows.append(window)
        ctx.progress.advance(1, stats.bytes)
    ctx.progress.stop()
    return performance_results(windows, ctx.prefix(), min_window_s=spec.min_window_s,
                               expected_windows=spec.windows)
