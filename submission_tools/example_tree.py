"""Build a small, clean results tree: the README's example and the base of every rule fixture.

The runner files follow the formats the runners write (shared/docs/formats.md sections 2 and 3)
with synthetic, self-consistent numbers; nothing here is measured. `python -m
submission_tools.example_tree DEST` writes the tree that ships under examples/.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from submission_tools.resources import templates_dir
from submission_tools.rules.system_description import official_fields
from submission_tools.runners import EEMBC, EEMBC_MARKER, MLC

CLASSES = {"kws": 12, "vww": 2, "ic": 10, "ad": 2, "ic2": 10, "sww": 2}
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


def _window_runs(rng: random.Random, throughput: float, windows: int = 5) -> list[tuple[int, float]]:
    """(iterations, runtime_s) per window: each window lasts 10.5 to 12 s, as the rules want."""
    iterations = max(10, int(throughput * 11))
    return [(iterations, iterations / (throughput * rng.uniform(0.995, 1.005))) for _ in range(windows)]


def _scores(rng: random.Random, classes: int, label: int) -> list[float]:
    raw = [rng.random() * 0.2 for _ in range(classes)]
    raw[label] += 1.5 if rng.random() < 0.95 else 0.0
    total = sum(raw)
    return [round(v / total, 3) for v in raw]


def _mlc_performance(mode_dir: Path, bench: str, rng: random.Random) -> None:
    classes = CLASSES[bench]
    runs = _window_runs(rng, rng.uniform(20, 60))
    records, log, txt, clock = [], [
        "Logging initialized. Writing output to sessions/20260301_120000/log.txt",
        "Initializing SerialDevice on port: /dev/ttyACM0 at 115200 baud",
        f"Device model retrieved: {MODEL_IDS[bench]}",
    ], [], 1_000_000
    for w, (iterations, runtime) in enumerate(runs, start=1):
        elapsed = int(runtime * 1e6)
        scores = _scores(rng, classes, w % classes)
        throughput = iterations / (elapsed / 1e6)
        records.append({"file": f"example_{w:03d}.bin", "classes": str(classes), "class": str(w % classes),
                        "bytes_to_send": None, "stride": None, "total_length": None,
                        "infer": {"start_time": clock, "end_time": clock + elapsed, "results": scores,
                                  "elapsed_time": elapsed, "total_inferences": 1, "iterations": iterations,
                                  "warmups": 1, "throughput": throughput}, "mode": "p"})
        clock += elapsed + 500_000
        stamp = f"0301.1200{10 + w * 12:02d} ulp-mlperf:"
        log += [f"{stamp} Loading file example_{w:03d}.bin segment 0", f"{stamp} Load complete.",
                f"Running inference with 1/{iterations} (warmup/measured) iterations ...", "done",
                f"{stamp} Performance results for window {w}:", f"{stamp}   # Inferences :{iterations:>14}",
                f"{stamp}   Runtime      :{runtime:>11.3f} sec.", f"{stamp}   Throughput   :{throughput:>11.3f} inf./sec.",
                f"{stamp}   m-results    : {scores}"]
        txt += [f"Performance results for window {w}", f"    # Inferences : {iterations}",
                f"    Runtime: {elapsed / 1e6:f} sec.", f"    Throughput: {throughput!r} inf./sec.",
                "    Runtime requirements have been met."]
    throughputs = sorted(r["infer"]["throughput"] for r in records)
    txt.append(f"0301.120100 ulp-mlperf: Median throughput is {throughputs[2]:10.3f} inf./sec.")
    _write_session(mode_dir, log, txt, records)


def _mlc_accuracy(mode_dir: Path, bench: str, rng: random.Random, inputs: int) -> None:
    classes = CLASSES[bench]
    records, log, correct = [], ["Logging initialized. Writing output to sessions/20260301_110000/log.txt"], 0
    for i in range(inputs):
        label = i % classes
        scores = _scores(rng, classes, label)
        correct += scores.index(max(scores)) == label
        name = f"example_{i:04d}.bin"
        records.append({"file": name, "classes": str(classes), "class": str(label), "bytes_to_send": None,
                        "stride": None, "total_length": None,
                        "infer": {"start_time": i * 40_000, "end_time": i * 40_000 + 29_000, "results": scores,
                                  "elapsed_time": 29_000, "total_inferences": 1, "iterations": 1, "warmups": 0,
                                  "throughput": 1 / 0.029}, "mode": "a"})
        log += [f"0301.110000 ulp-mlperf: Loading file {name} segment 0",
                f"0301.110000 ulp-mlperf: Performance results for window {i + 1}:",
                "0301.110000 ulp-mlperf:   # Inferences :             1",
                "0301.110000 ulp-mlperf:   m-results    : " + str(scores)]
    top1 = 100.0 * correct / inputs
    txt = [f"0301.110500 ulp-mlperf: Top 1% = {top1:.1f}", "0301.110500 ulp-mlperf: AUC = 0.990"]
    _write_session(mode_dir, log + txt, txt, records)


def _write_session(mode_dir: Path, log: list[str], txt: list[str], records: list | None) -> None:
    mode_dir.mkdir(parents=True, exist_ok=True)
    (mode_dir / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    (mode_dir / "results.txt").write_text("\n".join(txt) + "\n", encoding="utf-8")
    if records is not None:
        (mode_dir / "results.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")


def _eembc_session(mode_dir: Path, bench: str, mode: str, rng: random.Random, inputs: int) -> None:
    """EEMBC EnergyRunner files (formats.md section 2): log.txt, results.txt, script.async (+ traces)."""
    classes = CLASSES[bench]
    count = 5 if mode != "accuracy" else inputs
    iterations_runs = _window_runs(rng, rng.uniform(20, 60)) if mode != "accuracy" else [(1, 0.03)] * inputs
    log = ["00003.793 session: m-session-start-id[20260301120000]", "00003.803 parser: m-version[3.0.10]",
           f"00004.313 dut: m-model-[{MODEL_IDS[bench]}]"]
    script, txt, lap, clock = [], [], 1_000_000, 5.0
    for w in range(count):
        iterations, runtime = iterations_runs[w]
        name = f"example_{w:04d}.bin"
        warm = 1 if mode != "accuracy" else 0
        log += [f"{clock:09.3f} parser: Command \"bload dut \"C:\\eembc\\datasets\\{MODEL_IDS[bench]}\\{name}\"\"",
                f"{clock:09.3f} parser: Command \"dut infer {iterations} {warm}\"",
                f"{clock:09.3f} dut: m-lap-us-{lap}"]
        lap += int(runtime * 1e6)
        clock += runtime
        log += [f"{clock:09.3f} dut: m-lap-us-{lap}", f"{clock:09.3f} dut: m-results-{_scores(rng, classes, w % classes)}".replace(" ", ""),
                f"{clock:09.3f} dut: m-ready"]
        script += [f"  {{ cmd: 'bload dut \"{name}\"', ms: 0, ack: /m-ready/ }},",
                   f"  {{ cmd: 'dut infer {iterations} {warm}', ms: 0, ack: /m-ready/ }},"]
        if mode != "accuracy":
            txt += [f"{clock:09.3f} ulp-mlperf: Performance results for window {2 * (w + 1)}:",
                    f"{clock:09.3f} ulp-mlperf:   # Inferences :{iterations:>13}",
                    f"{clock:09.3f} ulp-mlperf:   Runtime      :{runtime:>13.3f} sec.",
                    f"{clock:09.3f} ulp-mlperf:   Throughput   :{iterations / runtime:>13.3f} inf./sec.",
                    f"{clock:09.3f} ulp-mlperf: Runtime requirements have been met."]
        lap += 200_000
        clock += 0.5
    if mode == "accuracy":
        txt += [f"{clock:09.3f} ulp-mlperf: Top-1: 95.0%", f"{clock:09.3f} ulp-mlperf: AUC: 0.99"]
    else:
        medians = sorted(i / r for i, r in iterations_runs)
        txt.append(f"{clock:09.3f} ulp-mlperf: Median throughput is {medians[2]:.3f} inf./sec.")
    mode_dir.mkdir(parents=True, exist_ok=True)
    (mode_dir / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    (mode_dir / "results.txt").write_text("\n".join(txt) + "\n", encoding="utf-8")
    (mode_dir / "script.async").write_text("[\n" + "\n".join(script) + "\n]\n", encoding="utf-8")
    if mode == "energy":
        import struct
        (mode_dir / "trace1-energy.bin").write_bytes(b"\xf1" + struct.pack("<f", 1000.0)
                                                     + struct.pack("<4f", 1.0, 1.0, 1.0, 1.0))
        (mode_dir / "trace1-timestamps.json").write_text(json.dumps([0.0] + [float(i) for i in range(1, 11)]))


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
    for bench in spec.benchmarks:
        bench_dir = org / "results" / spec.system / bench
        modes = ["performance", "accuracy"] if bench != "sww" else ["energy"]
        modes += ["energy"] if bench in spec.energy and bench != "sww" else []
        for mode in modes:
            mode_dir = bench_dir / mode
            if spec.runner == EEMBC:
                _eembc_session(mode_dir, bench, mode, rng, spec.accuracy_inputs)
            elif mode == "accuracy":
                _mlc_accuracy(mode_dir, bench, rng, spec.accuracy_inputs)
            else:
                _mlc_performance(mode_dir, bench, rng)
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
