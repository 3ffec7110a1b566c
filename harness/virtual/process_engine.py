"""An external firmware process as a virtual device's engine: the host port of firmware/ (or any
program that speaks the DUT protocol on its stdin and stdout) behind a carrier that paces its UART.

    engine = ProcessEngine([binary, "--stdio", "--model", "kws01", "--sim-clock"])
    with engine, PtyDevice(engine, clock=SimClock(), baud=115200, pace=True, advance_clock=False) as device:
        ...open device.port with pyserial, as a board's USB serial port...

`receive()` writes the host's bytes (already paced by the carrier) to the process's stdin; a reader
thread hands whatever the process prints on stdout to the carrier's emit callback, which queues it
for the host at the baud rate. The process keeps its own clock (`--sim-clock` counts the UART time
of every byte itself), so the carrier must not advance a SimClock for it (`advance_clock=False`).
Unlike an in-process engine, output arrives asynchronously, a little after the bytes that caused
it; hosts wait for lines anyway.

`boot()` starts the process and returns once its boot banner (by default up to the first
`m-ready` line) has been emitted, so `PtyDevice.drain()` then waits for it as for a virtual DUT's.
`reset()` ends the process and starts a new one (a board reset). A process that cannot start,
exits during boot or prints no banner in time makes `boot()` raise a HarnessError with its exit
status and the end of its stderr (from PtyDevice's constructor too). A process that dies later is
a silent device to the host (its commands time out, as with a dead board): the engine stops
taking bytes and keeps the HarnessError in `failure`, which `check()` and leaving the `with`
block raise. `close()` closes stdin (the host port exits on EOF), waits, then terminates and
finally kills the process, so it never hangs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.virtual.engine import Emit

STDERR_TAIL = 2000  # characters of the process's stderr quoted in an error
READ_SIZE = 65536


class ProcessEngine:
    """A DeviceEngine running `argv` (a firmware serving the protocol on stdin/stdout)."""

    def __init__(self, argv: Sequence[str | os.PathLike[str]], *, boot_marker: bytes | None = b"m-ready\r\n",
                 boot_timeout_s: float = 10.0, stop_timeout_s: float = 5.0, env: dict[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None, name: str | None = None) -> None:
        if not argv:
            raise ValueError("ProcessEngine needs a command to run")
        self.argv = [os.fspath(a) for a in argv]
        self.name = name or Path(self.argv[0]).name
        self.boot_marker = boot_marker
        self.boot_timeout_s = boot_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.env, self.cwd = env, cwd
        self.failure: HarnessError | None = None  # why the process stopped serving, if it did
        self.returncode: int | None = None  # of the last process, once it ended
        self._emit: Emit = lambda data: None
        self._lock = threading.RLock()  # boot/reset/close against receive (the carrier's thread)
        self._process: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []
        self._stderr = bytearray()
        self._booted = threading.Condition()
        self._boot_output = bytearray()  # output since start, until the banner is complete
        self._stopping = False
        self._finalizer: weakref.finalize | None = None

    # --- DeviceEngine -------------------------------------------------------------------------

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    def boot(self) -> None:
        """Start the process (ending one already running) and wait for its boot banner."""
        with self._lock:
            self._stop_process()
            self._start_process()
        if self.boot_marker is None:
            return
        deadline = time.monotonic() + self.boot_timeout_s
        with self._booted:
            while self.boot_marker not in self._boot_output:
                left = deadline - time.monotonic()
                if self.failure is not None or left <= 0:
                    break
                self._booted.wait(min(left, 0.05))
            done = self.boot_marker in self._boot_output
        if not done:
            died = self.failure is not None
            failure = None if died else self._failure(
                f"printed no boot banner ({self.boot_marker!r}) within {self.boot_timeout_s:g} s", None)
            with self._lock:
                self._stop_process(graceful=False)  # it is not serving: no EOF grace
            self.failure = failure or self._failure("ended before its boot banner was out", self.returncode)
            raise self.failure

    def receive(self, data: bytes) -> None:
        """The host's bytes to the process's stdin. Once the process is gone they are lost, as on a
        board that died; `failure` says why."""
        with self._lock:
            process = self._process
            if process is None or self.failure is not None or not data:
                return
            view = memoryview(data)
            try:
                while view:
                    view = view[process.stdin.write(view):]
            except (OSError, ValueError):  # EPIPE: it exited; ValueError: its stdin is closed
                self._note_exit(process)

    def poll(self) -> None:
        """Nothing is due on a clock: the reader thread emits output as the process prints it."""

    def reset(self) -> None:
        """A board reset: the process ends and a new one boots (its banner is emitted again)."""
        self.boot()

    # --- lifetime -----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def stderr(self) -> str:
        """What the process (the last one) printed on stderr, decoded."""
        return bytes(self._stderr).decode("utf-8", errors="replace")

    def check(self) -> None:
        """Raise the HarnessError that stopped the process, if it stopped on its own."""
        if self.failure is not None:
            raise self.failure

    def close(self) -> int | None:
        """End the process: EOF on its stdin, then SIGTERM, then SIGKILL, each after
        `stop_timeout_s`. Returns its exit status (None if it never ran). Does not raise."""
        with self._lock:
            self._stop_process()
        return self.returncode

    def __enter__(self) -> ProcessEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        self.check()

    # --- the process --------------------------------------------------------------------------

    def _start_process(self) -> None:
        self.failure = None
        self.returncode = None
        self._stderr.clear()
        self._boot_output.clear()
        self._stopping = False
        try:
            process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, bufsize=0, env=self.env, cwd=self.cwd)
        except OSError as exc:
            self.failure = HarnessError(f"{self.name}: cannot start {' '.join(self.argv)!r} ({exc})")
            raise self.failure from None
        self._process = process
        # a process left running by a caller that never closes the engine is ended with it
        self._finalizer = weakref.finalize(self, _kill, process)
        # stderr's reader first: the stdout reader joins it when the process ends
        self._threads = [threading.Thread(target=self._read_stderr, args=(process,), daemon=True,
                                          name=f"ProcessEngine stderr {process.pid}"),
                         threading.Thread(target=self._read_stdout, args=(process,), daemon=True,
                                          name=f"ProcessEngine stdout {process.pid}")]
        for thread in self._threads:
            thread.start()

    def _stop_process(self, graceful: bool = True) -> None:
        process = self._process
        if process is None:
            return
        self._stopping = True
        try:
            process.stdin.close()  # the host port ends on EOF
        except OSError:
            pass
        for ask in ((None,) if graceful else ()) + (process.terminate, process.kill):
            if ask is not None and process.poll() is None:
                try:
                    ask()
                except OSError:
                    pass
            try:
                process.wait(timeout=self.stop_timeout_s)
                break
            except subprocess.TimeoutExpired:
                continue
        for thread in self._threads:
            thread.join(timeout=self.stop_timeout_s)
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass
        self.returncode = process.returncode
        if self._finalizer is not None:
            self._finalizer.detach()
        self._process, self._threads, self._finalizer = None, [], None

    def _read_stdout(self, process: subprocess.Popen) -> None:
        try:
            fd = process.stdout.fileno()
            while True:
                try:
                    data = os.read(fd, READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    break
                self._emit(data)
                if self.boot_marker is not None:
                    with self._booted:
                        if self.boot_marker not in self._boot_output:
                            self._boot_output += data
                            self._booted.notify_all()
            # stdout closed: the process is ending (or closed it, as good as dead to a host)
            self._note_exit(process)
        except BaseException as exc:  # noqa: BLE001 - a thread must not die with a traceback
            if self.failure is None and not self._stopping:
                self.failure = HarnessError(f"{self.name}: relaying the firmware's output failed ({exc!r})")
            with self._booted:
                self._booted.notify_all()

    def _read_stderr(self, process: subprocess.Popen) -> None:
        fd = process.stderr.fileno()
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                return
            if not data:
                return
            self._stderr += data
            del self._stderr[:-4 * STDERR_TAIL]  # a bounded tail: a chatty process cannot fill memory

    def _note_exit(self, process: subprocess.Popen) -> None:
        """The process stopped taking bytes or closed its output: unless we are ending it, that
        is a failure, reported with its exit status once it has one."""
        if self._stopping or self.failure is not None or process is not self._process:
            return
        try:
            process.wait(timeout=self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            pass  # stdout closed but still running: reported as such
        stderr_reader = self._threads[0] if self._threads else None
        if stderr_reader is not None and stderr_reader is not threading.current_thread() and stderr_reader.ident:
            stderr_reader.join(timeout=1.0)  # the rest of what it said
        if self._stopping or self.failure is not None:
            return
        self.returncode = process.returncode
        self.failure = self._failure("stopped", process.returncode)
        with self._booted:
            self._booted.notify_all()

    def _failure(self, what: str, code: int | None) -> HarnessError:
        if code is None:
            status = "is still running"
        elif code < 0:
            try:
                status = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                status = f"was killed by signal {-code}"
        else:
            status = f"exited with code {code}"
        tail = self.stderr.strip()[-STDERR_TAIL:]
        said = f"; its stderr ends: {tail!r}" if tail else "; it printed nothing on stderr"
        return HarnessError(f"{self.name}: the firmware process {what}: it {status}{said} "
                            f"(command: {' '.join(self.argv)})")


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
