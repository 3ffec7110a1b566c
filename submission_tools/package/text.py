"""What `submit package` prints: the plan (what goes where), refusals, the gate, the outcome."""

from __future__ import annotations

from submission_tools import __version__
from submission_tools.findings import Finding
from submission_tools.package.pipeline import PackageResult
from submission_tools.package.plan import Plan


def _size(nbytes: int) -> str:
    return f"{nbytes / 1048576:.1f} MiB" if nbytes >= 1048576 else f"{nbytes / 1024:.1f} KiB"


def render_plan(plan: Plan, out) -> list[str]:
    m = plan.manifest
    lines = [f"Plan: {len(plan.files)} files, {_size(plan.total_bytes)} into {out / m.division / m.submitter}"]
    width = min(max((len(f.dest) for f in plan.files.values()), default=0), 72)
    for planned in plan.ordered():
        origin = f"generated: {planned.role}" if planned.generated else f"<- {planned.source_rel}"
        lines.append(f"  {planned.dest:<{width}}  {origin}")
    if plan.left_out:
        lines.append("Left out:")
        lines += [f"  {source}: {why}" for source, why in plan.left_out]
    return lines


def render_findings(findings: list[Finding], indent: str = "  ") -> list[str]:
    lines = []
    for f in findings:
        where = f.path + (f":{f.line}" if f.line else "")
        lines.append(f"{indent}{f.rule} {f.severity.value} {where}: {f.message}")
        if f.hint:
            lines.append(f"{indent}    -> {f.hint}")
    return lines


def render_result(result: PackageResult, manifest_label: str) -> str:
    plan, options = result.plan, result.options
    m = plan.manifest
    lines = [f"submit {__version__}: packaging {plan.base} (round {m.round}) from {manifest_label}"]
    if options.dry_run:
        lines += render_plan(plan, options.out)
        target = options.out / m.division / m.submitter
        if target.is_dir():
            lines.append(f"{target} exists (an earlier package): it would be replaced.")
    if result.refused:
        lines.append(f"Refused: {len(plan.refusals)} input(s) cannot go into a submission "
                     f"(paths relative to {m.root}):")
        lines += render_findings(plan.refusals)
        lines.append("Nothing was written.")
        return "\n".join(lines) + "\n"
    if options.dry_run:
        lines.append("Dry run: nothing was written.")
        return "\n".join(lines) + "\n"
    gate = result.gate
    counts = gate.counts
    lines.append(f"Gate: submit check {gate.status_line()} on the assembled tree ({counts['error']} errors, "
                 f"{counts['warning']} warnings, {counts['info']} info; rule set {gate.round.ruleset.version})")
    lines += render_findings(gate.findings)
    if result.written is None:
        lines.append("Nothing was written: fix the errors above (or pass --allow-errors to write the tree anyway).")
        return "\n".join(lines) + "\n"
    note = " despite its errors (--allow-errors)" if result.gate_failed else ""
    lines.append(f"Wrote {len(plan.files)} files ({_size(plan.total_bytes)}) to {result.written}{note}; "
                 f"sha256 of each in {plan.base}/MANIFEST.sha256")
    if result.git is not None:
        git = result.git
        action = f"committed {git.commit[:12]}" if git.commit else f"nothing new to commit (HEAD {git.head[:12]})"
        lines.append(f"Git: {action} in {options.out}{' (new repository)' if git.created else ''}; "
                     f"tree {git.tree}, {plan.base} tree {git.subtree}")
    lines.append(f"Done in {result.elapsed_s:.1f} s.")
    return "\n".join(lines) + "\n"
