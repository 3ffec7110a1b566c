"""The DUT protocol client (protocol.md 1 and 8): identify, download an input, infer, read results.

Downloads go one of two ways (the session manifest records which, and the chunk size):

- binary (docs/binary_download.md), with a DUT whose `caps` answer offers it on a direct link:
  `db bin N CRC`, then raw chunks of the DUT's receive-buffer size, each acknowledged; the DUT
  confirms the CRC-32 of the whole input before anything may run on it. A mismatch, a missing or
  unexpected acknowledgement, or a reset sends the whole input again; when the DUT may still be
  waiting for bytes it is first given filler spaces and a `%` to bring it back to commands;
- hex, everywhere else: `db load N` then `db <hex>` chunks as large as the DUT's command buffer
  takes ("db " + 2 hex characters per byte must fit; 38 bytes for the reference 80-character
  buffer), never more unless the configuration says so.

What is retried in hex, and why:

- a chunk is sent again only when the DUT's answer proves it stored nothing of it (an odd number of
  hex digits, a mangled command word): re-sending a chunk that might have been stored would append
  it twice, and the reference protocol has no way to ask where the buffer stands;
- anything else (a lost or garbled acknowledgement, a bad hex pair, which the reference stores in
  part, a reset) restarts the whole input from `db load`, which rewinds the DUT's buffer;
- with `verify_download`, the buffer is read back with `db print` and compared, and the results are
  read again with `results`: the only way the text protocol can catch a character corrupted into
  another valid one (a hex digit into another, a digit of a score into another). Without it, every
  reply is still checked for shape: a results line whose values lost a digit is refused.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass, field

from harness.channel import READY, DutChannel, read_until_ready
from harness.errors import DeviceReset, DeviceTimeout, DutCommandError, GarbledReply, HarnessError

_NAME = re.compile(r"^m-name-dut-\[([^]]+)]$")
_PROFILE = re.compile(r"^m-(model|profile)-\[([^]]+)]$")
_LAP = re.compile(r"^m-lap-us-(\d+)$")
_RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
_BUFFER = re.compile(r"^m-buffer-((?:[0-9a-f]{2}-)*[0-9a-f]{2})$")
_CAPS = re.compile(r"^m-caps-\[([^]]*)\]$")
# The answers to the `%` that ends a binary resync (the parser holds only filler spaces, or nothing):
# the virtual DUT and the reference cut long commands (empty), our C engine refuses them (longer).
_RESYNC_MARKERS = ("e-[Empty command]", "e-[Command longer than ")
TRANSFERS = ("auto", "binary", "hex")
COUNTER_WRAP = 2**32  # `%lu` of a 32-bit MCU microsecond counter
CHUNK_SAFE_ERRORS = ("e-[Insufficent number of hex digits]", "e-[Unknown command:", "e-[Command 'db' requires")


@dataclass(frozen=True)
class DutIdentity:
    name: str
    profile: str
    model: str


@dataclass(frozen=True)
class DutCapabilities:
    """A `caps` answer: command buffer (characters), largest input (bytes), binary chunk (bytes, 0:
    no binary download). A key the DUT does not send is None (0 for the chunk)."""

    command_buffer: int | None
    max_input: int | None
    binary_chunk: int
    line: str

    def as_dict(self) -> dict:
        return {"command_buffer": self.command_buffer, "max_input": self.max_input,
                "binary_chunk": self.binary_chunk, "line": self.line}


def parse_capabilities(line: str) -> DutCapabilities | None:
    """An `m-caps-[key=value,...]` line; unknown keys are ignored, a malformed one gives None."""
    match = _CAPS.match(line)
    if not match:
        return None
    values: dict[str, int] = {}
    for item in filter(None, match.group(1).split(",")):
        key, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            return None
        values[key] = int(value)
    return DutCapabilities(values.get("cmd"), values.get("db"), values.get("bin", 0), line)


@dataclass
class InferReply:
    iterations: int
    warmups: int
    lines: list[str]
    laps_us: list[int]
    results: list[float]

    @property
    def elapsed_us(self) -> int | None:
        """Time between the two lap stamps; a 32-bit counter that wrapped in between is unwrapped."""
        if len(self.laps_us) < 2:
            return None
        return (self.laps_us[-1] - self.laps_us[0]) % COUNTER_WRAP


@dataclass
class DownloadStats:
    bytes: int = 0
    chunks: int = 0
    chunk_retries: int = 0
    input_retries: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def chunk_bytes_for(command_buffer: int) -> int:
    """Largest payload of one `db <hex>` command that fits a buffer of `command_buffer` characters."""
    return max(1, (command_buffer - len("db ")) // 2)


_VALUE = re.compile(r"^-?\d+\.(\d+)$")


def parse_results(line: str) -> list[float] | None:
    """The values of an `m-results-[...]` line, each written as the reference ports print them
    (`%0.3f`: digits, a point, digits); None for anything else, so a line that lost or gained a
    character in transit is not read as a number."""
    match = _RESULTS.match(line)
    if not match or not all(_VALUE.match(v) for v in match.group(1).split(",")):
        return None
    return [float(v) for v in match.group(1).split(",")]


def results_shape(line: str) -> tuple[int, frozenset[int]]:
    """(number of values, the set of their decimal counts) of a readable results line."""
    values = _RESULTS.match(line).group(1).split(",")  # type: ignore[union-attr]
    return len(values), frozenset(len(_VALUE.match(v).group(1)) for v in values)  # type: ignore[union-attr]


class DutClient:
    def __init__(self, channel: DutChannel, *, command_buffer: int = 80, chunk_bytes: int | None = None,
                 command_timeout_s: float = 5.0, infer_timeout_s: float = 60.0, chunk_retries: int = 2,
                 input_retries: int = 3, verify_download: bool = False, binary_chunk: int = 0) -> None:
        self.channel = channel
        # > 0: inputs go as `db bin` in chunks of this many bytes (use_binary() sets it)
        self.binary_chunk = binary_chunk
        self.chunk_bytes = chunk_bytes or chunk_bytes_for(command_buffer)
        if len("db ") + 2 * self.chunk_bytes > command_buffer and chunk_bytes is None:
            raise HarnessError(f"a command buffer of {command_buffer} characters cannot hold a db chunk")
        self.command_timeout_s, self.infer_timeout_s = command_timeout_s, infer_timeout_s
        self.chunk_retries, self.input_retries = chunk_retries, input_retries
        self.verify_download = verify_download
        # The shape of the first results line (value count, decimals): a DUT prints every vector the
        # same way, so a later line of another shape was damaged on the wire (a dropped digit).
        self.results_shape: tuple[int, frozenset[int]] | None = None

    # -- plain commands -------------------------------------------------------------------------
    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        lines = self.channel.exchange(command, timeout_s or self.command_timeout_s)
        errors = [line for line in lines if line.startswith("e-[")]
        if errors:
            raise DutCommandError(command, errors[0], lines)
        return lines

    def identify(self, attempts: int = 3) -> DutIdentity:
        """`name` and `profile`, each retried like the MLCommons runner does (3 times)."""
        name = self._matching("name", _NAME, attempts)
        profile_lines = self._retry(lambda: self.command("profile"), attempts, "profile",
                                    lambda lines: any(_PROFILE.match(x) for x in lines))
        found = {m.group(1): m.group(2) for line in profile_lines if (m := _PROFILE.match(line))}
        if "model" not in found:
            raise GarbledReply(self.channel.label, "profile", "no m-model-[...] line", profile_lines)
        return DutIdentity(name=name, profile=found.get("profile", ""), model=found["model"])

    def _matching(self, command: str, pattern: re.Pattern, attempts: int) -> str:
        lines = self._retry(lambda: self.command(command), attempts, command,
                            lambda ls: any(pattern.match(x) for x in ls))
        return next(m.group(1) for line in lines if (m := pattern.match(line)))

    def _retry(self, call, attempts: int, command: str, good) -> list[str]:
        last: Exception | None = None
        for _ in range(attempts):
            try:
                lines = call()
            except (GarbledReply, DeviceReset, DeviceTimeout, DutCommandError) as exc:
                last = exc  # an e-[Unknown command: nme] is a command damaged on its way: retried too
                continue
            if good(lines):
                return lines
            last = GarbledReply(self.channel.label, command, "the expected line is missing", lines)
        assert last is not None
        raise last

    def timestamp(self) -> list[str]:
        return self.command("timestamp")

    def capabilities(self, attempts: int = 3) -> DutCapabilities | None:
        """The DUT's `caps` answer; None from a reference DUT, which does not know the command."""
        def answered(lines: list[str]) -> bool:
            return "e-[Unknown command: caps]" in lines or any(parse_capabilities(x) for x in lines)

        lines = self._retry(lambda: self.channel.exchange("caps", self.command_timeout_s), attempts, "caps",
                            answered)
        return next((c for line in lines if (c := parse_capabilities(line))), None)

    @property
    def transfer(self) -> str:
        return "binary" if self.binary_chunk else "hex"

    # -- downloads ------------------------------------------------------------------------------
    def load(self, data: bytes) -> DownloadStats:
        """Put `data` in the DUT's input buffer; retries as the module docstring says."""
        if not data:
            raise HarnessError("DUT: an empty input cannot be downloaded (`db load 0` is refused)")
        stats = DownloadStats(bytes=len(data))
        started = time.monotonic()
        last: HarnessError | None = None
        for attempt in range(self.input_retries):
            if attempt:
                stats.input_retries += 1
                stats.notes.append(f"input resent after: {last}")
            try:
                self._load_once(data, stats)
                if self.verify_download:
                    self._verify(data)
                stats.seconds = time.monotonic() - started
                return stats
            except (GarbledReply, DeviceReset, DeviceTimeout, DutCommandError) as exc:
                last = exc
        assert last is not None
        raise HarnessError(f"DUT: the {len(data)}-byte input could not be downloaded in {self.input_retries} "
                           f"attempts; the last problem: {last}")

    def _load_once(self, data: bytes, stats: DownloadStats) -> None:
        if self.binary_chunk:
            self._load_binary(data, stats)
            return
        lines = self.command(f"db load {len(data)}")
        if f"m-[Expecting {len(data)} bytes]" not in lines:
            raise GarbledReply(self.channel.label, f"db load {len(data)}", "no m-[Expecting N bytes]", lines)
        step = self.chunk_bytes
        for offset in range(0, len(data), step):
            piece = data[offset:offset + step]
            last_chunk = offset + step >= len(data)
            self._send_chunk(piece.hex(), last_chunk, stats)

    def _send_chunk(self, hex_text: str, last_chunk: bool, stats: DownloadStats) -> None:
        command = f"db {hex_text}"
        for attempt in range(self.chunk_retries + 1):
            lines = self.channel.exchange(command, self.command_timeout_s)
            stats.chunks += 1
            errors = [line for line in lines if line.startswith("e-[")]
            if errors and errors[0].startswith(CHUNK_SAFE_ERRORS) and attempt < self.chunk_retries:
                stats.chunk_retries += 1
                continue  # nothing of this chunk was stored: sending it again is safe
            if errors:
                raise DutCommandError(command[:20] + "...", errors[0], lines)
            done = "m-load-done" in lines
            if done != last_chunk or any(line not in ("m-load-done", READY) for line in lines):
                raise GarbledReply(self.channel.label, command[:20] + "...",
                                   "the acknowledgement does not match the chunk", lines)
            return

    def _load_binary(self, data: bytes, stats: DownloadStats) -> None:
        size, link, label = len(data), self.channel.link, self.channel.label
        header = f"db bin {size} {zlib.crc32(data):08x}"
        expecting = f"m-[Expecting {size} bytes]"
        lines = self.channel.exchange(header, self.command_timeout_s, stop=lambda x: x == expecting)
        if lines[-1] != expecting:  # refused: the DUT answered m-ready and stays in command mode
            errors = [x for x in lines if x.startswith("e-[")]
            if errors:
                raise DutCommandError(header, errors[0], lines)
            raise GarbledReply(label, header, f"no {expecting}", lines)
        acked = 0
        for offset in range(0, size, self.binary_chunk):
            piece = data[offset:offset + self.binary_chunk]
            end = offset + len(piece)
            link.write_bytes(piece, echo_text=f"[binary: bytes {offset}..{end - 1} of {size}]")
            stats.chunks += 1
            try:
                reply = read_until_ready(link, header, self.command_timeout_s, label,
                                         stop=lambda x: x.startswith("m-ack-"))
            except DeviceTimeout:
                self._resync_binary(size - acked, header)
                raise
            expected = [f"m-ack-{end}"] if end < size else ["m-load-done", READY]
            if reply == expected:
                acked = end
                continue
            if reply[-1] != READY:  # the DUT may still be reading data: bring it back to commands
                self._resync_binary(size - acked, header)
            errors = [x for x in reply if x.startswith("e-[")]
            if errors:
                raise DutCommandError(header, errors[0], reply)  # a CRC-32 mismatch, usually
            raise GarbledReply(label, header, f"expected {' '.join(expected)} after byte {end}", reply)

    def _resync_binary(self, missing: int, header: str) -> None:
        """Give a DUT that may still be in a `db bin` the bytes it can be missing, as spaces, then a
        `%`, and read up to that `%`'s answer (docs/binary_download.md, Recovery)."""
        link, label = self.channel.link, self.channel.label
        link.write_bytes(b" " * missing + b"%", echo_text=f"[{missing} filler spaces and %: back to commands]")
        command = f"{header} (resync)"
        for _ in range(4):  # the answers before the marker: acks, the CRC line and its m-ready
            lines = read_until_ready(link, command, self.command_timeout_s, label,
                                     stop=lambda x: x.startswith(_RESYNC_MARKERS))
            if lines[-1].startswith(_RESYNC_MARKERS):
                read_until_ready(link, command, self.command_timeout_s, label)
                return
        raise GarbledReply(label, command, "the DUT did not come back to commands", lines)

    def _verify(self, data: bytes) -> None:
        lines = self.command("db print", self.command_timeout_s)
        echoed = bytearray()
        for line in lines:
            if m := _BUFFER.match(line):
                echoed += bytes.fromhex(m.group(1).replace("-", ""))
        if bytes(echoed) != data:
            raise GarbledReply(self.channel.label, "db print", "the DUT's buffer differs from the input sent",
                               lines[:2])

    # -- inference ------------------------------------------------------------------------------
    def infer(self, iterations: int, warmups: int, *, expect_laps: bool = True) -> InferReply:
        """`infer N W`, W always explicit (the reference default is 10, its help text says 0)."""
        command = f"infer {iterations} {warmups}"
        lines = self.command(command, self.infer_timeout_s)
        laps = [int(m.group(1)) for line in lines if (m := _LAP.match(line))]
        results = [r for line in lines if (r := parse_results(line)) is not None]
        problems = []
        if f"m-infer-start-{iterations}" not in lines or "m-infer-done" not in lines:
            problems.append("m-infer-start/m-infer-done missing")
        if expect_laps and len(laps) != 2:
            problems.append(f"{len(laps)} m-lap-us lines instead of 2")
        if len(results) != 1:
            problems.append(f"{len(results)} readable m-results lines instead of 1")
        if not problems:
            shape = results_shape(next(line for line in lines if parse_results(line) is not None))
            if len(shape[1]) != 1:
                # one format prints every value of a line (`%0.3f`): a value short of a decimal lost
                # a digit, and must not become the shape later lines are held to
                problems.append(f"the results line mixes values with {sorted(shape[1])} decimals")
            elif self.results_shape is None:
                self.results_shape = shape
            elif shape != self.results_shape:
                problems.append(f"the results line has {shape[0]} values with {sorted(shape[1])} decimals, "
                                f"earlier ones {self.results_shape[0]} with {sorted(self.results_shape[1])}")
        if problems:
            raise GarbledReply(self.channel.label, command, "; ".join(problems), lines)
        if self.verify_download:
            again = [r for line in self.command("results") if (r := parse_results(line)) is not None]
            if again != results:
                raise GarbledReply(self.channel.label, "results", "reading the results again gave other values",
                                   lines[-3:])
        return InferReply(iterations, warmups, lines, laps, results[0])
