"""The steps of `submit package`, in order: read the manifest, plan (reading every input once),
stop on refusals or for a dry run, stage the tree, gate it with `submit check`, move it into
place, commit it. Nothing outside a staging folder is written before the gate has passed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from submission_tools import __version__
from submission_tools.check import DEFAULT_MAX_FILE_BYTES, CheckResult
from submission_tools.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from submission_tools.package import assemble, gitcommit
from submission_tools.package.gitcommit import CommitOutcome
from submission_tools.package.manifest import load_manifest
from submission_tools.package.plan import Plan, build_plan
from submission_tools.reference import ReferenceCheckout


@dataclass
class PackageOptions:
    out: Path
    dry_run: bool = False
    git: bool = False
    allow_errors: bool = False
    reference: Path | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


@dataclass
class PackageResult:
    plan: Plan
    options: PackageOptions
    gate: CheckResult | None = None
    written: Path | None = None  # out/<division>/<submitter> once it is in place
    git: CommitOutcome | None = None
    elapsed_s: float = 0.0

    @property
    def refused(self) -> bool:
        return bool(self.plan.refusals)

    @property
    def gate_failed(self) -> bool:
        return self.gate is not None and self.gate.failed()

    def exit_code(self) -> int:
        """1 for refusals and for a tree with errors (also when --allow-errors wrote it), else 0."""
        return EXIT_CHECK_FAILED if self.refused or self.gate_failed else EXIT_OK


def commit_message(plan: Plan, gate: CheckResult) -> str:
    m = plan.manifest
    counts = gate.counts
    return (f"Package {plan.base} for MLPerf Tiny {m.round} (submit {__version__})\n\n"
            f"Manifest: {m.name} (sha256 {m.sha256})\n"
            f"Files: {len(plan.files)}, {plan.total_bytes} bytes; checksums in {plan.base}/MANIFEST.sha256\n"
            f"Gate: submit check {gate.status_line()} ({counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['info']} info)\n")


def _check_out_is_not_an_input(plan: Plan, out: Path) -> None:
    """The folder to be replaced must not hold inputs (it would, with --out inside a code folder,
    from the second run on: the previous package would be packaged again)."""
    target = os.path.realpath(assemble.destination(out, plan))
    for planned in plan.ordered():
        if planned.source is not None and os.path.realpath(planned.source).startswith(target + os.sep):
            raise UsageError(f"--out {out}: {plan.base} there holds inputs of the manifest ({planned.source_rel}); "
                             "choose an --out outside the code and session folders")


def run_package(manifest_path: Path, options: PackageOptions) -> PackageResult:
    started = time.perf_counter()
    manifest = load_manifest(manifest_path)
    if options.reference is not None:
        ReferenceCheckout.open(options.reference)  # a bad --reference is a usage error before any work
    plan = build_plan(manifest, options.max_file_bytes)
    result = PackageResult(plan=plan, options=options)
    if result.refused:
        result.elapsed_s = time.perf_counter() - started
        return result
    out = options.out
    _check_out_is_not_an_input(plan, out)
    assemble.check_destination(out, plan)
    target = gitcommit.prepare(out) if options.git else None  # looks only; a dry run reports it too
    if options.dry_run:
        result.elapsed_s = time.perf_counter() - started
        return result
    with assemble.Staging(out) as staging:
        staged = assemble.write_plan(plan, staging.path)
        result.gate = assemble.gate(staging.path, plan, options.reference, options.max_file_bytes)
        if result.gate.failed() and not options.allow_errors:
            result.elapsed_s = time.perf_counter() - started
            return result
        result.written = assemble.place(staged, out, plan)
    if target is not None:
        result.git = gitcommit.commit(target, plan.base, commit_message(plan, result.gate))
    result.elapsed_s = time.perf_counter() - started
    return result
