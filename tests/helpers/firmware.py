"""Building and running the C firmware of firmware/ in tests: the host port, its pty, and the
virtual DUT it is compared with.

Every build goes to a pytest temporary folder (never into the source tree), with the interpreter
running the tests as the one that exports the model headers (it has numpy). Tests skip, saying
why, when there is no C compiler or no make.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST_PORT = REPO / "firmware" / "ports" / "host"
BAUD = 115200  # the harness's performance/accuracy default; the simulated clock charges bytes at it
READY = b"m-ready\r\n"


def toolchain() -> tuple[str, str] | None:
    """(C compiler, make), or None when either is missing."""
    cc = shutil.which("cc") or shutil.which("gcc")
    make = shutil.which("make")
    return (cc, make) if cc and make else None


def require_toolchain() -> tuple[str, str]:
    found = toolchain()
    if found is None:
        missing = [name for name, ok in (("a C compiler (cc or gcc)", shutil.which("cc") or shutil.which("gcc")),
                                         ("make", shutil.which("make"))) if not ok]
        pytest.skip(f"building firmware/ needs a C compiler and make; not on PATH: {' and '.join(missing)}")
    return found


def build(dest: Path, *, target: str = "all", **variables: str) -> Path:
    """`make -C firmware/ports/host BUILD=dest [VAR=value ...] target`; returns the BUILD folder.
    A failed build fails the test with the compiler's output (warnings are errors)."""
    cc, make = require_toolchain()
    command = [make, "-C", str(HOST_PORT), f"BUILD={dest}", f"CC={cc}", f"PYTHON={sys.executable}",
               *(f"{key}={value}" for key, value in variables.items()), target]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dest


class HostFirmware:
    """The host firmware serving on its own pseudo-terminal (`--pty`); `port` is its path.

    The process exits by itself once the host that opened the port closes it; `close()` waits for
    that (and only then sends SIGTERM), so a test can assert that it ended cleanly."""

    def __init__(self, binary: Path, *args: str, timeout_s: float = 10.0) -> None:
        self.process = subprocess.Popen([str(binary), "--pty", *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = b""
        self.returncode: int | None = None
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.stderr:
            left = deadline - time.monotonic()
            readable, _, _ = select.select([self.process.stderr], [], [], max(0.0, left))
            chunk = os.read(self.process.stderr.fileno(), 4096) if readable else b""
            if not chunk:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the host firmware printed no pty path (stderr {self.stderr!r})")
            self.stderr += chunk
        first = self.stderr.split(b"\n", 1)[0].decode()
        assert first.startswith("pty: /dev/"), first
        self.port = first.removeprefix("pty: ")

    def __enter__(self) -> HostFirmware:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self, timeout_s: float = 10.0) -> int:
        if self.returncode is None:
            try:
                _, err = self.process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                _, err = self.process.communicate(timeout=timeout_s)
            self.stderr += err
            self.returncode = self.process.returncode
        return self.returncode


def sim_args(model_id: str, infer_us: int) -> list[str]:
    """Host firmware options for the virtual DUT's clock and identity (name `virtual`)."""
    return ["--sim-clock", "--baud", str(BAUD), "--infer-us", str(infer_us), "--model", model_id,
            "--name", "virtual"]


def exchange(port: str, commands: list[bytes], timeout_s: float = 10.0) -> list[bytes]:
    """Open `port` as the harness does (pyserial), send each command with its `%`, and collect the
    raw answer bytes up to and including the `m-ready` line that ends it."""
    import serial

    answers = []
    link = serial.serial_for_url(port, baudrate=BAUD, timeout=0.05)
    try:
        for command in commands:
            link.write(command + b"%")
            answer = b""
            deadline = time.monotonic() + timeout_s
            while not (answer == READY or answer.endswith(b"\n" + READY)):
                if time.monotonic() > deadline:
                    raise AssertionError(f"no m-ready for {command[:40]!r}; got {answer[-200:]!r}")
                answer += link.read(max(1, link.in_waiting))  # what is there, or wait for a byte
            answers.append(answer)
    finally:
        link.close()
    return answers
