"""Writing a plan: a staging tree, the `submit check` gate on it, then one rename into place.

The staging folder sits next to the destination (same file system), so the destination only
ever holds a complete tree: the previous one until the rename, the new one after it. Folders
are 0755 and files 0644 whatever the umask or the inputs' modes (nothing is executable), and
files are written in sorted order; modification times are not part of the result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from submission_tools.check import CheckOptions, CheckResult, run_check
from submission_tools.errors import InputError, UsageError
from submission_tools.package.plan import Plan
from submission_tools.package.render import CHECKSUMS
from submission_tools.package.safety import copy_verified

STAGING_PREFIX = ".submit-package-"


def staging_parent(out: Path) -> Path:
    """Where the staging folder goes: inside --out when it exists, else beside it (created)."""
    if out.is_dir():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.parent


def write_plan(plan: Plan, root: Path) -> Path:
    """Write every planned file below root/<division>/<submitter>/ and return that folder."""
    base = root / plan.manifest.division / plan.manifest.submitter
    _make_dirs(root, Path(plan.base))
    for planned in plan.ordered():
        target = base / planned.dest
        _make_dirs(base, Path(planned.dest).parent)
        if planned.generated:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(planned.data)
            os.chmod(target, 0o644)
        elif not copy_verified(planned.source, target, planned.sha256):
            raise InputError(f"{planned.source_rel} changed while it was being packaged; "
                             "run submit package again when nothing writes to the inputs")
    return base


def _make_dirs(root: Path, relative: Path) -> None:
    current = root
    for part in relative.parts:
        current = current / part
        if not current.is_dir():
            current.mkdir()
            os.chmod(current, 0o755)


def gate(staging_root: Path, plan: Plan, reference: Path | None, max_file_bytes: int) -> CheckResult:
    """`submit check` on the staged tree, with the manifest's round."""
    return run_check(staging_root, CheckOptions(version=plan.manifest.round, reference=reference,
                                                max_file_bytes=max_file_bytes))


def destination(out: Path, plan: Plan) -> Path:
    return out / plan.manifest.division / plan.manifest.submitter


def check_destination(out: Path, plan: Plan) -> None:
    """Refuse to replace a submitter folder that `submit package` did not write (exit 2)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a folder (the root that holds closed/ and open/)")
    target = destination(out, plan)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UsageError(f"{target}: exists and is not a folder; move it away or choose another --out")
    if target.is_dir() and not (target / CHECKSUMS).is_file():
        raise UsageError(f"{target}: exists and was not written by submit package (it has no {CHECKSUMS}); "
                         "move it away or choose another --out")


def place(staged: Path, out: Path, plan: Plan) -> Path:
    """Move the staged submitter folder to out/<division>/<submitter>, replacing a previous one."""
    check_destination(out, plan)
    target = destination(out, plan)
    if not out.is_dir():
        out.mkdir(parents=True)
        os.chmod(out, 0o755)
    _make_dirs(out, Path(plan.manifest.division))
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        os.rename(target, old / "previous")
        os.rename(staged, target)
        shutil.rmtree(old)
    else:
        os.rename(staged, target)
    return target


class Staging:
    """A temporary folder beside the destination, removed on exit whatever happens."""

    def __init__(self, out: Path):
        self.path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=staging_parent(out)))
        os.chmod(self.path, 0o755)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
