"""RUN0xx: which runner produced each result, and whether the round allows it."""

from __future__ import annotations

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register
from submission_tools.runners import MIXED, RUNNER_NAMES


@register
class RunnerNotAllowed(Rule):
    id = "RUN001"
    name = "run.runner-not-allowed"
    title = "The runner is one the round allows for the benchmark"
    severity = Severity.ERROR
    spec = ("MLPerf Tiny rules, Runners: the EEMBC EnergyRunner is allowed for kws/vww/ic/ad up to and including "
            "v1.3, only the MLCommons runner afterwards; sww needs the MLCommons runner; the MLCommons runner "
            "arrived in v1.3.")
    rationale = "Each runner measures and scores differently; results from a runner the round excludes are not comparable."
    fix = "Measure again with a runner the round allows (the MLCommons runner from v1.3 on)."

    def check(self, ctx):
        rs = ctx.ruleset
        for _submitter, _system, bench, mode in ctx.known_modes():
            runner = ctx.runner_of(mode, bench)
            allowed = rs.runners_for(bench.name)
            if runner in RUNNER_NAMES and runner not in allowed:
                names = " or ".join(RUNNER_NAMES[r] for r in allowed)
                yield self.finding(mode.path, f"{bench.name} {mode.name} was run with the {RUNNER_NAMES[runner]}; "
                                              f"round {rs.version} allows only the {names} here")


@register
class RunnerUnknown(Rule):
    id = "RUN002"
    name = "run.runner-unknown"
    title = "It is clear which runner wrote a mode folder"
    severity = Severity.WARNING
    spec = ("directory_structure.adoc (v1.3): script.async and EEMBC_RUNNER for the EEMBC runner, results.json "
            "for the MLCommons runner.")
    rationale = ("The runner decides which files must be present and how scores are recomputed; with files of "
                 "both or of neither, neither can be done reliably.")
    fix = "Keep exactly the files of the runner that produced the run (see `submit rules TREE009`)."

    def check(self, ctx):
        for _submitter, _system, bench, mode in ctx.known_modes():
            if not mode.files:
                continue
            runner = ctx.runner_of(mode, bench)
            if runner == MIXED:
                yield self.finding(mode.path, "files of both runners (script.async or traces and results.json)")
            elif runner is None:
                yield self.finding(mode.path, "cannot tell which runner wrote this folder (no script.async, "
                                              "results.json or recognisable log.txt)")
