"""Streaming wakeword (protocol.md 1.8, 3.1.4, 7.2-7.4): the interface board plays a long wav into
the DUT while recording its detection and processing pins; the MLCommons runner's stream step, in
its order: `dut stop`, `dut start`, `record_detections`, `play`, a pause, `dut stop`,
`print_detections`, `print_dutycycle` (and in energy mode, the monitor's one trial)."""

from __future__ import annotations

import datetime
import json
import time

from harness.errors import DutCommandError, HarnessError
from harness.mlc_format import energy_results, sww_results
from harness.modes.common import RunContext, record
from submission_tools.scoring import sww

SETTLE_AFTER_PLAY_S = 0.25


def _truth(ctx: RunContext) -> tuple[str, float, int, list[tuple[float, float]]]:
    assert ctx.dataset_folder is not None
    path = ctx.dataset_folder / ctx.truth_file
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        entries = entries if isinstance(entries, list) else [entries]
        wav = ctx.spec.wav or (entries[0].get("wav_file") if len(entries) == 1 else None)
        entry = next(e for e in entries if e.get("wav_file") == wav)
        windows = sww.load_truth_windows(path, wav)
        return wav, float(entry["length_sec"]), int(entry.get("sample_rate", 16000)), windows
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise HarnessError(f"{path}: cannot read the wakeword truth for wav {ctx.spec.wav!r} ({exc}); expected a "
                           "JSON list of {wav_file, length_sec, sample_rate, detection_windows} as in the "
                           "runner's sww_long_test.json") from None


def _activations(lines: list[str]) -> list[str]:
    if not any("target activations:" in line for line in lines):
        return []
    after = lines[next(i for i, line in enumerate(lines) if "target activations:" in line) + 1:]
    return [line for line in after if line.startswith("[")]


def run_streaming(ctx: RunContext) -> list[str]:
    board = ctx.interface
    if board is None:
        raise HarnessError("streaming mode needs an interface board to play the wav (devices: interface:)")
    wav, length_s, rate, windows = _truth(ctx)
    try:
        ctx.dut.command("stop")
    except DutCommandError:
        pass  # already idle
    ctx.dut.command("start")
    board.record_detections()
    ctx.log(f"Playing {wav} (length = {length_s}s) at {datetime.datetime.now():%H:%M:%S}...")
    board.play(wav, length_s)
    ctx.log("... done")
    time.sleep(SETTLE_AFTER_PLAY_S)
    stop_lines = ctx.dut.command("stop", timeout_s=30.0)
    activations = _activations(stop_lines)
    detections = board.detections_ms()
    counts = board.duty_cycle()
    starts, stops = counts.seconds()
    ctx.log("\n".join(activations) if activations else "No activation data found.")
    ctx.log(str(detections))
    duty = sww.duty_cycle(starts, stops)
    if duty is not None:
        ctx.log(f"Duty cycle = {duty.duty_cycle:.3f}, Period = {duty.period_s * 1000:.1f} ms")
    score = sww.score_detections(detections, windows)
    entry = {"infer": {"wav_file": wav, "detection_windows": [list(w) for w in windows], "length_sec": length_s,
                       "sample_rate": rate, "detections": detections, "iterations": 1, "warmups": 0},
             "dutycycle": {"duty_cycle": duty.duty_cycle if duty else None,
                           "period": duty.period_s if duty else None,
                           "processing_time": duty.processing_time_s if duty else None,
                           "start_times_s": starts, "stop_times_s": stops},
             "activations": activations}
    lines: list[str] = []
    if ctx.monitor is not None:
        capture = ctx.monitor.collect(expect_events=2, timeout_s=10.0)
        trial = capture.to_trial(1)
        window = capture.score(1, 0)
        entry["power"] = {"samples": trial.samples_j, "timestamps": [[c, i] for c, i in trial.events],
                          "extracted_power": None, "voltage": ctx.voltage}
        lines += energy_results([window], min_window_s=10.0, expected_trials=1)
    result = record(None, "streaming", entry.pop("infer"), extra=entry)
    if ctx.monitor is not None:
        result["mode"] = "e"
    ctx.session.record(result)
    lines += sww_results(score, duty)
    for line in lines:
        ctx.log(line)
    return lines
