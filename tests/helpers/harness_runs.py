"""Running `submit run` against virtual benches in tests: config files and quiet runs."""

from __future__ import annotations

import io
from pathlib import Path

from harness.config import load_config
from harness.progress import Progress
from harness.run import RunOutcome, run

MODEL = {"kws": "kws01", "vww": "vww01", "ic": "ic01", "ad": "ad01", "sww": "sww01"}
SESSION_FILES = ("log.txt", "results.txt", "results.json")  # what the MLCommons runner leaves
# every benchmark in every mode a submission has; sww is measured in streaming mode, with and
# without the monitor, and its sessions fill the performance and energy folders
BENCH_MODES = {bench: ("performance", "accuracy", "energy") for bench in ("kws", "vww", "ic", "ad")}
BENCH_MODES["sww"] = ("performance", "energy")


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


def measure_every_mode(configs: Path, sessions: Path, count: int) -> dict[tuple[str, str], Path]:
    """One complete, valid session per benchmark and mode of BENCH_MODES on the virtual bench (energy
    through the virtual board and monitor, sww streaming): {(bench, mode): session folder}."""
    measured = {}
    for bench, modes in BENCH_MODES.items():
        for mode in modes:
            energy = mode == "energy"
            config = virtual_config(configs / f"{bench}-{mode}.yaml", bench, count=count,
                                    interface=energy or bench == "sww", monitor=energy)
            outcome = quiet_run(config, "streaming" if bench == "sww" else mode, sessions)
            assert outcome.status == "complete" and not outcome.invalid
            measured[bench, mode] = outcome.session_dir
    return measured


def place_session(session_dir: Path, mode_dir: Path) -> None:
    """Put a session's runner files (and energy plots) where a results tree wants them."""
    mode_dir.mkdir(parents=True, exist_ok=True)
    for path in session_dir.iterdir():
        if path.name in SESSION_FILES or path.suffix == ".png":
            (mode_dir / path.name).write_bytes(path.read_bytes())
