"""Energy mode (protocol.md 2.3, 4.3): the DUT behind an interface board, its timestamp pin wired to
the energy monitor. Per trial: download, `infer N W`, then collect the monitor's samples and events
since the last trial; energy is summed between the trial's last two events, as the MLCommons runner
does (and with its code: submission_tools.scoring.energy.mlc_trial).

N comes from the config or from a calibration pass timed by the monitor's own edges: in energy mode
the DUT prints no lap times.
"""

from __future__ import annotations

import math

from harness.errors import HarnessError
from harness.mlc_format import energy_results
from harness.modes.common import RunContext, measure, record
from harness.modes.performance import CALIBRATION_S, MIN_ITERATIONS, WINDOW_ATTEMPTS, iterations_for
from harness.plots import energy_plot

COLLECT_TIMEOUT_S = 10.0


def _trial(ctx: RunContext, item, segment, iterations: int, warmups: int, number: int):
    reply, stats = measure(ctx, item, segment, iterations, warmups, expect_laps=False)
    capture = ctx.monitor.collect(expect_events=2, timeout_s=COLLECT_TIMEOUT_S)
    trial = capture.to_trial(iterations)
    problems = capture.check()
    if problems:
        raise HarnessError(f"energy monitor: {'; '.join(problems)}; check the timestamp wire between the DUT "
                           "(or interface board) and the monitor's event input")
    return reply, stats, trial, capture.score(iterations, number)


def run_energy(ctx: RunContext) -> list[str]:
    spec, dataset = ctx.spec, ctx.dataset
    if ctx.monitor is None:
        raise HarnessError("energy mode needs an energy monitor (devices: monitor: in the config)")
    assert dataset is not None
    chosen = dataset.inputs[:max(1, spec.inputs or spec.windows)]
    iterations = spec.iterations
    if iterations is None:
        item = chosen[0]
        segment = dataset.segments(item, dataset.read(item), first_only=True)[0]
        n = MIN_ITERATIONS
        while True:
            *_, window = _trial(ctx, item, segment, n, 0, -1)
            ctx.log(f"{ctx.prefix()} Calibration: {n} inferences took {window.duration_s:.3f} s between edges")
            if window.duration_s >= CALIBRATION_S or n >= 10**8:
                break
            n = n * 10 if window.duration_s <= 0 else max(n + 1, math.ceil(n * CALIBRATION_S * 1.2 / window.duration_s))
        iterations = iterations_for(window.duration_s * 1e6 / n, spec.target_window_s)
        ctx.log(f"{ctx.prefix()} Calibrated: {iterations} inferences per trial for {spec.target_window_s:g} s")
    windows = []
    ctx.progress.start("energy trials", spec.windows)
    for number in range(spec.windows):
        item = chosen[number % len(chosen)]
        segment = dataset.segments(item, dataset.read(item), first_only=True)[0]
        for _attempt in range(WINDOW_ATTEMPTS):
            ctx.log(f"{ctx.prefix()} Loading file {item.file} segment 0")
            reply, stats, trial, window = _trial(ctx, item, segment, iterations, spec.warmups, number)
            if window.duration_s >= spec.min_window_s or spec.iterations is not None:
                break
            iterations = max(iterations + 1, iterations_for(window.duration_s * 1e6 / iterations, spec.target_window_s))
            ctx.log(f"{ctx.prefix()} Trial {number} lasted {window.duration_s:.3f} s; measuring it again with "
                    f"{iterations} inferences")
        else:
            raise HarnessError(f"trial {number} stayed under {spec.min_window_s:g} s; set `iterations:` for energy "
                               "mode in the config")
        power = {"samples": trial.samples_j, "timestamps": [[c, i] for c, i in trial.events],
                 "extracted_power": None, "voltage": ctx.voltage}
        infer = {"results": reply.results, "total_inferences": 1, "iterations": iterations,
                 "warmups": spec.warmups}
        ctx.session.record(record(item, "energy", infer, segments=1, extra={"power": power}))
        energy_plot(ctx.session.directory / f"energy_inf_{number:03d}.png", trial)
        ctx.log(f"{ctx.prefix()} Trial {number}: {window.energy_per_inf_uj:.3f} uJ/inf over {window.duration_s} s")
        windows.append(window)
        ctx.progress.advance(1, stats.bytes)
    ctx.progress.stop()
    lines = energy_results(windows, min_window_s=spec.min_window_s, expected_trials=spec.windows)
    for line in lines:
        ctx.log(line)
    return lines
