"""Running `submit run` against virtual benches in tests: config files and quiet runs."""

from __future__ import annotations

import io
from pathlib import Path

from harness.config import load_config
from harness.progress import Progress
from harness.run import RunOutcome, run

MODEL = {"kws": "kws01", "vww": "vww01", "ic": "ic01", "ad": "ad01", "sww": "sww01"}
SESSION_FILES = ("log.txt", "results.txt", "results.json")  # what the MLCommons runner leaves


def virtual_config(dest: Path, bench: str, *, interface: bool = False, monitor: bool = False,
                   count: int = 20, extra: str = "", transfer: str = "auto") -> Path:
    """A harness config whose devices are all virtual (unpaced: tests need no real-time UART)."""
    lines = [f"benchmark: {MODEL[bench]}", "devices:", f"  dut: {{port: virtual, transfer: {transfer}}}"]
    if interface:
        lines.append("  interface: {name: stm32h573i-dk, port: virtual}")
    if monitor:
        lines.append("  monitor: {name: lpm01a, port: virtual, voltage: 1.8}")
    lines.append(f"virtual: {{model: builtin, pace: false, dataset_count: {count}}}")
    dest.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return dest


def quiet_run(config: Path, mode: str, out: Path, **kwargs) -> RunOutcome:
    return run(load_config(config), mode, out=out, progress=Progress(io.StringIO()), **kwargs)


def place_session(session_dir: Path, mode_dir: Path) -> None:
    """Put a session's runner files (and energy plots) where a results tree wants them."""
    mode_dir.mkdir(parents=True, exist_ok=True)
    for path in session_dir.iterdir():
        if path.name in SESSION_FILES or path.suffix == ".png":
            (mode_dir / path.name).write_bytes(path.read_bytes())
