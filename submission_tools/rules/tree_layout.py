"""TREE0xx: the layout a round's directory_structure.adoc prescribes.

<division>/<submitter>/{systems,code,results}; results/<system_desc_id>/<benchmark>/<mode>/files.
"""

from __future__ import annotations

import re

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register
from submission_tools.runners import EEMBC, EEMBC_MARKER, MLC, has_marker
from submission_tools.textio import read_head
from submission_tools.tree import DIVISION_NAMES
from submission_tools.names import is_hygiene_name

DS = "directory_structure.adoc of the round"
_PREFIXED = re.compile(r"^(performance|accuracy|energy)_(.+)$")
_CHECKLIST = re.compile(r"check\s*list", re.I)
_HOOKUP = re.compile(r"hook\s*-?\s*up|energy", re.I)
_HOOKUP_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg", ".svg", ".txt", ".md")
# Files a submitter folder may hold besides systems/, code/ and results/ (MANIFEST.sha256 is the
# checksum list `submit package` writes there, in `sha256sum -c` format).
_SUBMITTER_FILES = re.compile(r"^(README|LICEN[CS]E|NOTICE|CHANGELOG)(\.[A-Za-z]+)?$|^MANIFEST\.sha256$", re.I)
_README = re.compile(r"^README(\.[A-Za-z0-9]+)?$", re.I)


@register
class UnknownDivisionFolder(Rule):
    id = "TREE001"
    name = "tree.division-folder"
    title = "Top-level folders are the divisions closed/ and open/"
    severity = Severity.ERROR
    spec = f"{DS}: <division> must be one of {{closed, open}}."
    rationale = ("Division decides which rules apply (quality targets, model equivalence); a result "
                 "outside closed/ or open/ is in no division and cannot be reviewed or published.")
    fix = "Move submissions under closed/<submitter>/ or open/<submitter>/ (lower case)."

    def check(self, ctx):
        tree = ctx.tree
        if tree.layout != "repository":
            return
        for entry in tree.root_dirs:
            if entry.name.startswith("."):
                continue  # .github and the like belong to the repository, not to a division
            lower = entry.name.lower()
            hint = (f"Rename '{entry.name}' to '{lower}'." if lower in DIVISION_NAMES else self.fix)
            yield self.finding(entry.path, f"folder '{entry.name}' is not a division (closed or open)", hint)
        if not tree.divisions and not tree.root_dirs:
            yield self.finding(".", "no closed/ or open/ folder: this does not look like a results tree",
                               "Pass the folder that holds closed/ and open/, one division, or one submitter.")


@register
class SubmitterLayout(Rule):
    id = "TREE002"
    name = "tree.submitter-layout"
    title = "Each submitter folder has systems/ and results/"
    severity = Severity.ERROR
    spec = f"{DS}: <division>/<submitting_organization>/{{systems, code, results}}."
    rationale = "Without systems/ no result can be tied to hardware; without results/ there is nothing to review."
    fix = "Create systems/ with one <system_desc_id>.json per system and results/<system_desc_id>/..."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            for part, entry in (("systems", submitter.systems_dir), ("results", submitter.results_dir)):
                if entry is None:
                    yield self.finding(submitter.path, f"submitter folder '{submitter.name}' has no {part}/ folder")


@register
class SystemDescriptionMissing(Rule):
    id = "TREE003"
    name = "tree.system-description-missing"
    title = "Every results/<system_desc_id> has systems/<system_desc_id>.json"
    severity = Severity.ERROR
    spec = f"{DS}: <system_desc_id>.json, with name matching the name of the folder under results."
    rationale = "A result whose system description cannot be found cannot be attributed to hardware and software."
    fix = "Add systems/<system_desc_id>.json named exactly like the results folder."

    def check(self, ctx):
        for submitter, system in ctx.tree.systems():
            if submitter.systems_dir is None or submitter.system_json(system.name) is not None:
                continue
            expected = f"{submitter.systems_dir.path}/{system.name}.json"
            near = _near_system_json(ctx, submitter, system.name)
            hint = (f"Found {near}; move or rename it to {expected}." if near else
                    f"Add {expected} (the name must match the results folder exactly).")
            yield self.finding(system.path, f"results for system '{system.name}' have no system description "
                                            f"{expected}", hint)


def _near_system_json(ctx, submitter, system_id: str) -> str | None:
    """A JSON that is probably meant for `system_id`: same name in another case or in a subfolder."""
    wanted = system_id.lower()
    for name, entry in submitter.system_files.items():
        if entry.is_file and name.lower() == f"{wanted}.json":
            return entry.path
    for entry in ctx.tree.index.descendants(submitter.systems_dir.path):
        if entry.is_file and entry.name.lower().endswith(".json") and wanted in entry.name.lower():
            return entry.path
    return None


@register
class SystemDescriptionOrphan(Rule):
    id = "TREE004"
    name = "tree.system-description-orphan"
    title = "Every system description has a results folder"
    severity = Severity.WARNING
    spec = f"{DS}: one <system_desc_id>.json for each system benchmarked."
    rationale = ("A description with no results is either a leftover or the sign of a results folder "
                 "named differently; both confuse the results table.")
    fix = "Remove the description, or rename the results folder to match it."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            if submitter.results_dir is None:
                continue
            for name, entry in submitter.system_files.items():
                if entry.is_file and name.endswith(".json") and name[:-5] not in submitter.results:
                    yield self.finding(entry.path, f"system description '{name}' has no results/{name[:-5]}/ folder")


@register
class UnknownBenchmark(Rule):
    id = "TREE005"
    name = "tree.benchmark-folder"
    title = "Benchmark folders use the round's short names"
    severity = Severity.ERROR
    spec = f"{DS}: <benchmark> must be one of the round's benchmarks (kws, vww, ic, ad; sww from v1.3; ic2 in v1.4)."
    rationale = "Tools and reviewers find results by benchmark name; any other name is a result nobody scores."
    fix = "Rename the folder to the benchmark's short name."

    def check(self, ctx):
        rs = ctx.ruleset
        for _submitter, _system, bench in ctx.tree.benchmarks():
            if bench.name in rs.benchmarks:
                continue
            if _is_extra_level(bench.modes, rs, ()):
                continue  # TREE007 reports a level that holds benchmarks; one holding modes is a misnamed benchmark
            alias = rs.benchmark_aliases.get(bench.name.lower())
            if alias and alias in rs.benchmarks:
                hint = f"Rename '{bench.name}' to '{alias}'."
            elif bench.name.lower() in rs.benchmarks:
                hint = f"Rename '{bench.name}' to '{bench.name.lower()}'."
            elif alias or bench.name.lower() in ("sww", "ic2"):
                hint = f"Round {rs.version} has no benchmark '{alias or bench.name}'; remove it or check --version."
            else:
                hint = f"Use one of: {', '.join(rs.benchmarks)}."
            yield self.finding(bench.path, f"'{bench.name}' is not a benchmark of round {rs.version}", hint)


@register
class UnknownModeFolder(Rule):
    id = "TREE006"
    name = "tree.mode-folder"
    title = "Mode folders are performance/, accuracy/ and energy/"
    severity = Severity.ERROR
    spec = f"{DS}: <benchmark>/{{performance, accuracy, energy}}."
    rationale = "A misspelt mode folder (enegy/, power/) hides the run from every tool that scores the round."
    fix = "Rename the folder to performance, accuracy or energy."

    def check(self, ctx):
        rs = ctx.ruleset
        for _submitter, _system, bench, mode in ctx.tree.modes():
            if bench.name not in rs.benchmarks:
                continue
            if mode.name in rs.modes:
                if mode.name not in rs.allowed_modes(bench.name):
                    yield self.finding(mode.path, f"benchmark '{bench.name}' has no {mode.name} mode",
                                       f"Remove {mode.path}; {bench.name} has only "
                                       f"{', '.join(rs.allowed_modes(bench.name))}.")
                continue
            if _is_extra_level(mode_children(ctx, mode), rs, {*rs.modes, *rs.mode_aliases}):
                continue  # TREE007 (same test as there, so ic/RN07/power is reported once)
            alias = rs.mode_aliases.get(mode.name.lower()) or (
                mode.name.lower() if mode.name.lower() in rs.modes else None)
            hint = f"Rename '{mode.name}' to '{alias}'." if alias else self.fix
            yield self.finding(mode.path, f"'{mode.name}' is not a mode folder", hint)


def mode_children(ctx, mode) -> dict:
    return {e.name: e for e in mode.others if e.is_dir}


def _is_extra_level(children: dict, rs, names) -> bool:
    """True when a folder holds folders that belong one level up (benchmarks or modes)."""
    lowered = {n.lower() for n in children}
    return bool(lowered & ({*names} | {*rs.benchmarks} | {*rs.benchmark_aliases}))


@register
class ExtraNesting(Rule):
    id = "TREE007"
    name = "tree.extra-nesting"
    title = "No extra folder levels between system, benchmark and mode"
    severity = Severity.ERROR
    spec = f"{DS}: results/<system_desc_id>/<benchmark>/<mode>/ with nothing in between."
    rationale = ("An implementation or model-variant folder inside the path (ic/RN07/power, "
                 "impl/system/ad) moves every file out of the place tools look for it.")
    fix = "Make each variant its own system (its own results/<system_desc_id> and JSON) and remove the extra level."

    def check(self, ctx):
        rs = ctx.ruleset
        modes = {*rs.modes, *rs.mode_aliases}
        for _submitter, system in ctx.tree.systems():
            for bench in system.benchmarks.values():
                if bench.name in rs.benchmarks:
                    for mode in bench.modes.values():
                        if mode.name not in rs.modes and _is_extra_level(mode_children(ctx, mode), rs, modes):
                            yield self.finding(mode.path, f"extra folder level '{mode.name}' between "
                                                          f"benchmark '{bench.name}' and its mode folders")
                elif _is_extra_level(bench.modes, rs, ()):  # mode folders belong at this level
                    inner = sorted(bench.modes)
                    yield self.finding(bench.path, f"extra folder level '{bench.name}' between system "
                                                   f"'{system.name}' and '{'/'.join(inner[:3])}'")


@register
class RequiredModeMissing(Rule):
    id = "TREE008"
    name = "tree.required-mode-missing"
    title = "Each benchmark has the modes the round requires"
    severity = Severity.ERROR
    spec = ("MLPerf Tiny rules and directory_structure.adoc: performance and accuracy for kws, vww, ic, ad "
            "(energy optional); sww requires energy (v1.3 checker configuration).")
    rationale = "A throughput without its accuracy run (or the reverse) is not a result under the rules."
    fix = "Add the missing mode folder with the runner's files, or withdraw the benchmark."

    def check(self, ctx):
        rs = ctx.ruleset
        for _submitter, _system, bench in ctx.tree.benchmarks():
            if bench.name not in rs.benchmarks:
                continue
            present = {rs.mode_aliases.get(m, m) for m in bench.modes}
            for mode in rs.required_modes(bench.name):
                if mode not in present:
                    yield self.finding(bench.path, f"benchmark '{bench.name}' has no {mode}/ folder")


@register
class RequiredFileMissing(Rule):
    id = "TREE009"
    name = "tree.required-file-missing"
    title = "Each mode folder holds the files its runner writes"
    severity = Severity.ERROR
    spec = (f"{DS}, mandatory files: log.txt and results.txt, plus script.async (EEMBC runner; and "
            "trace1-energy.bin, trace1-timestamps.json in energy) or results.json (MLCommons runner).")
    rationale = "Scores are recomputed from these files; a missing one makes the claimed score unverifiable."
    fix = "Copy the file from the runner's session folder, unchanged and with its exact name."

    def check(self, ctx):
        rs = ctx.ruleset
        for _submitter, _system, bench, mode in ctx.known_modes():
            runner = ctx.runner_of(mode, bench)
            if runner in (EEMBC, MLC):
                required = rs.required_files[runner][mode.name]
            else:  # unknown or mixed (RUN002): only what both runners write
                required = tuple(set(rs.required_files[EEMBC][mode.name]) & set(rs.required_files[MLC][mode.name]))
            for name in sorted(required):
                if name in mode.files:
                    continue
                prefixed = f"{mode.name}_{name}"
                hint = (f"Rename {prefixed} to {name}." if prefixed in mode.files else
                        f"Copy {name} from the runner's session folder into {mode.path}/.")
                yield self.finding(mode.path, f"{mode.name}/ has no {name}", hint)


@register
class EembcRunnerMarker(Rule):
    id = "TREE010"
    name = "tree.eembc-runner-marker"
    title = "EEMBC-runner results carry the EEMBC_RUNNER marker (from v1.3)"
    severity = Severity.ERROR
    spec = (f"{DS} (v1.3 on): an EEMBC_RUNNER file indicates to the checker that the EEMBC runner was used "
            "(not needed for the MLCommons runner).")
    rationale = "From v1.3 the checker picks the file set and parsers by this marker; a wrong one misreads the run."
    fix = ("Create an empty file named EEMBC_RUNNER in results/<system>/<benchmark>/ when the EEMBC runner "
           "was used; remove it when the MLCommons runner was used.")

    def check(self, ctx):
        if not ctx.ruleset.eembc_marker_required:
            return
        for _submitter, _system, bench in ctx.tree.benchmarks():
            for mode in bench.modes.values():
                runner = ctx.runner_of(mode, bench)
                marked = has_marker(mode, bench)
                eembc_files = "script.async" in mode.files or any(n.startswith("trace") for n in mode.files)
                if eembc_files and not marked:
                    yield self.finding(mode.path, "EEMBC-runner files (script.async) but no EEMBC_RUNNER marker",
                                       f"Create an empty file {bench.path}/{EEMBC_MARKER}.")
                elif marked and "results.json" in mode.files and runner != EEMBC:
                    where = mode.files.get(EEMBC_MARKER) or bench.files.get(EEMBC_MARKER)
                    yield self.finding(where.path, "EEMBC_RUNNER marker next to MLCommons-runner results "
                                                   f"({mode.name}/results.json)")


def _checklists(submitter):
    """Files in systems/ whose name says they are a submission checklist (any format)."""
    return [e for n, e in submitter.system_files.items() if e.is_file and _CHECKLIST.search(n)]


@register
class ChecklistMissing(Rule):
    id = "TREE011"
    name = "tree.checklist-missing"
    title = "systems/ holds the submission checklist as a PDF"
    severity = Severity.ERROR
    spec = f"{DS}, mandatory files: TinyMLPerf_vX.Y_Submission_Checklist.pdf."
    rationale = "The signed checklist is the submitter's statement that the rules were followed; review needs it."
    fix = "Fill in the round's checklist and add it as systems/TinyMLPerf_vX.Y_Submission_Checklist.pdf."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            if submitter.systems_dir is None:
                continue
            checklists = _checklists(submitter)
            pdfs = [e for e in checklists if e.name.lower().endswith(".pdf")]
            target = f"{submitter.systems_dir.path}/{ctx.ruleset.checklist_name}"
            if not pdfs:
                others = ", ".join(e.name for e in checklists if not e.name.startswith("~$"))
                message = (f"no submission checklist PDF in systems/ (only {others})" if others
                           else "no submission checklist in systems/")
                hint = (f"Export the checklist to PDF as {target}." if others else
                        f"Add the filled-in checklist as {target}.")
                yield self.finding(submitter.systems_dir.path, message, hint)
                continue
            for entry in pdfs:
                if entry.size and not read_head(entry.os_path, 5).startswith(b"%PDF-"):
                    yield self.finding(entry.path, "the checklist is named .pdf but is not a PDF file",
                                       "Export the checklist to PDF again; do not rename another format.")


@register
class ChecklistName(Rule):
    id = "TREE012"
    name = "tree.checklist-name"
    title = "The checklist has the round's file name"
    severity = Severity.WARNING
    spec = f"{DS}: systems/TinyMLPerf_vX.Y_Submission_Checklist.pdf."
    rationale = ("Reviewers and scripts look for the exact name; variants with spaces, another round's "
                 "version or per-system names are easy to miss or mistake for a stale form.")
    fix = "Rename the checklist to TinyMLPerf_vX.Y_Submission_Checklist.pdf for this round."

    def check(self, ctx):
        expected = ctx.ruleset.checklist_name
        for submitter in ctx.tree.submitters:
            pdfs = [e for e in _checklists(submitter) if e.name.lower().endswith(".pdf")]
            if not pdfs or any(e.name == expected for e in pdfs):
                continue
            for entry in pdfs:
                yield self.finding(entry.path, f"checklist named '{entry.name}', expected '{expected}'",
                                   f"Rename it to {expected}.")


@register
class EnergyHookupMissing(Rule):
    id = "TREE013"
    name = "tree.energy-hookup-missing"
    title = "Energy results come with a description of the energy hook-up"
    severity = Severity.WARNING
    spec = (f"{DS}: systems/Energy-Hookup.pdf, an image or text description of how to reproduce the energy "
            "configuration and measurement, if submitting energy results.")
    rationale = "Energy numbers cannot be reproduced or judged without knowing what supply rail was measured and how."
    fix = "Add systems/Energy-Hookup.pdf (or .png/.jpg/.txt/.md) showing the supply, monitor and board wiring."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            if submitter.systems_dir is None:
                continue
            has_energy = any(
                ctx.ruleset.mode_aliases.get(m, m) == "energy"
                for system in submitter.results.values() for b in system.benchmarks.values() for m in b.modes)
            if not has_energy:
                continue
            described = any(
                e.is_file and _HOOKUP.search(n) and n.lower().endswith(_HOOKUP_EXTENSIONS)
                for n, e in submitter.system_files.items())
            if not described:
                yield self.finding(submitter.systems_dir.path,
                                   "energy results are submitted but systems/ has no energy hook-up description")


@register
class CodeReadmeMissing(Rule):
    id = "TREE014"
    name = "tree.code-readme-missing"
    title = "code/ holds the code and a README to reproduce the results"
    severity = Severity.ERROR
    spec = (f"{DS}, mandatory: code which interfaces with the runner, and READMEs to enable users to "
            "replicate performance results.")
    rationale = "Results that nobody can reproduce cannot be peer reviewed."
    fix = "Add code/<benchmark>/<implementation_id>/ with the runner interface code and a README.md on how to reproduce."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            if not submitter.results:
                continue
            if submitter.code_dir is None:
                yield self.finding(submitter.path, f"submitter '{submitter.name}' has no code/ folder")
                continue
            readmes = [e for e in ctx.tree.index.descendants(submitter.code_dir.path)
                       if e.is_file and _README.match(e.name)]
            if not readmes:
                yield self.finding(submitter.code_dir.path, "code/ has no README with reproduction instructions",
                                   "Add code/README.md (or one per implementation) that says how to build, "
                                   "flash and run each result.")


@register
class LargerIcNeedsIc(Rule):
    id = "TREE015"
    name = "tree.ic2-requires-ic"
    title = "A system that submits ic2 also submits ic"
    severity = Severity.ERROR
    spec = "MLPerf Tiny rules (v1.4): progressively larger sizes; submitting ic2 requires submitting ic on the same system."
    rationale = "The larger model is meant to extend the IC result of a system, not to replace it."
    fix = "Add the ic results of the same system, or withdraw ic2."

    def check(self, ctx):
        for _submitter, system in ctx.tree.systems():
            for bench in system.benchmarks.values():
                spec = ctx.ruleset.benchmarks.get(bench.name)
                for needed in (spec.requires if spec else ()):
                    if needed not in system.benchmarks:
                        yield self.finding(bench.path, f"system '{system.name}' submits {bench.name} without {needed}",
                                           f"Add results/{system.name}/{needed}/ or withdraw {bench.name}.")


@register
class StrayFile(Rule):
    id = "TREE016"
    name = "tree.stray-entry"
    title = "No files or folders where the layout has no place for them"
    severity = Severity.WARNING
    spec = f"{DS}: the tree drawing lists what each level holds."
    rationale = ("Stray files (a README under results/, notes next to the mode folders, folders inside a "
                 "mode folder) are not reviewed and are often the wrong version of something that is.")
    fix = "Move the file where the layout wants it (READMEs go under code/) or delete it."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            for entry in _reviewable(submitter.other_entries):
                if not (entry.is_file and _SUBMITTER_FILES.match(entry.name)):
                    yield self.finding(entry.path, f"'{entry.name}' does not belong in a submitter folder")
            for entry in _reviewable(submitter.results_files):
                yield self.finding(entry.path, f"file '{entry.name}' directly in results/")
            for system in submitter.results.values():
                for entry in _reviewable([*system.files.values(), *system.others]):
                    yield self.finding(entry.path, f"'{entry.name}' directly in the system's results folder")
                for bench in system.benchmarks.values():
                    for entry in _reviewable(bench.files.values()):
                        if entry.name != EEMBC_MARKER:
                            yield self.finding(entry.path, f"file '{entry.name}' directly in the benchmark folder")
                    for mode in bench.modes.values():
                        if mode.name in ctx.ruleset.modes:
                            for entry in _reviewable(mode.others):
                                yield self.finding(entry.path, f"folder '{entry.name}' inside a mode folder")


def _reviewable(entries):
    """Plain files and folders; links, hidden and OS junk files have hygiene rules of their own."""
    return [e for e in entries if (e.is_file or e.kind == "dir") and not is_hygiene_name(e.name)]
