"""`submit package`: assemble <division>/<submitter>/{systems,code,results} from a submission manifest.

    manifest.py   the submission manifest (YAML, schemas/submission_manifest.schema.json), with lines
    sessions.py   session folders: runner, completeness, the files a mode folder takes
    safety.py     resolving and reading inputs: links, '..', sizes, VCS folders, caches, secrets
    plan.py       every file of the submitter folder and where it comes from (reads, never writes)
    render.py     the generated files, from templates/ (system JSON, README, deviations, models.yaml)
    assemble.py   staging tree, the `submit check` gate, the rename into place
    gitcommit.py  --git: commit the packaged folder with GitPython
    pipeline.py   the command's steps in order; text.py renders what happened
"""

from submission_tools.package.pipeline import PackageOptions, PackageResult, run_package

__all__ = ["PackageOptions", "PackageResult", "run_package"]
