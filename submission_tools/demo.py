"""`submit demo`: the whole product on one machine, with no hardware and nothing downloaded.

It composes the commands a submitter runs, in order:

1. measure (`submit run`): the virtual DUT, with the built-in model, for kws, vww, ic and ad in
   performance, accuracy and energy modes (energy through the virtual interface board and LPM01A),
   plus the streaming wakeword (sww) in performance and energy; each session goes to
   `OUT/sessions/`. With a reference checkout (`--reference`, the `sim` extra) a benchmark whose
   reference int8 model and real inputs exist runs that model on those inputs instead;
2. package (`submit package`): a submission manifest (`OUT/submission.yaml`) naming those sessions,
   a code folder per benchmark (its harness configs, `OUT/code/`) and placeholder documents
   (`OUT/docs/`), assembled into `OUT/tree/closed/<submitter>/`;
3. check (`submit check`): the packaged tree, against `OUT/reference/`, a stand-in mlcommons/tiny
   checkout whose label files name the synthetic inputs (the real label file is copied for a
   benchmark that ran real inputs);
4. report (`submit report`): `OUT/report.html`.

Every step calls the same functions as its command; nothing here measures, scores or checks.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from submission_tools.check import CheckOptions, CheckResult, run_check
from submission_tools.errors import UsageError
from submission_tools.example_tree import ExampleSpec, minimal_pdf, write_example_reference
from submission_tools.labels import read_label_file
from submission_tools.reference import ReferenceCheckout, known_digests

ROUND = "v1.4"
DIVISION = "closed"
SUBMITTER = "demo_org"
SYSTEM = "virtual_dut"
# Synthetic accuracy inputs per benchmark: the built-in models were calibrated on 50 or more
# (Top-1 93-96 %, above every closed target), and the stand-in reference labels exactly these.
ACCURACY_INPUTS = 50
BENCHMARKS = ("kws", "vww", "ic", "ad")
MODES = ("performance", "accuracy", "energy")
SWW_MODES = ("performance", "energy")  # sww is measured in streaming mode, with and without the monitor
MODEL_ID = {"kws": "kws01", "vww": "vww01", "ic": "ic01", "ad": "ad01", "sww": "sww01"}
REFERENCE_MODEL_KEY = {"kws": "kws_int8", "vww": "vww_int8", "ic": "ic_int8", "ad": "ad_int8"}
LABELS = "y_labels.csv"
SYSTEM_FIELDS = {
    "Status": "Available",
    "Board Name": "Virtual DUT on the host (submit demo)",
    "Processor(s) Name": "Host CPU",
    "Processor(s) Frequencies": "simulated clock",
    "Inference Framework": "submit virtual DUT",
    "Operating System": "Linux",
    "Hardware Notes": "Made by `submit demo`: measured on the virtual DUT, nothing here ran on hardware.",
}
SIM_FIX = "pip install -e '.[sim]'"


@dataclass
class DemoOptions:
    out: Path  # a new (or empty) folder for everything the demo makes
    reference: Path | None = None  # a checkout of mlcommons/tiny: real models where real inputs exist
    datasets: Path | None = None  # more real inputs: <model>/ folders with their y_labels.csv
    sww: bool = True


@dataclass
class BenchPlan:
    """What the virtual DUT runs for one benchmark: the built-in model on generated inputs, or a
    reference .tflite on a folder of real inputs."""

    bench: str
    model: Path | None = None  # None: the built-in model
    dataset: Path | None = None  # None: synthetic inputs (generated, cached)
    labels: Path | None = None  # the reference label file the check holds the real inputs to

    @property
    def model_id(self) -> str:
        return MODEL_ID[self.bench]

    @property
    def modes(self) -> tuple[str, ...]:
        return SWW_MODES if self.bench == "sww" else MODES

    @property
    def runs_reference_model(self) -> bool:
        return self.model is not None

    def describe(self) -> str:
        if self.model is None:
            return f"built-in {self.model_id} model, {ACCURACY_INPUTS} synthetic inputs" if self.bench != "sww" \
                else "built-in sww01 detector, synthetic 20-minute stream"
        return f"reference model {self.model.name}, real inputs in {self.dataset}"


@dataclass
class Measured:
    bench: str
    mode: str
    session: Path
    summary: str  # the session's score line, for the progress output
    seconds: float = 0.0  # wall time of the run


@dataclass
class DemoResult:
    out: Path
    plans: list[BenchPlan]
    measured: list[Measured] = field(default_factory=list)
    manifest: Path | None = None
    tree: Path | None = None
    packaged: Path | None = None  # tree/<division>/<submitter>
    reference: Path | None = None
    check: CheckResult | None = None
    report: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> wall time

    def exit_code(self) -> int:
        return self.check.exit_code() if self.check is not None else 1


# ----------------------------------------------------------------------------------------------
# Inputs


def check_out_folder(out: Path) -> None:
    """The output folder must be new, or empty; the demo never mixes its files with others."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {out}: exists and is not a folder; give a new folder, e.g. --out demo-out-2")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"--out {out}: the folder exists and is not empty; remove it (rm -r {out}) or give "
                         f"another folder, e.g. --out {out.name}-2")


def sim_available() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


def reference_model(checkout: ReferenceCheckout, bench: str) -> Path | None:
    key = REFERENCE_MODEL_KEY.get(bench)
    if key is None:
        return None
    path = checkout.root / known_digests()["models"][key]["path"]
    return path if path.is_file() else None


def real_inputs(folder: Path) -> bool:
    """A folder of real inputs: its y_labels.csv names at least one file, and every one it names is there."""
    labels = folder / LABELS
    if not labels.is_file():
        return False
    names = read_label_file(labels, LABELS, folder.name).entries  # a malformed row: InputError, file:line
    return bool(names) and all((folder / name).is_file() for name in names)


def input_folders(checkout: ReferenceCheckout, datasets: Path | None, model_id: str) -> list[Path]:
    """Where real inputs of a model may be: --datasets DIR/<model>, then the checkout's own
    evaluation folder (mlcommons/tiny keeps only the labels there; a user may add the inputs)."""
    folders = [datasets / model_id] if datasets is not None else []
    folders.append(checkout.root / "benchmark" / "evaluation" / "datasets" / model_id)
    return folders


def plan_benchmarks(options: DemoOptions) -> list[BenchPlan]:
    """The built-in model everywhere; with --reference, the reference model where real inputs exist."""
    benches = BENCHMARKS + (("sww",) if options.sww else ())
    if options.reference is None:
        return [BenchPlan(bench) for bench in benches]
    checkout = ReferenceCheckout.open(options.reference)
    plans = []
    for bench in benches:
        model = reference_model(checkout, bench)
        folder = next((f for f in input_folders(checkout, options.datasets, MODEL_ID.get(bench, ""))
                       if model is not None and real_inputs(f)), None)
        if model is None or folder is None:
            plans.append(BenchPlan(bench))
        else:
            plans.append(BenchPlan(bench, model=model.resolve(), dataset=folder.resolve(),
                                   labels=checkout.label_file(MODEL_ID[bench])))
    return plans


def validate_options(options: DemoOptions) -> None:
    """Usage errors, before anything is written."""
    check_out_folder(options.out)
    if options.datasets is not None and not options.datasets.is_dir():
        raise UsageError(f"--datasets {options.datasets}: no such folder; give the folder holding <model>/ "
                         "folders of inputs and their y_labels.csv (an eembc/energyrunner datasets folder)")
    if options.datasets is not None and options.reference is None:
        raise UsageError("--datasets needs --reference: the reference models run the real inputs")
    if options.reference is not None and not options.reference.is_dir():
        raise UsageError(f"--reference {options.reference}: no such folder; give a checkout of mlcommons/tiny "
                         "(git clone https://github.com/mlcommons/tiny), or leave --reference out")
    if options.reference is not None and not sim_available():
        raise UsageError(f"--reference runs the reference .tflite models, which needs the sim extra "
                         f"(ai-edge-litert): {SIM_FIX}, then run the demo again")


# ----------------------------------------------------------------------------------------------
# 1. Measure


def harness_config(plan: BenchPlan, mode: str) -> str:
    """The `submit run` config of one session: every device virtual, the UART unpaced."""
    through_board = mode == "energy" or plan.bench == "sww"
    lines = [f"# `submit run` config written by `submit demo`: {plan.describe()}",
             f"benchmark: {plan.model_id}"]
    if plan.dataset is not None:
        lines.append(f"dataset: {_yaml_scalar(str(plan.dataset))}")
    lines += ["devices:", "  dut: {port: virtual}"]
    if through_board:
        lines.append("  interface: {name: stm32h573i-dk, port: virtual}")
    if mode == "energy":
        lines.append("  monitor: {name: lpm01a, port: virtual, voltage: 1.8}")
    model = "builtin" if plan.model is None else _yaml_scalar(str(plan.model))
    count = "" if plan.model is not None else f", dataset_count: {ACCURACY_INPUTS}"
    lines.append(f"virtual: {{model: {model}, pace: false{count}}}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(text: str) -> str:
    """A path as a YAML scalar that stays one in a flow mapping: JSON strings are YAML."""
    return json.dumps(text, ensure_ascii=False)


def config_path(out: Path, bench: str, mode: str) -> Path:
    return out / "code" / bench / f"harness-{mode}.yaml"


def run_mode(out: Path, plan: BenchPlan, mode: str) -> Measured:
    """One `submit run`, quietly (the demo reports each session in one line)."""
    from harness.config import load_config
    from harness.progress import Progress
    from harness.run import run

    config = config_path(out, plan.bench, mode)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(harness_config(plan, mode), encoding="utf-8")
    harness_mode = "streaming" if plan.bench == "sww" else mode
    started = time.perf_counter()
    outcome = run(load_config(config), harness_mode, out=out / "sessions", progress=Progress(io.StringIO()))
    if outcome.status != "complete" or outcome.invalid:
        # the virtual bench always measures a valid session: anything else is a bug in this tool
        errors = [line for line in outcome.results_txt if "ERROR" in line]
        raise RuntimeError(f"the {plan.model_id} {mode} session in {outcome.session_dir} is not valid: "
                           f"{'; '.join(errors) or outcome.status}")
    return Measured(plan.bench, mode, outcome.session_dir, score_line(plan.bench, mode, outcome.results_txt),
                    time.perf_counter() - started)


def score_line(bench: str, mode: str, lines: list[str]) -> str:
    """The line of results.txt that gives the session's score (throughput, Top-1 or AUC, energy,
    or the streaming wakeword's detections and power)."""
    keys = {"performance": ("True positives",) if bench == "sww" else ("Median throughput",),
            "accuracy": ("AUC",) if bench == "ad" else ("Top 1%",),
            "energy": (" mW.",) if bench == "sww" else ("Median energy",)}[mode]
    for line in lines:
        if any(key in line for key in keys):
            return " ".join(line.split("ulp-mlperf:", 1)[-1].split())
    return next((line.strip() for line in reversed(lines) if line.strip(" -")), "")


# ----------------------------------------------------------------------------------------------
# 2. Package


def write_documents(out: Path) -> None:
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "checklist.pdf").write_bytes(minimal_pdf(f"TinyMLPerf {ROUND} submission checklist (submit demo)"))
    (docs / "energy-hookup.pdf").write_bytes(
        minimal_pdf("Energy hook-up: the virtual DUT's core supply through the virtual LPM01A"))


def write_code_readme(out: Path, plan: BenchPlan) -> None:
    text = (f"# {plan.model_id} on the virtual DUT\n\n"
            f"Measured by `submit demo` with {plan.describe()}.\n"
            "Each `harness-<mode>.yaml` here is the `submit run` config of one session:\n\n"
            + "".join(f"    submit run harness-{mode}.yaml --mode "
                      f"{'streaming' if plan.bench == 'sww' else mode}\n" for mode in plan.modes))
    (out / "code" / plan.bench / "README.md").write_text(text, encoding="utf-8")


def manifest_document(out: Path, plans: list[BenchPlan], measured: list[Measured]) -> dict:
    benchmarks = {}
    for plan in plans:
        sessions = {m.mode: m.session.relative_to(out).as_posix() for m in measured if m.bench == plan.bench}
        benchmarks[plan.bench] = {"implementation": "virtual", "code": f"code/{plan.bench}",
                                  "reference_int8": True, "sessions": sessions}
    return {
        "round": ROUND, "division": DIVISION, "submitter": SUBMITTER,
        "checklist": "docs/checklist.pdf", "energy_hookup": "docs/energy-hookup.pdf",
        "notes": "Made by `submit demo`: every result was measured on the virtual DUT, on the host, "
                 "with no hardware. The built-in models are small stand-ins, not the reference models.",
        "systems": [{"id": SYSTEM, "description": dict(SYSTEM_FIELDS), "benchmarks": benchmarks}],
    }


def write_manifest(out: Path, plans: list[BenchPlan], measured: list[Measured]) -> Path:
    write_documents(out)
    for plan in plans:
        write_code_readme(out, plan)
    manifest = out / "submission.yaml"
    manifest.write_text(yaml.safe_dump(manifest_document(out, plans, measured), sort_keys=False, width=1000),
                        encoding="utf-8")
    return manifest


def package(manifest: Path, tree: Path, reference: Path):
    """`submit package MANIFEST --out TREE --reference REFERENCE --allow-errors`: the tree is written
    even when the gate finds errors, so that the report shows them."""
    from submission_tools.package import PackageOptions, run_package

    result = run_package(manifest, PackageOptions(out=tree, dry_run=False, git=False, allow_errors=True,
                                                  reference=reference))
    if result.refused:
        problems = "; ".join(f"{r.rule}: {r.message}" for r in result.plan.refusals[:3])
        raise UsageError(f"submit package refused the demo's inputs ({problems}); see {manifest}")
    return result


# ----------------------------------------------------------------------------------------------
# 3. Check, 4. Report


def write_reference(dest: Path, plans: list[BenchPlan]) -> Path:
    """The stand-in mlcommons/tiny checkout: labels of the synthetic inputs, and the reference's own
    label file for a benchmark that ran real inputs."""
    write_example_reference(dest, ExampleSpec(accuracy_inputs=ACCURACY_INPUTS))
    for plan in plans:
        if plan.labels is not None:
            shutil.copyfile(plan.labels, dest / "benchmark" / "evaluation" / "datasets" / plan.model_id / LABELS)
    return dest


def check_tree(tree: Path, reference: Path) -> CheckResult:
    return run_check(tree, CheckOptions(reference=reference))


def write_report(result: CheckResult, target: Path) -> Path:
    from submission_tools.report_cli import render_report, write_output

    write_output(render_report(result, "html"), target)
    return target


# ----------------------------------------------------------------------------------------------
# The whole demo


def plan_notes(options: DemoOptions, plans: list[BenchPlan]) -> list[str]:
    """What --reference changed, said before the long part starts."""
    if options.reference is None:
        return []
    real = [f"{plan.model_id}: {plan.describe()}" for plan in plans if plan.runs_reference_model]
    if real:
        return real
    where = f"{options.datasets}/<model>/ or " if options.datasets is not None else ""
    note = (f"--reference {options.reference}: no benchmark has its real inputs ({where}"
            f"{options.reference}/benchmark/evaluation/datasets/<model>/ holding every file its {LABELS} names), "
            f"so each runs its built-in model; give --datasets DIR (e.g. eembc/energyrunner's datasets folder)")
    return [note]


class _Stage:
    """Times one stage into result.seconds."""

    def __init__(self, result: DemoResult, name: str) -> None:
        self.result, self.name = result, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.result.seconds[self.name] = time.perf_counter() - self.started


def run_demo(options: DemoOptions, progress=None) -> DemoResult:
    """Measure, package, check and report into options.out (see the module docstring)."""
    from harness.progress import Progress

    progress = progress or Progress()
    validate_options(options)
    plans = plan_benchmarks(options)
    out = options.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder ({exc.strerror or exc}); give a folder you can "
                         "write to, e.g. --out ~/demo-out") from None
    result = DemoResult(out=out, plans=plans)
    started = time.perf_counter()
    for line in plan_notes(options, plans):
        progress.say(line)
    with _Stage(result, "measure"):
        sessions = [(plan, mode) for plan in plans for mode in plan.modes]
        progress.start("measuring on the virtual DUT", len(sessions))
        for plan, mode in sessions:
            measured = run_mode(out, plan, mode)
            result.measured.append(measured)
            progress.say(f"{plan.model_id} {mode}: {measured.summary}")
            progress.advance()
        progress.stop()
    with _Stage(result, "package"):
        result.reference = write_reference(out / "reference", plans)
        result.manifest = write_manifest(out, plans, result.measured)
        result.tree = out / "tree"
        packaged = package(result.manifest, result.tree, result.reference)
        result.packaged = packaged.written
        progress.say(f"packaged: {result.packaged} (gate: submit check {packaged.gate.status_line()})")
    with _Stage(result, "check"):
        result.check = check_tree(result.tree, result.reference)
        progress.say(f"checked: {result.check.status_line()}")
    with _Stage(result, "report"):
        result.report = write_report(result.check, out / "report.html")
    result.seconds["total"] = time.perf_counter() - started
    return result


def summary_lines(result: DemoResult) -> list[str]:
    """What the demo made and where, for the end of the command's output."""
    check = result.check
    counts = check.counts
    findings = len(check.findings)
    out = result.out
    real = [p for p in result.plans if p.runs_reference_model]
    verdict = (f"submit demo: {check.status_line()}: {counts['error']} errors, {counts['warning']} warnings, "
               f"{counts['info']} info ({findings} findings) in {len(check.results)} results "
               f"from {len(result.measured)} sessions, in {result.seconds['total']:.0f} s")
    lines = [
        verdict,
        f"  sessions   {out / 'sessions'}   (submit run, one folder per benchmark and mode)",
        f"  inputs     {result.manifest}   (the submission manifest; code/ and docs/ beside it)",
        f"  tree       {result.packaged}   (submit package)",
        f"  reference  {result.reference}   (stand-in mlcommons/tiny: the labels of the inputs the demo ran)",
        f"  report     {result.report}   (open it in a browser)",
    ]
    if real:
        lines.append("  reference models ran on real inputs for: " + ", ".join(p.model_id for p in real))
    times = ", ".join(f"{name} {result.seconds[name]:.1f} s" for name in ("measure", "package", "check", "report"))
    lines.append(f"  times      {times}")
    lines.append(f"Check it again: submit check {result.tree} --reference {result.reference}")
    return lines
