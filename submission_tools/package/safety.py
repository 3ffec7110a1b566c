"""What `submit package` lets into a submission: every input is resolved, walked and read here.

Paths from the manifest are resolved below the manifest's folder one component at a time with
lstat, so no symbolic link is ever followed; folders are walked in sorted order without
following links or entering version-control folders; files are refused by size before a byte is
read, then hashed and scanned for secrets in one pass. Refusals become PKG findings (rules in
submission_tools/rules/packaging.py); inputs that do not exist are manifest problems (exit 2).
Nothing from the inputs is ever executed or imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from submission_tools.findings import Finding
from submission_tools.names import OS_JUNK
from submission_tools.package.manifest import Located
from submission_tools.package.problems import Problem
from submission_tools.rules import REGISTRY
from submission_tools.rules.packaging import (
    InputFileTooLarge, PathEscapesRoot, PythonCacheInput, SecretInput, SpecialInput, SymbolicLinkInput,
    VcsFolderInput,
)
from submission_tools.walk import VCS_DIRS

CHUNK = 1 << 20
OVERLAP = 512  # bytes kept between chunks so that a secret split by a chunk boundary is still seen

# Files whose name says they hold credentials, whatever is inside (templates such as .env.example
# are fine). Private-key files usually have no extension (id_rsa); keystores are binary.
_SECRET_NAME = re.compile(
    r"^(\.env(\.(?!(example|sample|template|dist)$)[^/]+)?|\.netrc|_netrc|\.pypirc|\.git-credentials"
    r"|id_(rsa|dsa|ecdsa|ed25519)|.+\.(p12|pfx|jks|keystore))$", re.I)
# Content patterns. The PEM marker is assembled so that this file holds no key-looking line.
_PEM = b"-----BEGIN " + rb"(?:[A-Z0-9]+ )*" + b"PRIVATE" + rb" KEY(?: BLOCK)?-----"
_SECRETS = re.compile(b"|".join([
    rb"(?P<pem>" + _PEM + rb")",
    rb"(?P<putty>PuTTY-User-Key-File-\d+:)",
    rb"(?P<github>\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\b)",
    rb"(?P<gitlab>\bglpat-[A-Za-z0-9_\-]{20}\b)",
    rb"(?P<aws>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)",
    rb"(?P<slack>\bxox[abprs]-[A-Za-z0-9-]{10,}\b)",
    rb"(?P<google>\bAIza[0-9A-Za-z_\-]{35}\b)",
    rb"(?P<huggingface>\bhf_[A-Za-z]{34}\b)",
    rb"(?P<npm>\bnpm_[A-Za-z0-9]{36}\b)",
]))
_SECRET_KINDS = {
    "pem": "a private key (PEM block)", "putty": "a PuTTY private key", "github": "a GitHub access token",
    "gitlab": "a GitLab access token", "aws": "an AWS access key id", "slack": "a Slack token",
    "google": "a Google API key", "huggingface": "a Hugging Face access token", "npm": "an npm access token",
}
# Literal pieces of every pattern above: the (slow) regex runs only on data holding one of them.
_TRIGGERS = (b"PRIVATE" + b" KEY", b"PuTTY-User-Key-File-", b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_",
             b"github_pat_", b"glpat-", b"AKIA", b"ASIA", b"xox", b"AIza", b"hf_", b"npm_")
_ABSOLUTE = re.compile(r"^(/|~|[A-Za-z]:/|//)")


@dataclass(frozen=True)
class ScannedFile:
    """A regular file that passed every refusal: where it is, its size and sha256."""

    source: Path
    rel: str  # relative to the manifest's folder, POSIX
    size: int
    sha256: str


class Scanner:
    """Resolves and reads inputs below `root`; collects refusals (findings) and problems (exit 2)."""

    def __init__(self, root: Path, manifest_name: str, max_file_bytes: int):
        self.root = root
        self.manifest_name = manifest_name
        self.max_file_bytes = max_file_bytes
        self.findings: list[Finding] = []
        self.problems: list[Problem] = []
        self.skipped: list[tuple[str, str]] = []  # (rel, why it is left out)
        self._scanned: dict[str, ScannedFile | None] = {}
        self._reported: set[tuple[str, str]] = set()

    # -- findings ------------------------------------------------------------------------------
    def refuse(self, rule: type, path: str, message: str, line: int | None = None) -> None:
        """A PKG finding of `rule` (its class) about `path`, relative to the root."""
        if (rule.id, path) not in self._reported:
            self._reported.add((rule.id, path))
            self.findings.append(REGISTRY.get(rule.id).finding(path, message, line=line))

    def problem(self, located: Located | None, message: str, fix: str = "") -> None:
        self.problems.append(Problem(located.line if located else None, located.where if located else "",
                                     message, fix))

    # -- manifest paths ------------------------------------------------------------------------
    def resolve(self, located: Located, kind: str) -> Path | None:
        """The input a manifest path names ("dir" or "file"), below the root, or None after a
        refusal (absolute, '..', a link on the way) or a problem (missing, wrong kind)."""
        text = located.value.replace("\\", "/")
        if _ABSOLUTE.match(text):
            self.refuse(PathEscapesRoot, self.manifest_name,
                        f"{located.where}: '{located.value}' is an absolute path; inputs must be below the "
                        f"manifest's folder", line=located.line)
            return None
        parts = [p for p in text.split("/") if p not in ("", ".")]
        if ".." in parts:
            self.refuse(PathEscapesRoot, self.manifest_name,
                        f"{located.where}: '{located.value}' goes through '..'; inputs must be below the "
                        f"manifest's folder", line=located.line)
            return None
        if not parts:
            self.problem(located, f"'{located.value}' is the manifest's folder itself",
                         "name the folder or file below it")
            return None
        current = self.root
        for index, part in enumerate(parts):
            current = current / part
            rel = "/".join(parts[: index + 1])
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                missing = "" if index == len(parts) - 1 else f" (there is no '{rel}')"
                what = "folder" if kind == "dir" else "file"
                self.problem(located, f"the {what} '{located.value}' does not exist{missing}",
                             f"check the path; it is relative to the manifest's folder {self.root}")
                return None
            except OSError as exc:
                self.refuse(SpecialInput, rel, f"cannot be read ({exc.strerror or exc})")
                return None
            if stat.S_ISLNK(info.st_mode):
                self.refuse(SymbolicLinkInput, rel, f"symbolic link to '{_readlink(current)}' "
                                                    f"(named by {located.where} in {self.manifest_name})")
                return None
            if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
                self.problem(located, f"'{rel}' is a file, so '{located.value}' cannot exist", "check the path")
                return None
        if kind == "dir" and not stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode):
                self.problem(located, f"'{located.value}' is a file, expected a folder", "name the folder")
            else:
                self.refuse(SpecialInput, "/".join(parts), "not a regular file or folder")
            return None
        if kind == "file" and not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                self.problem(located, f"'{located.value}' is a folder, expected a file", "name the file")
            else:
                self.refuse(SpecialInput, "/".join(parts), "not a regular file (a pipe, socket or device)")
            return None
        return current

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    # -- files ---------------------------------------------------------------------------------
    def scan_file(self, path: Path) -> ScannedFile | None:
        """Hash and vet one file (cached); None when it is refused."""
        rel = self.rel(path)
        if rel in self._scanned:
            return self._scanned[rel]
        self._scanned[rel] = result = self._scan(path, rel)
        return result

    def _scan(self, path: Path, rel: str) -> ScannedFile | None:
        try:
            info = os.lstat(path)
        except OSError as exc:
            self.refuse(SpecialInput, rel, f"cannot be read ({exc.strerror or exc})")
            return None
        if stat.S_ISLNK(info.st_mode):
            self.refuse(SymbolicLinkInput, rel, f"symbolic link to '{_readlink(path)}'")
            return None
        if not stat.S_ISREG(info.st_mode):
            self.refuse(SpecialInput, rel, "not a regular file (a pipe, socket or device)")
            return None
        if info.st_size > self.max_file_bytes:
            self.refuse(InputFileTooLarge, rel, f"file is {info.st_size / 1048576:.1f} MiB, over the "
                                                f"{self.max_file_bytes / 1048576:.0f} MiB limit (not read)")
            return None
        if _SECRET_NAME.match(path.name):
            self.refuse(SecretInput, rel, f"'{path.name}' is a credentials file (not read)")
            return None
        try:
            digest, size, secret = _read_and_scan(path)
        except OSError as exc:
            self.refuse(SpecialInput, rel, f"cannot be read ({exc.strerror or exc})")
            return None
        if secret is not None:
            kind, line = secret
            self.refuse(SecretInput, rel, f"holds {_SECRET_KINDS[kind]} at line {line}", line=line)
            return None
        return ScannedFile(source=path, rel=rel, size=size, sha256=digest)

    # -- folders -------------------------------------------------------------------------------
    def walk_folder(self, folder: Path) -> list[tuple[str, ScannedFile]]:
        """(path inside `folder`, file) for every file that may be copied, in sorted order."""
        out: list[tuple[str, ScannedFile]] = []
        self._walk(folder, "", out)
        return out

    def _walk(self, folder: Path, inner: str, out: list) -> None:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            self.refuse(SpecialInput, self.rel(folder), f"folder cannot be listed ({exc.strerror or exc})")
            return
        for name in names:
            path = folder / name
            rel_inner = f"{inner}{name}"
            try:
                info = os.lstat(path)
            except OSError as exc:
                self.refuse(SpecialInput, self.rel(path), f"cannot be read ({exc.strerror or exc})")
                continue
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                self.refuse(SymbolicLinkInput, self.rel(path), f"symbolic link to '{_readlink(path)}'")
            elif name in VCS_DIRS:
                kind = "folder" if stat.S_ISDIR(mode) else "link"
                self.refuse(VcsFolderInput, self.rel(path), f"version-control {kind} '{name}' (not entered)")
            elif stat.S_ISDIR(mode):
                if name == "__pycache__":
                    self.refuse(PythonCacheInput, self.rel(path), "__pycache__ folder (not entered)")
                else:
                    self._walk(path, rel_inner + "/", out)
            elif stat.S_ISREG(mode):
                if OS_JUNK.match(name):
                    self.skipped.append((self.rel(path), "operating-system or editor leftover"))
                elif name.endswith((".pyc", ".pyo")):
                    self.refuse(PythonCacheInput, self.rel(path), "compiled Python file")
                else:
                    scanned = self.scan_file(path)
                    if scanned is not None:
                        out.append((rel_inner, scanned))
            else:
                self.refuse(SpecialInput, self.rel(path), "not a regular file (a pipe, socket or device)")


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _read_and_scan(path: Path) -> tuple[str, int, tuple[str, int] | None]:
    """(sha256, size, first secret as (kind, line) or None) in one pass; links are never followed."""
    digest = hashlib.sha256()
    size, found = 0, None
    tail, lines_before_tail = b"", 0
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            digest.update(block)
            size += len(block)
            if found is None:
                data = tail + block
                match = _SECRETS.search(data) if any(t in data for t in _TRIGGERS) else None
                if match:
                    found = (match.lastgroup, lines_before_tail + data.count(b"\n", 0, match.start()) + 1)
                keep = data[-OVERLAP:]
                lines_before_tail += data.count(b"\n", 0, len(data) - len(keep))
                tail = keep
    return digest.hexdigest(), size, found


def find_secret(data: bytes) -> str | None:
    """What kind of secret `data` holds, or None."""
    match = _SECRETS.search(data) if any(t in data for t in _TRIGGERS) else None
    return _SECRET_KINDS[match.lastgroup] if match else None


def copy_verified(source: Path, target: Path, sha256: str) -> bool:
    """Copy `source` to a new `target` (never through a link), mode 0644; True when the bytes
    written have the sha256 the plan recorded (False: the input changed since it was scanned)."""
    digest = hashlib.sha256()
    fd_in = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd_in, "rb") as src:
        fd_out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        with os.fdopen(fd_out, "wb") as dst:
            while True:
                block = src.read(CHUNK)
                if not block:
                    break
                digest.update(block)
                dst.write(block)
    os.chmod(target, 0o644)
    return digest.hexdigest() == sha256
