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


@register
class RunnerReportedError(Rule):
    id = "RUN003"
    name = "run.runner-error"
    title = "The runner reported no error for the run"
    severity = Severity.ERROR
    spec = ("MLPerf Tiny rules, Measurement; the runners print e-[The run must take at least 10 seconds and 10 "
            "iterations to be valid] (EEMBC) or ERROR lines (MLCommons) when a run is invalid.")
    rationale = "The runner itself declared the run invalid; the score next to its error line is not a result."
    fix = "Fix what the error says (usually: longer windows) and measure again."

    def check(self, ctx):
        for _submitter, _system, bench, mode in ctx.known_modes():
            scored = ctx.scored_run(mode, bench)
            if scored is None:
                continue
            by_file: dict[str, list[tuple[int, str]]] = {}
            for line, text in scored.run.claims.runner_errors:
                role = "results_json" if text.startswith("results.json:") else "results_txt"
                by_file.setdefault(scored.run.files.get(role, role.replace("_", ".")), []).append((line, text))
            for name, errors in by_file.items():
                line, text = errors[0]
                more = f" ({len(errors)} error lines in all)" if len(errors) > 1 else ""
                yield self.finding(f"{mode.path}/{name}", f"the runner printed: {text}{more}", line=line or None)


@register
class UnreadableRunnerFile(Rule):
    id = "RUN004"
    name = "run.unreadable-file"
    title = "The runner's files can be read and parsed"
    severity = Severity.ERROR
    spec = "directory_structure.adoc: the files are produced by the runner and submitted unchanged."
    rationale = "A runner file that cannot be parsed cannot back any claim; every score of the run is unverified."
    fix = "Copy the file again from the runner's session folder (binary-safe, unedited)."

    def check(self, ctx):
        for _submitter, _system, bench, mode in ctx.known_modes():
            scored = ctx.scored_run(mode, bench)
            if scored is None:
                continue
            for problem in scored.run.problems:
                yield self.finding(f"{mode.path}/{problem.file}", f"{problem.file} {problem.message}",
                                   line=problem.line)


@register
class SessionOutsideRound(Rule):
    id = "RUN005"
    name = "run.session-outside-round"
    title = "Runs were measured during the round"
    severity = Severity.WARNING
    spec = ("MLCommons general submission rules: results are measured for the round they are submitted to; "
            "session dates come from m-session-start-id (EEMBC) or the session folder name (MLCommons).")
    rationale = "A session dated long before the round is usually a result re-published from an older round."
    fix = "Measure the result again for this round, or say in the README why an older session is valid."

    def check(self, ctx):
        window = ctx.ruleset.session_window
        if window is None:
            return
        after, before = (d.replace("-", "") for d in window)
        for _submitter, _system, bench, mode in ctx.known_modes():
            scored = ctx.scored_run(mode, bench)
            session = scored.run.session_id if scored is not None else None
            if session and len(session) >= 8 and not after <= session[:8] <= before:
                day = f"{session[:4]}-{session[4:6]}-{session[6:8]}"
                yield self.finding(mode.path, f"session dated {day}, outside round {ctx.ruleset.version}'s window "
                                              f"{window[0]} to {window[1]}")


@register
class IdenticalToAnotherResult(Rule):
    id = "RUN006"
    name = "run.identical-to-another-result"
    title = "No two results share a byte-identical log or trace"
    severity = Severity.WARNING
    spec = "MLPerf Tiny rules: every result is measured on the system it is submitted for."
    rationale = ("Logs and traces carry timestamps and session ids; two identical ones are one measurement "
                 "published twice, whatever the two system descriptions say.")
    fix = "Submit the measurement of each system; remove the copied one."

    def check(self, ctx):
        first_seen: dict[tuple[str, str], str] = {}
        for _submitter, _system, bench, mode in ctx.known_modes():
            scored = ctx.scored_run(mode, bench)
            if scored is None:
                continue
            for role in ("log", "trace"):  # they carry timestamps and session ids; summaries may coincide
                digest = scored.run.digests.get(role)
                if digest is None:
                    continue
                path = f"{mode.path}/{scored.run.files[role]}"
                original = first_seen.setdefault((role, digest), path)
                if original != path and original.rsplit("/", 3)[0] != path.rsplit("/", 3)[0]:
                    yield self.finding(path, f"byte-identical to {original}")
