"""A session folder, written as the run goes so that a crash or a pulled cable loses nothing measured.

    log.txt         every line as it happens (flushed; fsync'd at each completed measurement)
    progress.jsonl  one results.json record per completed inference, fsync'd: the journal `--resume`
                    continues from
    results.json    the MLCommons runner's list of records (rewritten from the journal at the end, or
                    when the run stops early)
    results.txt     the runner's summary lines (at the end)
    manifest.json   our own: config and its fingerprint, tool version, DUT identity, start and end
                    times, status, the sha256 of every input sent and of every file written

Files are replaced atomically (write, fsync, rename), so a reader never sees half a results.json.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, SessionMismatch
from submission_tools import __version__

MANIFEST = "manifest.json"
JOURNAL = "progress.jsonl"
MANIFEST_FORMAT = 1


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_session_dir(root: Path, benchmark: str, mode: str) -> Path:
    """`<root>/<YYYYMMDD_HHMMSS>_<benchmark>_<mode>` (the runner's `sessions/<YYYYMMDD_HHMMSS>`, plus what
    the session holds, so several modes started in one second do not collide)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    path = root / f"{stamp}_{benchmark}_{mode}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = root / f"{stamp}_{benchmark}_{mode}_{suffix}"
    return path


class Session:
    def __init__(self, directory: Path, manifest: dict[str, Any], records: list[dict]) -> None:
        self.directory = directory
        self.manifest = manifest
        self.records = records
        self._log = open(directory / "log.txt", "a", encoding="utf-8", newline="\n")
        self._journal = open(directory / JOURNAL, "a", encoding="utf-8", newline="\n")

    # -- creation -------------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, *, mode: str, benchmark: str, config_raw: dict, fingerprint: str,
               config_source: str | None) -> "Session":
        try:
            directory.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise HarnessError(f"{directory}: already exists; choose another --out, or --resume it") from None
        except OSError as exc:
            raise HarnessError(f"{directory}: cannot create the session folder ({exc.strerror})") from None
        manifest = {
            "format": MANIFEST_FORMAT, "tool": {"name": "submit", "version": __version__},
            "host": {"python": platform.python_version(), "platform": platform.platform()},
            "mode": mode, "benchmark": benchmark, "status": "running",
            "started": utc_now(), "ended": None, "resumed": [],
            "config": {"source": config_source, "fingerprint": fingerprint, "document": config_raw},
            "dut": None, "devices": {}, "download": {}, "inputs": [], "files": {}, "notes": [],
        }
        session = cls(directory, manifest, [])
        session.save_manifest()
        return session

    @classmethod
    def resume(cls, directory: Path, *, fingerprint: str) -> "Session":
        """Reopen an interrupted session: same configuration or nothing (the DUT is compared later)."""
        path = directory / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HarnessError(f"{path}: not a readable session manifest ({exc}); --resume needs a folder "
                               "that `submit run` wrote") from None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise HarnessError(f"{path}: not a session manifest of this tool (format {MANIFEST_FORMAT})")
        if manifest.get("status") == "complete":
            raise HarnessError(f"{directory}: this session is complete; there is nothing to resume")
        if manifest.get("config", {}).get("fingerprint") != fingerprint:
            raise SessionMismatch(f"{directory}: the session was measured with another configuration "
                                  f"(fingerprint {manifest.get('config', {}).get('fingerprint', '?')[:12]}, now "
                                  f"{fingerprint[:12]}); resume it with the same config, or start a new session")
        records, dropped = read_journal(directory / JOURNAL)
        session = cls(directory, manifest, records)
        manifest["status"] = "running"
        manifest["resumed"].append({"at": utc_now(), "records_kept": len(records),
                                    "torn_lines_dropped": dropped})
        session.log(f"Resuming session {directory.name}: {len(records)} records kept"
                    + (f", {dropped} torn journal line dropped" if dropped else ""))
        session.save_manifest()
        return session

    # -- writing as the run goes ----------------------------------------------------------------
    def log(self, text: str) -> None:
        self._log.write(text + "\n")
        self._log.flush()

    def record(self, record: dict) -> None:
        """A completed measurement: journal it durably before anything else happens."""
        self.records.append(record)
        self._journal.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        os.fsync(self._log.fileno())

    def drop_records(self, keep) -> int:
        """Keep only records for which keep(record) is true (a partly measured input is redone)."""
        before = len(self.records)
        self.records = [r for r in self.records if keep(r)]
        if len(self.records) != before:
            self._journal.close()
            write_atomic(self.directory / JOURNAL,
                         "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in self.records))
            self._journal = open(self.directory / JOURNAL, "a", encoding="utf-8", newline="\n")
        return before - len(self.records)

    def note_input(self, file: str, offset: int, data_sha256: str, size: int) -> None:
        self.manifest["inputs"].append({"file": file, "offset": offset, "bytes": size, "sha256": data_sha256})

    def save_manifest(self) -> None:
        write_atomic(self.directory / MANIFEST, json.dumps(self.manifest, indent=1) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        path = self.directory / name
        write_atomic(path, text)
        return path

    # -- the end --------------------------------------------------------------------------------
    def finish(self, status: str, results_txt: list[str] | None) -> None:
        """Write results.json (and results.txt when given), hash every file, close the manifest."""
        self.write_text("results.json", json.dumps(self.records, indent=1, allow_nan=True) + "\n")
        if results_txt is not None:
            self.write_text("results.txt", "\n".join(results_txt) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())
        self._log.close()
        self._journal.close()
        self.manifest["status"] = status
        self.manifest["ended"] = utc_now()
        self.manifest["files"] = {p.name: sha256_file(p) for p in sorted(self.directory.iterdir())
                                  if p.is_file() and p.name not in (MANIFEST,) and not p.name.endswith(".tmp")}
        self.save_manifest()

    def close_quietly(self) -> None:
        for handle in (self._log, self._journal):
            try:
                handle.close()
            except OSError:
                pass


def read_journal(path: Path) -> tuple[list[dict], int]:
    """The journal's records; a torn last line (the crash came mid-write) is dropped and counted."""
    if not path.exists():
        return [], 0
    records, dropped = [], 0
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number >= len(lines) - 1:
                dropped += 1
                continue
            raise HarnessError(f"{path}:{number}: the journal is corrupt in the middle; it cannot be resumed "
                               "safely. Start a new session.") from None
        records.append(record)
    return records, dropped
