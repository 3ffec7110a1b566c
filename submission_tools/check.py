"""`submit check`: walk a tree, run every rule, and return a result that reporters render."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from submission_tools import __version__
from submission_tools.errors import EXIT_CHECK_FAILED, EXIT_OK, InputError, ReferenceCheckoutError, SubmitError
from submission_tools.findings import Finding, Severity
from submission_tools.reference import ReferenceCheckout
from submission_tools.rules import REGISTRY
from submission_tools.rules.system_description import normalised_fields
from submission_tools.rulesets import Ruleset
from submission_tools.rulesets.detect import RoundChoice, choose_round
from submission_tools.agreement import agreement_rows, agreement_table
from submission_tools.labels import LabelSet, label_sets_from_folder, label_sets_from_reference
from submission_tools.recompute import ScoredRun, score_run
from submission_tools.runners import EEMBC, MLC, detect_runner
from submission_tools.runs import load_run
from submission_tools.scoring.sww import load_truth_windows
from submission_tools.strictjson import JsonProblem, ParsedJson, parse_strict_json
from submission_tools.textio import TextProblem, read_text
from submission_tools.tree import BenchmarkDir, ModeDir, ResultsTree, read_tree
from submission_tools.walk import Entry, walk_tree

# GitHub refuses files over 100 MiB and every published round lives on GitHub; the official
# checker's own limit (500 MB) is looser than what can be published at all.
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
SYSTEM_JSON_LIMIT = 1024 * 1024


class RuleCrash(RuntimeError):
    """A rule raised; carries the rule ID so the crash log says which one."""


@dataclass
class CheckOptions:
    version: str | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    reference: Path | None = None
    labels: list[Path] = field(default_factory=list)  # extra label folders (--labels)
    jobs: int = 1  # processes that parse and recompute runs in parallel


@dataclass
class LoadedJson:
    """A system description as far as it could be read: `value` is None when it could not."""

    entry: Entry
    value: Any = None
    parsed: ParsedJson | None = None
    problem: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def fields(self) -> dict | None:
        return self.value if isinstance(self.value, dict) else None


@dataclass(frozen=True)
class ModelOutcome:
    """A named model checked against the reference: its verdict, or why it could not be read."""

    verdict: str | None  # EXACT, PASS, WARN_NON_RTN, WARN_RESCALED, FAIL, STRUCTURE_MISMATCH
    summary: str
    problem: str | None = None


@dataclass
class CheckContext:
    tree: ResultsTree
    ruleset: Ruleset
    options: CheckOptions
    reference: ReferenceCheckout | None = None
    label_sets: list[LabelSet] = field(default_factory=list)
    _json_cache: dict[str, LoadedJson] = field(default_factory=dict)
    _runner_cache: dict[str, str | None] = field(default_factory=dict)
    _scored_cache: dict[str, ScoredRun | None] = field(default_factory=dict)
    _sww_truth: list[tuple[float, float]] | None = None
    _sww_truth_loaded: bool = False
    _model_cache: dict[tuple[str, str], ModelOutcome | None] = field(default_factory=dict)

    def model_path(self, submitter, relative: str) -> Entry | None:
        """The file a model manifest names, relative to code/; None when it is not a regular file
        inside code/ (absolute paths, '..', links and missing files all give None)."""
        parts = PurePosixPath(relative.replace("\\", "/")).parts
        if submitter.code_dir is None or not parts or parts[0] == "/" or ".." in parts:
            return None
        entry = self.tree.index.get("/".join((submitter.code_dir.path, *parts)))
        return entry if entry is not None and entry.is_file else None

    def verify_model(self, entry: Entry, benchmark: str) -> ModelOutcome | None:
        """Read (and, with --reference, verify) a named .tflite once; None when there is nothing to say."""
        key = (entry.path, benchmark)
        if key not in self._model_cache:
            from submission_tools.models.cli_model import run_verify
            from submission_tools.models.tflite_reader import read_model
            try:
                if self.reference is None:
                    read_model(Path(entry.os_path))
                    outcome = None
                else:
                    result = run_verify(Path(entry.os_path), self.reference.root, benchmark)
                    outcome = ModelOutcome(result.verdict.value, result.reason)
            except SubmitError as exc:
                outcome = ModelOutcome(None, "", str(exc).replace(entry.os_path, entry.name))
            self._model_cache[key] = outcome
        return self._model_cache[key]

    def sww_truth(self) -> list[tuple[float, float]] | None:
        """Wakeword windows of the long test wav, from the reference checkout (when given)."""
        if not self._sww_truth_loaded:
            path = self.reference.runner_file("sww_long_test") if self.reference else None
            try:
                self._sww_truth = load_truth_windows(path) if path else None
            except (ValueError, OSError) as exc:
                raise ReferenceCheckoutError(f"the reference's sww truth file cannot be used: {exc}") from None
            self._sww_truth_loaded = True
        return self._sww_truth

    def score_all(self, jobs: int) -> None:
        """Parse and recompute every known run up front, in `jobs` processes (rules then read the cache)."""
        work = []
        for _submitter, _system, bench, mode in self.known_modes():
            runner = self.runner_of(mode, bench)
            if runner in (EEMBC, MLC):
                truth = self.sww_truth() if bench.name == "sww" else None
                work.append((mode, runner, self.ruleset.benchmarks[bench.name], self.label_sets, truth,
                             self.options.max_file_bytes))
            else:
                self._scored_cache[mode.path] = None
        if jobs <= 1 or len(work) < 2:
            for item in work:
                self._scored_cache[item[0].path] = _score_one(item)
            return
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for item, scored in zip(work, pool.map(_score_one, work, chunksize=4)):
                self._scored_cache[item[0].path] = scored

    def scored_run(self, mode: ModeDir, bench: BenchmarkDir) -> ScoredRun | None:
        """The parsed and recomputed run of a mode folder (None when no runner can be told)."""
        if mode.path not in self._scored_cache:
            runner = self.runner_of(mode, bench)
            scored = None
            if runner in (EEMBC, MLC):
                run = load_run(mode, runner, self.options.max_file_bytes)
                truth = self.sww_truth() if bench.name == "sww" else None
                scored = score_run(run, self.ruleset.benchmarks[bench.name], self.label_sets, truth)
            self._scored_cache[mode.path] = scored
        return self._scored_cache[mode.path]

    def load_json(self, entry: Entry) -> LoadedJson:
        cached = self._json_cache.get(entry.path)
        if cached is not None:
            return cached
        loaded = LoadedJson(entry)
        try:
            text = read_text(entry.os_path, limit=SYSTEM_JSON_LIMIT)
            loaded.parsed = parse_strict_json(text)
            loaded.value = loaded.parsed.value
        except TextProblem as exc:
            loaded.problem, loaded.line, loaded.column = str(exc), exc.line, exc.column
        except JsonProblem as exc:
            loaded.problem = f"is not valid JSON: {exc.message}"
            loaded.line, loaded.column = exc.line, exc.column
        self._json_cache[entry.path] = loaded
        return loaded

    def known_modes(self):
        """(submitter, system, benchmark, mode) for the mode folders the round has for a benchmark
        it knows; misnamed or misplaced ones are the layout rules' business (TREE005/TREE006)."""
        rs = self.ruleset
        for submitter, system, bench, mode in self.tree.modes():
            if bench.name in rs.benchmarks and mode.name in rs.allowed_modes(bench.name):
                yield submitter, system, bench, mode

    def runner_of(self, mode: ModeDir, bench: BenchmarkDir) -> str | None:
        """The runner of a mode folder; when its own files do not tell (a results.txt alone),
        the runner its sibling modes agree on."""
        if mode.path not in self._runner_cache:
            own = {m.path: detect_runner(m, bench) for m in bench.modes.values()}
            siblings = {r for p, r in own.items() if r is not None and p != mode.path}
            runner = own[mode.path]
            if runner is None and len(siblings) == 1:
                runner = siblings.pop()
            self._runner_cache[mode.path] = runner
        return self._runner_cache[mode.path]


@dataclass
class ResultEntry:
    """One division/submitter/system/benchmark/mode folder and what is known of its scores."""

    division: str
    submitter: str
    system: str
    benchmark: str
    mode: str
    path: str
    runner: str | None
    claimed: dict = field(default_factory=dict)
    recomputed: dict = field(default_factory=dict)
    valid: bool = True

    def to_dict(self) -> dict:
        return {
            "division": self.division, "submitter": self.submitter, "system": self.system,
            "benchmark": self.benchmark, "mode": self.mode, "path": self.path,
            "runner": self.runner, "claimed": self.claimed, "recomputed": self.recomputed,
            "valid": self.valid,
        }


@dataclass
class CheckResult:
    root: Path
    round: RoundChoice
    findings: list[Finding]
    results: list[ResultEntry]
    tree: ResultsTree
    reference: ReferenceCheckout | None
    elapsed_s: float
    descriptions: dict[str, dict] = field(default_factory=dict)  # system JSON path -> its fields
    agreement: list[dict] = field(default_factory=list)  # claimed vs recomputed, per metric
    # mode folder path -> its parsed and recomputed run, for reporters that draw the raw data
    # (with --jobs > 1 an EEMBC run's trace was dropped in the worker; its file is in run.files)
    scored: dict[str, ScoredRun] = field(default_factory=dict)

    def system_fields(self, submitter, system_id: str) -> dict:
        """The readable fields of a system's description ({} when it has none or it is broken)."""
        entry = submitter.system_json(system_id)
        return self.descriptions.get(entry.path, {}) if entry is not None else {}

    @property
    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    def failed(self, strict: bool = False) -> bool:
        counts = self.counts
        return counts["error"] > 0 or (strict and counts["warning"] > 0)

    def verdict(self, strict: bool = False) -> str:
        return "fail" if self.failed(strict) else "pass"

    def status_line(self, strict: bool = False) -> str:
        if self.failed(strict):
            return "FAILED"
        return "PASSED with warnings" if self.counts["warning"] else "PASSED"

    def exit_code(self, strict: bool = False) -> int:
        return EXIT_CHECK_FAILED if self.failed(strict) else EXIT_OK

    @property
    def tool(self) -> dict:
        return {"name": "submit", "version": __version__}


def _result_entries(ctx: CheckContext, findings: list[Finding]) -> list[ResultEntry]:
    entries = []
    known = {mode.path for _s, _y, _b, mode in ctx.known_modes()}
    for submitter, system, bench, mode in ctx.tree.modes():
        json_entry = submitter.system_json(system.name)
        # Errors that make this result invalid: inside its mode folder, on its benchmark or
        # system folder themselves, or in its system description.
        own = {bench.path, system.path} | ({json_entry.path} if json_entry else set())
        valid = not any(
            f.severity is Severity.ERROR
            and (f.path in own or f.path == mode.path or f.path.startswith(mode.path + "/"))
            for f in findings
        )
        scored = ctx.scored_run(mode, bench) if mode.path in known else None
        entries.append(ResultEntry(
            division=submitter.division, submitter=submitter.name, system=system.name,
            benchmark=bench.name, mode=mode.name, path=mode.path,
            runner=ctx.runner_of(mode, bench), valid=valid,
            claimed=scored.claimed if scored else {}, recomputed=scored.recomputed if scored else {},
        ))
    return entries


def _score_one(item) -> ScoredRun:
    """Parse and recompute one mode folder (also in a worker process: the trace, a memory map,
    is dropped before the result is sent back; its windows are already computed)."""
    mode, runner, spec, label_sets, truth, max_bytes = item
    scored = score_run(load_run(mode, runner, max_bytes), spec, label_sets, truth)
    scored.run.trace = None
    return scored


def _label_sets(reference: ReferenceCheckout | None, folders: list[Path]) -> list[LabelSet]:
    """Label sets from the reference checkout first, then --labels folders; a set already known
    under the same name (identical files) is not added twice."""
    sets = label_sets_from_reference(reference) if reference else []
    for folder in folders:
        for label_set in label_sets_from_folder(folder):
            if all(label_set.name != known.name for known in sets):
                sets.append(label_set)
    return sets


def run_check(root: Path, options: CheckOptions | None = None) -> CheckResult:
    """Check the tree at `root`; raise InputError when it cannot be checked at all."""
    options = options or CheckOptions()
    if not root.exists():
        raise InputError(f"{root}: no such file or folder; give the path of a results tree")
    if root.is_symlink() and not root.is_dir():
        raise InputError(f"{root}: is a broken symbolic link; give the path of a results tree")
    if not root.is_dir():
        raise InputError(f"{root}: is a file, not a folder; give the folder that holds closed/ or open/")
    started = time.perf_counter()
    reference = ReferenceCheckout.open(options.reference) if options.reference else None
    index = walk_tree(root)
    if index.get(".").kind != "dir":
        raise InputError(f"{root}: the folder cannot be listed ({index.get('.').error}); check its permissions")
    tree = read_tree(root, index)
    choice = choose_round(tree, options.version)
    ctx = CheckContext(tree=tree, ruleset=choice.ruleset, options=options, reference=reference,
                       label_sets=_label_sets(reference, options.labels))
    ctx.score_all(options.jobs)
    findings: list[Finding] = []
    seen: set[tuple] = set()
    for rule in REGISTRY:
        try:
            produced = list(rule.check(ctx))
        except Exception as exc:  # a bug in a rule: report which one
            raise RuleCrash(f"rule {rule.id} crashed: {type(exc).__name__}: {exc}") from exc
        for finding in produced:
            key = (finding.rule, finding.path, finding.line, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    findings.sort(key=Finding.sort_key)
    results = _result_entries(ctx, findings)
    descriptions = {path: normalised_fields(loaded.fields)
                    for path, loaded in ctx._json_cache.items() if loaded.fields is not None}
    scored = [s for s in ctx._scored_cache.values() if s is not None]
    return CheckResult(root=root, round=choice, findings=findings, results=results, tree=tree,
                       reference=reference, elapsed_s=time.perf_counter() - started,
                       descriptions=descriptions, agreement=agreement_rows(agreement_table(scored)),
                       scored={path: s for path, s in ctx._scored_cache.items() if s is not None})
