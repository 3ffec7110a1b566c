"""Build a small, clean results tree: the README's example and the base of every rule fixture.

The runner files follow the formats the runners write (shared/docs/formats.md sections 2 and 3)
with synthetic, self-consistent numbers; nothing here is measured. `python -m
submission_tools.example_tree DEST` writes the tree that ships under examples/.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
import numpy as np

from submission_tools.resources import templates_dir
from submission_tools.rules.system_description import official_fields
from submission_tools.runners import EEMBC, EEMBC_MARKER, MLC
from submission_tools.logs.energy_trace import read_energy_trace
from submission_tools.runmodel import EnergyTrial
from submission_tools.scoring import accuracy as scoring
from submission_tools.scoring import energy, sww
from submission_tools.scoring.throughput import median_like_runner

CLASSES = {"kws": 12, "vww": 2, "ic": 10, "ad": 2, "ic2": 10, "sww": 2}
# A session date inside each round's window (rulesets/*.yaml session_window), so RUN005 stays quiet;
# the v1.3 date also lies inside v1.4's window, so a v1.3 tree checked as v1.4 differs only by round.
SESSION_DAYS = {"v1.0": "20221001", "v1.1": "20230301", "v1.2": "20240101", "v1.3": "20250815",
                "v1.4": "20260301"}
AD_WINDOWS = 196  # windows of 2560 bytes at stride 512 in a 102400-byte ad01 input
MODEL_IDS = {"kws": "kws01", "vww": "vww01", "ic": "ic01", "ad": "ad01", "ic2": "ic02", "sww": "sww01"}


@dataclass
class ExampleSpec:
    round: str = "v1.4"
    runner: str = MLC
    division: str = "closed"
    submitter: str = "example_org"
    system: str = "virtual_dut_host"
    benchmarks: tuple[str, ...] = ("kws", "ic")
    energy: tuple[str, ...] = ()  # benchmarks that also get an energy run
    accuracy_inputs: int = 20
    seed: int = 7
    system_fields: dict = field(default_factory=dict)  # overrides of the description


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (enough for a checklist placeholder in a fixture)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text.replace('(', '[').replace(')', ']')}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def render_system_description(fields: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("system_description.json.j2").render(fields=fields) + "\n"


def system_fields(spec: ExampleSpec) -> dict:
    values = {
        "Submitter": spec.submitter,
        "Division": spec.division,
        "Status": "Available",
        "Board Name": "Host computer (virtual DUT)",
        "SoC Name": "x86-64 host",
        "Processor(s) Name": "Host CPU",
        "Processor(s) Frequencies": "as reported by the host",
        "Inference Framework": "submit built-in int8 reference kernels",
        "Operating System": "Linux",
        "Quantization Method": "Post-training int8 quantization (reference model as provided)",
        "Hardware Notes": "Synthetic example results; nothing here was measured on hardware.",
    }
    fields = {name: values.get(name, "") for name in official_fields()}
    fields.update(spec.system_fields)
    return fields


def example_inputs(bench: str, count: int) -> list[tuple[str, int]]:
    """(file name, label) of the synthetic evaluation set of a benchmark."""
    classes = CLASSES[bench]
    dataset = "ic" if bench == "ic2" else bench  # ic2 is evaluated on the ic01 set
    return [(f"{dataset}_{i:04d}.bin", i % classes) for i in range(count)]


def _window_runs(rng: random.Random, throughput: float, windows: int = 5) -> list[tuple[int, int]]:
    """(iterations, runtime in µs) per window: each lasts 10.5 to 12 s, as the rules want."""
    iterations = max(10, int(throughput * 11))
    return [(iterations, int(iterations / (throughput * rng.uniform(0.995, 1.005)) * 1e6)) for _ in range(windows)]


def _scores(rng: random.Random, bench: str, label: int) -> list[float]:
    """A plausible output: probabilities (3 decimals) favouring the label, or one AD anomaly score."""
    if bench == "ad":
        return [round(rng.uniform(5.0, 9.0) + 3.0 * label, 3)]
    classes = CLASSES[bench]
    raw = [rng.random() * 0.2 for _ in range(classes)]
    raw[label] += 1.5 if rng.random() < 0.95 else 0.0
    total = sum(raw)
    return [round(v / total, 3) for v in raw]


def _accuracy_outputs(rng: random.Random, bench: str, spec: ExampleSpec) -> list[tuple[str, int, int, list[float]]]:
    """(file, label, AD offset, outputs) for every inference of an accuracy run."""
    rows = []
    for name, label in example_inputs(bench, spec.accuracy_inputs):
        offsets = range(0, AD_WINDOWS * 512, 512) if bench == "ad" else [0]
        rows += [(name, label, offset, _scores(rng, bench, label)) for offset in offsets]
    return rows


def _predictions(rows) -> list[scoring.Prediction]:
    by_file: dict[str, scoring.Prediction] = {}
    for name, label, _offset, outputs in rows:
        by_file.setdefault(name, scoring.Prediction(name, label)).vectors.append(outputs)
    return list(by_file.values())


def _mlc_performance(mode_dir: Path, bench: str, rng: random.Random, day: str) -> None:
    classes = CLASSES[bench]
    records, log, txt, clock = [], [
        f"Logging initialized. Writing output to sessions/{day}_120000/log.txt",
        "Initializing SerialDevice on port: /dev/ttyACM0 at 115200 baud",
        f"Device model retrieved: {MODEL_IDS[bench]}",
    ], [], 1_000_000
    for w, (iterations, elapsed) in enumerate(_window_runs(rng, rng.uniform(20, 60)), start=1):
        name, label = example_inputs(bench, 5)[w - 1]
        scores = _scores(rng, bench, label)
        throughput = iterations / (elapsed / 1e6)
        records.append({"file": name, "classes": str(classes), "class": str(label),
                        "bytes_to_send": "2560" if bench == "ad" else None, "stride": "512" if bench == "ad" else None,
                        "total_length": 1 if bench == "ad" else None,
                        "infer": {"start_time": clock, "end_time": clock + elapsed, "results": scores,
                                  "elapsed_time": elapsed, "total_inferences": 1, "iterations": iterations,
                                  "warmups": 1, "throughput": throughput}, "mode": "p"})
        clock += elapsed + 500_000
        stamp = f"0301.1200{10 + w * 12:02d} ulp-mlperf:"
        log += [f"{stamp} Loading file {name} segment 0", f"{stamp} Load complete.",
                f"Running inference with 1/{iterations} (warmup/measured) iterations ...", "done",
                f"{stamp} Performance results for window {w}:", f"{stamp}   # Inferences :{iterations:>14}",
                f"{stamp}   Runtime      :{elapsed / 1e6:>11.3f} sec.",
                f"{stamp}   Throughput   :{throughput:>11.3f} inf./sec.", f"{stamp}   m-results    : {scores}"]
        txt += [f"Performance results for window {w}", f"    # Inferences : {iterations}",
                f"    Runtime: {elapsed / 1e6} sec.", f"    Throughput: {throughput!r} inf./sec.",
                "    Runtime requirements have been met."]
    median = median_like_runner([r["infer"]["throughput"] for r in records])
    txt.append(f"0301.120100 ulp-mlperf: Median throughput is {median:>10.3f} inf./sec.")
    _write_session(mode_dir, log, txt, records)


def _mlc_accuracy(mode_dir: Path, bench: str, rng: random.Random, spec: ExampleSpec, day: str) -> None:
    classes = CLASSES[bench]
    rows = _accuracy_outputs(rng, bench, spec)
    records, log = [], [f"Logging initialized. Writing output to sessions/{day}_110000/log.txt"]
    for i, (name, label, offset, outputs) in enumerate(rows):
        records.append({"file": name, "classes": str(classes), "class": str(label),
                        "bytes_to_send": "2560" if bench == "ad" else None, "stride": "512" if bench == "ad" else None,
                        "total_length": AD_WINDOWS if bench == "ad" else None,
                        "infer": {"start_time": i * 40_000, "end_time": i * 40_000 + 29_000, "results": outputs,
                                  "elapsed_time": 29_000, "total_inferences": 1, "iterations": 1, "warmups": 0},
                        "mode": "a"})
        log += [f"0301.110000 ulp-mlperf: Loading file {name} segment {offset // 512}",
                f"0301.110000 ulp-mlperf: Performance results for window {i + 1}:",
                "0301.110000 ulp-mlperf:   # Inferences :             1",
                f"0301.110000 ulp-mlperf:   m-results    : {outputs}"]
    predictions = _predictions(rows)
    txt = [f"0301.110500 ulp-mlperf: Top 1% = {scoring.mlc_top1_pct(predictions):2.1f}",
           f"0301.110500 ulp-mlperf: AUC = {scoring.sklearn_auc(predictions):.3f}"]
    _write_session(mode_dir, log + txt, txt, records)


def _write_session(mode_dir: Path, log: list[str], txt: list[str], records: list | None) -> None:
    mode_dir.mkdir(parents=True, exist_ok=True)
    (mode_dir / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    (mode_dir / "results.txt").write_text("\n".join(txt) + "\n", encoding="utf-8")
    if records is not None:
        (mode_dir / "results.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")


IDLE_UJ_PER_MS = 6.0  # synthetic core power while idle or downloading (6 mW)
INFER_UJ_PER_MS = 24.0  # and while inferring (24 mW)


def _eembc_energy_session(mode_dir: Path, bench: str, rng: random.Random, day: str) -> None:
    """EEMBC energy mode (protocol.md 5.1, 6): a 1 kHz trace, 2*5+1 edges, claims from the trace."""
    runs = _window_runs(rng, rng.uniform(20, 60))
    edges, t = [0.015], 0.015
    for _iterations, elapsed in runs:
        t += 1.5  # download of the input through the IO manager
        edges.append(round(t, 3))
        t += elapsed / 1e6
        edges.append(round(t, 3))
    total = int((t + 1.5) * 1000)
    samples = np.full(total, IDLE_UJ_PER_MS, dtype="<f4")
    for k in range(1, len(edges), 2):
        i0, i1 = round(edges[k] * 1000), round(edges[k + 1] * 1000)
        samples[i0:i1] = INFER_UJ_PER_MS + np.asarray([rng.uniform(-0.5, 0.5) for _ in range(i1 - i0)], "<f4")
    mode_dir.mkdir(parents=True, exist_ok=True)
    (mode_dir / "trace1-energy.bin").write_bytes(b"\xf1" + struct.pack("<f", 1000.0) + samples.tobytes())
    (mode_dir / "trace1-timestamps.json").write_text("[\n" + ",\n".join(f"\t{e:g}" for e in edges) + "\n]",
                                                     encoding="utf-8")
    trace = read_energy_trace(mode_dir / "trace1-energy.bin")
    windows = [energy.eembc_window(trace, edges[2 * j + 1], edges[2 * j + 2], runs[j][0], 2 * (j + 1))
               for j in range(len(runs))]
    offset, relay = 80.0, 0.02  # log clock at trace start; DUT lines reach the log ~20 ms late
    log = [f"00003.793 session: m-session-start-id[{day}130000]", "00003.803 parser: m-version[3.0.10]",
           "00003.900 parser: m-bmark-run-name[ML Energy 1.0.1]-code[ulp-ml]",
           f"00083.853 io: [dut]: m-model-[{MODEL_IDS[bench]}]", "00083.874 emon: m-trace[on]"]
    script, txt = [], []
    for (name, _label), (iterations, _elapsed), window in zip(example_inputs(bench, 5), runs, windows):
        start, stop = offset + window.start_s, offset + window.start_s + window.duration_s
        log += [f'{start - 1.4:09.3f} parser: Command "bloadp "C:\\eembc\\datasets\\{MODEL_IDS[bench]}\\{name}""',
                f'{start - 0.1:09.3f} parser: Command "io dut infer {iterations} 1"',
                f"{start + relay:09.3f} io: [dut]: m-infer-start-{iterations}",
                f"{stop + relay:09.3f} io: [dut]: m-infer-done",
                f"{stop + relay:09.3f} io: [dut]: m-results-[{','.join(f'{v:.3f}' for v in _scores(rng, bench, _label))}]",
                f"{stop + relay:09.3f} io: [dut]: m-ready"]
        script += [f"  {{ cmd: 'bloadp \"{name}\"', ms: 0 }},",
                   f"  {{ cmd: 'io dut infer {iterations} 1', ms: -1, ack: /dut.?: m-ready/ }},"]
        txt += [f"00152.594 ulp-ml: Energy data for window {window.number} at time {window.start_s:.2f} for "
                f"{window.duration_s:.2f} sec.:",
                f"00152.594 ulp-ml:   Energy       : {window.energy_uj:>12.3f} uJ",
                f"00152.594 ulp-ml:   Power        : {window.power_uw:>12.3f} uW",
                f"00152.594 ulp-ml:   Energy/Inf.  : {window.energy_per_inf_uj:>12.3f} uJ/inf."]
    median = energy.median_like_runner([w.energy_per_inf_uj for w in windows])
    txt += [f"00152.645 ulp-ml: Median energy cost is {median:.3f} uJ/inf."]
    for window in windows:
        txt += [f"00152.646 ulp-ml: Performance results for window {window.number}:",
                f"00152.647 ulp-ml:   # Inferences : {window.iterations:>12}",
                f"00152.647 ulp-ml:   Runtime      : {window.duration_s:>12.3f} sec.",
                f"00152.647 ulp-ml:   Throughput   : {window.iterations / window.duration_s:>12.3f} inf./sec.",
                "00152.647 ulp-ml: Runtime requirements have been met."]
    throughputs = [w.iterations / w.duration_s for w in windows]
    txt.append(f"00152.648 ulp-ml: Median throughput is {median_like_runner(throughputs):.3f} inf./sec.")
    (mode_dir / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    (mode_dir / "results.txt").write_text("\n".join(txt) + "\n", encoding="utf-8")
    (mode_dir / "script.async").write_text("[\n" + "\n".join(script) + "\n]\n", encoding="utf-8")


def _mlc_energy(mode_dir: Path, bench: str, rng: random.Random, day: str) -> None:
    """MLCommons-runner energy mode (protocol.md 4.3): J per 1 ms sample and (counter, index) events."""
    records, txt = [], ["Power Edition Output"]
    trials = []
    for (name, label), (iterations, elapsed) in zip(example_inputs(bench, 5), _window_runs(rng, rng.uniform(20, 60))):
        i0, length = 1500, elapsed // 1000
        samples = [round(IDLE_UJ_PER_MS * 1e-6, 10)] * i0 + [
            round((INFER_UJ_PER_MS + rng.uniform(-0.5, 0.5)) * 1e-6, 10) for _ in range(length)]
        samples += [round(IDLE_UJ_PER_MS * 1e-6, 10)] * 200
        events = [["00", i0], ["01", i0 + length]]
        records.append({"file": name, "classes": str(CLASSES[bench]), "class": str(label), "bytes_to_send": None,
                        "stride": None, "total_length": None,
                        "infer": {"results": _scores(rng, bench, label), "total_inferences": 1,
                                  "iterations": iterations, "warmups": 1},
                        "power": {"samples": samples, "timestamps": events, "extracted_power": None,
                                  "voltage": 1.8}, "mode": "e"})
        trials.append(EnergyTrial(samples, [(c, i) for c, i in events], iterations))
    windows = [energy.mlc_trial(trial, n) for n, trial in enumerate(trials)]
    for window in windows:
        txt += [f"Energy data for trial {window.number}", f"  Elapsed time  : {window.duration_s}",
                f"  Inferences    : {window.iterations}", f"  Power         : {window.power_mw:5.4f} mW.",
                f"  Total Energy  : {window.energy_uj:.3f} uJ", f"  Energy/Inf    : {window.energy_per_inf_uj:.3f} uJ/inf"]
    median = energy.median_like_runner([w.energy_per_inf_uj for w in windows])
    txt += ["---------------------------------------------------------",
            f"Median energy cost is {median:5.4f} uJ/inf.", "---------------------------------------------------------"]
    log = [f"Logging initialized. Writing output to sessions/{day}_130000/log.txt",
           f"Device model retrieved: {MODEL_IDS[bench]}"] + txt
    _write_session(mode_dir, log, txt, records)


SWW_WAKEWORDS = 50


def _mlc_sww(mode_dir: Path, mode: str, rng: random.Random, day: str) -> None:
    """MLCommons-runner streaming wakeword (protocol.md 7.2-7.4): 50 wakewords in a 1200 s wav,
    detections as the DUT reports them (ms, first = sync pulse), duty cycle from start/stop times."""
    windows = [(20.0 + 23.0 * k + rng.uniform(0, 2), 0.0) for k in range(SWW_WAKEWORDS)]
    windows = [(round(t0, 4), round(t0 + rng.uniform(0.4, 0.9), 4)) for t0, _ in windows]
    sync = 96
    detections = [sync] + [sync + int((t0 + 0.3) * 1000) for t0, _t1 in windows[:46]]
    detections += [sync + ms for ms in (5_000, 400_000, 900_000)]  # three false alarms far from any wakeword
    starts = [0.08528 + 0.032 * i for i in range(100)]
    stops = [s + 0.0116 + rng.uniform(0, 0.0002) for s in starts]
    score, duty = sww.score_detections(detections, windows), sww.duty_cycle(starts, stops)
    record = {"infer": {"wav_file": "long_wav.wav", "detection_windows": [list(w) for w in windows],
                        "length_sec": 1200.0, "sample_rate": 16000, "detections": detections,
                        "iterations": 1, "warmups": 0},
              "dutycycle": {"duty_cycle": duty.duty_cycle, "period": duty.period_s,
                            "processing_time": duty.processing_time_s, "start_times_s": starts,
                            "stop_times_s": stops},
              "activations": [], "mode": "p" if mode == "performance" else "e"}
    txt = []
    if mode == "energy":  # one trial over the streamed wav (shortened here to 12 s of samples)
        samples = [round(INFER_UJ_PER_MS * 1e-6, 10)] * 12_000
        record["power"] = {"samples": samples, "timestamps": [["00", 0], ["01", 12_000]],
                           "extracted_power": None, "voltage": 1.8}
        window = energy.mlc_trial(EnergyTrial(samples, [("00", 0), ("01", 12_000)], 1), 0)
        txt += ["Power Edition Output", "Energy data for trial 0", f"  Elapsed time  : {window.duration_s}",
                "  Inferences    : 1", f"  Power         : {window.power_mw:5.4f} mW.",
                f"  Total Energy  : {window.energy_uj:.3f} uJ", f"  Energy/Inf    : {window.energy_per_inf_uj:.3f} uJ/inf",
                "---------------------------------------------------------",
                f"Median energy cost is {window.energy_per_inf_uj:5.4f} uJ/inf.",
                "---------------------------------------------------------"]
    txt += [f"Accuracy: {score.tp} True positives, {score.fn} False negatives, {score.fp} False positives",
            f"Average duty cycle: {sww.runner_text(duty.duty_cycle)}",
            f"Average period: {sww.runner_text(duty.period_s)} s",
            f"Estimated throughput: {sww.runner_text(duty.throughput_ips)} inf./sec."]
    log = [f"Logging initialized. Writing output to sessions/{day}_140000/log.txt", "Device model retrieved: sww01",
           "Playing long_wav.wav (length = 1200.0s) at 14:00:04...", "... done", "No activation data found.",
           str(detections), f"Duty cycle = {duty.duty_cycle:.3f}, Period = {duty.period_s * 1000:.1f} ms"] + txt
    _write_session(mode_dir, log, txt, [record])


def _eembc_session(mode_dir: Path, bench: str, mode: str, rng: random.Random, spec: ExampleSpec,
                   day: str) -> None:
    """EEMBC EnergyRunner files (formats.md section 2): log.txt, results.txt, script.async (+ traces)."""
    if mode == "energy":
        _eembc_energy_session(mode_dir, bench, rng, day)
        return
    if mode == "accuracy":
        rows = _accuracy_outputs(rng, bench, spec)
        plan = [(name, offset, 1, 0, 30_000, outputs) for name, _label, offset, outputs in rows]
    else:
        plan = [(name, 0, iterations, 1, elapsed, _scores(rng, bench, label))
                for (name, label), (iterations, elapsed) in zip(example_inputs(bench, 5),
                                                                 _window_runs(rng, rng.uniform(20, 60)))]
    log = [f"00003.793 session: m-session-start-id[{day}120000]", "00003.803 parser: m-version[3.0.10]",
           f"00004.313 dut: m-model-[{MODEL_IDS[bench]}]"]
    script, txt, lap, clock = [], [], 1_000_000, 5.0
    for w, (name, offset, iterations, warmups, elapsed, outputs) in enumerate(plan):
        segment = f" {offset} 2560" if bench == "ad" else ""
        log += [f'{clock:09.3f} parser: Command "bload dut "C:\\eembc\\datasets\\{MODEL_IDS[bench]}\\{name}"{segment}"',
                f'{clock:09.3f} parser: Command "dut infer {iterations} {warmups}"',
                f"{clock:09.3f} dut: m-lap-us-{lap}"]
        lap += elapsed
        clock += elapsed / 1e6
        log += [f"{clock:09.3f} dut: m-lap-us-{lap}", f"{clock:09.3f} dut: m-results-[{','.join(f'{v:.3f}' for v in outputs)}]",
                f"{clock:09.3f} dut: m-ready"]
        script += [f"  {{ cmd: 'bload dut \"{name}\"{segment}', ms: 0 }},",
                   f"  {{ cmd: 'dut infer {iterations} {warmups}', ms: -1, ack: /dut.?: m-ready/ }},"]
        if mode != "accuracy":
            runtime = elapsed / 1e6
            txt += [f"{clock:09.3f} ulp-mlperf: Performance results for window {2 * (w + 1)}:",
                    f"{clock:09.3f} ulp-mlperf:   # Inferences :{iterations:>13}",
                    f"{clock:09.3f} ulp-mlperf:   Runtime      :{runtime:>13.3f} sec.",
                    f"{clock:09.3f} ulp-mlperf:   Throughput   :{iterations / runtime:>13.3f} inf./sec.",
                    f"{clock:09.3f} ulp-mlperf: Runtime requirements have been met."]
        lap += 200_000
        clock += 0.5
    if mode == "accuracy":
        predictions = _predictions(rows)
        if bench == "ad":
            y_true, y_pred = scoring.file_averages(predictions)
            txt += [f"{clock:09.3f} ulp-mlperf: Top-1: {scoring.ad_top1_pct(y_true, y_pred[:, 0]):.1f}%",
                    f"{clock:09.3f} ulp-mlperf: AUC: {scoring.sklearn_auc(predictions):.2f}"]
        else:
            txt += [f"{clock:09.3f} ulp-mlperf: Top-1: {scoring.top1_pct(predictions):.1f}%",
                    f"{clock:09.3f} ulp-mlperf: AUC: {scoring.eembc_auc(predictions, CLASSES[bench]):.2f}"]
    else:
        median = median_like_runner([iterations / (elapsed / 1e6) for _n, _o, iterations, _w, elapsed, _v in plan])
        txt.append(f"{clock:09.3f} ulp-mlperf: Median throughput is {median:.3f} inf./sec.")
    mode_dir.mkdir(parents=True, exist_ok=True)
    (mode_dir / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    (mode_dir / "results.txt").write_text("\n".join(txt) + "\n", encoding="utf-8")
    (mode_dir / "script.async").write_text("[\n" + "\n".join(script) + "\n]\n", encoding="utf-8")


def write_example_reference(dest: Path, spec: ExampleSpec | None = None) -> Path:
    """A stand-in mlcommons/tiny checkout whose y_labels.csv files label the example inputs, so
    that fixtures can verify accuracy as a real --reference would (the digests differ, noted)."""
    spec = spec or ExampleSpec()
    for bench, model in (("kws", "kws01"), ("vww", "vww01"), ("ic", "ic01"), ("ad", "ad01")):
        folder = dest / "benchmark" / "evaluation" / "datasets" / model
        folder.mkdir(parents=True)
        rows = [f"{name},{CLASSES[bench]},{label}" + (",2560,512" if bench == "ad" else "")
                for name, label in example_inputs(bench, spec.accuracy_inputs)]
        (folder / "y_labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dest


def build_example_tree(dest: Path, spec: ExampleSpec | None = None) -> Path:
    """Write a clean tree for `spec` under `dest` (which must not exist yet) and return it."""
    spec = spec or ExampleSpec()
    rng = random.Random(spec.seed)
    dest.mkdir(parents=True)
    (dest / "README.md").write_text(
        f"# MLPerf™ Tiny {spec.round} results\n\nA synthetic example tree built by "
        "`python -m submission_tools.example_tree`; its numbers were not measured.\n", encoding="utf-8")
    org = dest / spec.division / spec.submitter
    systems = org / "systems"
    systems.mkdir(parents=True)
    (systems / f"{spec.system}.json").write_text(render_system_description(system_fields(spec)), encoding="utf-8")
    (systems / f"TinyMLPerf_{spec.round}_Submission_Checklist.pdf").write_bytes(
        minimal_pdf(f"TinyMLPerf {spec.round} submission checklist (example)"))
    if spec.energy or "sww" in spec.benchmarks:  # sww is measured in energy mode only
        (systems / "Energy-Hookup.pdf").write_bytes(minimal_pdf("Energy hook-up: core supply through the monitor"))
    code = org / "code"
    code.mkdir()
    (code / "README.md").write_text(
        "# Reproducing these results\n\nThese are synthetic example results; see the submit README.\n",
        encoding="utf-8")
    if spec.division == "closed":  # the synthetic results ran the reference int8 models unchanged
        (code / "models.yaml").write_text(yaml.safe_dump(
            {"models": [{"benchmark": b, "reference_int8": True} for b in spec.benchmarks]}, sort_keys=False),
            encoding="utf-8")
    if spec.division == "open":
        (code / "deviations.yaml").write_text(yaml.safe_dump({"submitter": spec.submitter, "deviations": [{
            "benchmarks": list(spec.benchmarks),
            "model": "unchanged: the reference model of each benchmark",
            "training_data": "unchanged: the reference training data",
            "training_procedure": "none: the reference weights are used as provided",
            "quantization": "int8 post-training quantization of the reference float model",
            "numerics": "int8 weights and activations, int32 accumulators",
            "unchanged": "task, accuracy dataset, pre- and post-processing"}]}, sort_keys=False), encoding="utf-8")
    for bench in spec.benchmarks:
        bench_dir = org / "results" / spec.system / bench
        modes = ["performance", "accuracy"] if bench != "sww" else ["performance", "energy"]
        modes += ["energy"] if bench in spec.energy and bench != "sww" else []
        for mode in modes:
            mode_dir = bench_dir / mode
            day = SESSION_DAYS.get(spec.round, "20260301")
            if spec.runner == EEMBC:
                _eembc_session(mode_dir, bench, mode, rng, spec, day)
            elif bench == "sww":
                _mlc_sww(mode_dir, mode, rng, day)
            elif mode == "accuracy":
                _mlc_accuracy(mode_dir, bench, rng, spec, day)
            elif mode == "energy":
                _mlc_energy(mode_dir, bench, rng, day)
            else:
                _mlc_performance(mode_dir, bench, rng, day)
        if spec.runner == EEMBC and spec.round >= "v1.3":
            (bench_dir / EEMBC_MARKER).write_text("", encoding="utf-8")
    return dest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m submission_tools.example_tree DEST", file=sys.stderr)
        return 2
    dest = Path(argv[0])
    if dest.exists():
        print(f"{dest}: already exists; remove it first", file=sys.stderr)
        return 2
    build_example_tree(dest)
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
