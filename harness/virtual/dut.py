"""The virtual DUT: the firmware side of protocol.md section 1, byte for byte, running a
`harness.virtual.models` model on the simulated clock.

It reproduces the reference firmware (benchmark/api/internally_implemented.cpp and the reference
ports) including its typos, the 80-character command truncation, `infer` defaulting to 10 warmups,
the partial store before an invalid hex pair and the stray empty line of `db print`. It guards
where the reference has undefined behaviour: an oversize `db load` is reported with the reference
message but not accepted, `db` hex data with no room left is refused, and an empty command is
answered. With model id sww01 it is the streaming-wakeword firmware (protocol.md 1.8).

With firmware="submit" it is this repository's firmware (firmware/api): the reference, plus the
`caps` query and the `db bin N CRC` binary download of docs/binary_download.md.

Time: the engine advances the clock only for computation (inferences, streamed audio). The
carrier advances it for UART bytes, and is expected to do so as the bytes are emitted (inside the
emit callback), so a timestamp read after a line was printed includes that line's transmission,
as on an MCU whose printf blocks. In performance mode t1 - t0 of `infer` is therefore N times the
inference cost plus the time of the first `m-lap-us` line, as on hardware; the energy-mode edges
are exactly N times the cost apart.
"""

from __future__ import annotations

import math
import re
import threading
import zlib

from harness.virtual.clock import SimClock
from harness.virtual.engine import DutSignals, Emit, NoSignals
from harness.virtual.models import VirtualModel

FIRMWARE_VERSION = "ULPMark for tinyML Firmware V0.0.1"
# MAX_DB_INPUT_SIZE of the reference ports (protocol.md 1.6); other models take their input size.
MAX_DB_INPUT_SIZE = {"kws01": 490, "vww01": 27648, "ic01": 3072, "ad01": 5120}
# Simulated µs per inference: the order of magnitude of the reference ports on an STM32L4.
INFER_COST_US = {"kws01": 15_000, "vww01": 45_000, "ic01": 55_000, "ad01": 1_200, "sww01": 11_600}
LAP_WRAP = 2**32  # m-lap-us is an unsigned long on a 32-bit MCU
SWW_FRAME_US = 32_000  # one 32 ms window stride of audio per processed frame
SWW_DETECT_DELAY_US = 300_000  # a detection fires this long after the end of the wakeword

HELP_LINES = (
    "", "help         : Print this information", "name         : Print the name of the device",
    "timestsamp   : Generate a timetsamp", "db SUBCMD    : Manipulate a generic byte buffer",
    "  load N     : Allocate N bytes and set load counter",
    "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes", "  print [N=16] [offset=0]",
    "             : Print N bytes at offset as hex",
    "infer N [W=0]: Load input, execute N inferences after W warmup loops",
    "results      : Return the result fp32 vector",
)
_HEX = frozenset("0123456789abcdefABCDEF")
_CRC32 = re.compile(r"[0-9a-fA-F]{8}")
FIRMWARES = ("reference", "submit")
_ATOI = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def atoi(text: str) -> int:
    """C atoi on a 32-bit MCU: leading digits only, 0 when there are none, saturating."""
    match = _ATOI.match(text)
    if not match:
        return 0
    return max(-(2**31), min(2**31 - 1, int(match.group(1))))


class VirtualDut:
    """A DeviceEngine for the DUT side of the MLPerf Tiny serial protocol."""

    def __init__(self, model: VirtualModel, clock: SimClock, *, name: str = "virtual",
                 signals: DutSignals | None = None, energy_mode: bool = False,
                 command_buffer: int | None = None, max_input: int | None = None,
                 infer_cost_us: int | None = None, uart_baud: int = 115200,
                 firmware_version: str = FIRMWARE_VERSION, firmware: str = "reference",
                 binary_chunk: int = 512) -> None:
        if firmware not in FIRMWARES:
            raise ValueError(f"firmware must be one of {FIRMWARES}, not {firmware!r}")
        self.model = model
        self.model_id = model.model_id
        self.clock = clock
        self.name = name
        self.signals: DutSignals = signals if signals is not None else NoSignals()
        self.energy_mode = energy_mode
        self.sww = model.model_id == "sww01"
        # EE_CMD_SIZE: 80 in the generic API, 1028 in the SWW reference.
        self.command_buffer = command_buffer or (1028 if self.sww else 80)
        self.max_input = max_input or MAX_DB_INPUT_SIZE.get(model.model_id, model.input_size)
        self.infer_cost_us = infer_cost_us if infer_cost_us is not None else INFER_COST_US.get(model.model_id, 10_000)
        self.uart_baud = uart_baud  # what the firmware configures its UART to; carriers read it
        self.firmware_version = firmware_version
        self.extended = firmware == "submit"  # answers `caps` and `db bin`
        self.binary_chunk = binary_chunk  # bytes between acknowledgements; 0: no binary download
        self._emit: Emit = lambda data: None
        self._lock = threading.RLock()  # a carrier thread and an interface board may both call in
        self._cmd = bytearray(self.command_buffer + 1)
        self._cmd_pos = 0
        self._power_on_state()

    # --- DeviceEngine -------------------------------------------------------------------------

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    def boot(self) -> None:
        with self._lock:
            self._power_on_state()
            self.signals.activity(self.clock.now_us(), "uart")
            self._line("m-timestamp-mode-energy" if self.energy_mode else "m-timestamp-mode-performance")
            # th_timestamp_initialize ends with one th_timestamp(): a lap line, or in energy mode
            # a pulse that sets the open-drain output high so the monitor catches falling edges.
            self._timestamp()
            self._line("m-init-done")
            self._parser_enabled = True
            self._line("m-ready")
            self.signals.activity(self.clock.now_us(), "idle")

    def receive(self, data: bytes) -> None:
        with self._lock:
            index = 0
            while index < len(data):
                if self._bin_left:  # a `db bin` waits for bytes: they are data, not commands
                    rest = self._receive_binary(data[index:])
                    index = len(data) - len(rest)
                    continue
                byte = data[index]
                index += 1
                if byte == 0x25:  # '%'
                    # C string semantics: a NUL inside the buffer ends the command early.
                    command = bytes(self._cmd[:self._cmd_pos]).split(b"\0", 1)[0].decode("latin-1")
                    self._cmd_pos = 0
                    if self._parser_enabled:  # a command finished before boot is dropped
                        self._dispatch(command)
                else:
                    # ee_serial_callback: past the buffer, every character overwrites the last
                    # slot, which the terminator then overwrites with NUL: truncation.
                    self._cmd[self._cmd_pos] = byte
                    self._cmd_pos = min(self._cmd_pos + 1, self.command_buffer)

    def poll(self) -> None:
        """Nothing is due on its own: SWW frames are driven by `play_audio`."""

    # --- faults and state ---------------------------------------------------------------------

    def reset(self) -> None:
        """A reset (fault injection): all state is lost, including a half-received command, and
        the boot banner is printed again."""
        with self._lock:
            self._cmd_pos = 0
            self.boot()

    @property
    def streaming(self) -> bool:
        return self._streaming

    @property
    def last_results(self) -> list[float] | None:
        return None if self._results is None else list(self._results)

    def _power_on_state(self) -> None:
        self._parser_enabled = False
        self._db = bytearray(self.max_input)
        self._db_size = 0
        self._db_pos = 0
        self._bin_left = 0  # bytes a `db bin` still waits for: while > 0, every byte is data
        self._bin_crc = 0
        self._bin_expected_crc = 0
        self._tensor = bytes(self.model.input_size)  # the input tensor starts zeroed
        self._results: list[float] | None = None
        self._streaming = False
        self._first_frame = False
        self._frame_index = 0
        self._activations: list[int] = []

    # --- output -------------------------------------------------------------------------------

    def _print(self, text: str) -> None:
        self._emit(text.encode("latin-1"))

    def _line(self, text: str) -> None:
        self._print(text + "\r\n")

    def _timestamp(self) -> None:
        now = self.clock.now_us()
        if self.energy_mode:
            self.signals.timestamp_edge(now)
        else:
            self._line(f"m-lap-us-{now % LAP_WRAP}")

    # --- commands -----------------------------------------------------------------------------

    def _dispatch(self, command: str) -> None:
        self.signals.activity(self.clock.now_us(), "uart")
        if self.sww:
            self._line(f"Received command: {command}")
        tokens = [t for t in command.split(" ") if t]  # strtok(cmd, " ")
        handler = self._handlers().get(tokens[0]) if tokens else self._empty
        if handler is None:
            self._line(f"e-[Unknown command: {tokens[0]}]")
        else:
            handler(tokens[1:])
        if not self._bin_left:  # an accepted `db bin` answers when its last byte is in
            self._ready()

    def _ready(self) -> None:
        self._line("m-ready")
        self.signals.activity(self.clock.now_us(), "stream" if self._streaming else "idle")

    def _handlers(self) -> dict:
        handlers = {"name": self._name, "timestamp": lambda args: self._timestamp(),
                    "profile": self._profile, "help": self._help, "db": self._db_command,
                    "infer": self._infer, "results": lambda args: self._print_results()}
        if self.sww:
            handlers.update(start=self._start, stop=self._stop)
        if self.extended:
            handlers.update(caps=self._caps)
        return handlers

    def _empty(self, args: list[str]) -> None:
        # The reference passes strtok's NULL to strncmp (undefined behaviour); the SWW firmware
        # answers this, and the generic DUT answers with an error line.
        if self.sww:
            self._line("Empty command (only a % read).  Type 'help%' for help")
        else:
            self._line("e-[Empty command]")

    def _name(self, args: list[str]) -> None:
        self._line(f"m-name-dut-[{self.name}]")

    def _profile(self, args: list[str]) -> None:
        self._line(f"m-profile-[{self.firmware_version}]")
        self._line(f"m-model-[{self.model_id}]")

    def _help(self, args: list[str]) -> None:
        self._line(self.firmware_version)
        for line in HELP_LINES:
            self._line(line)

    def _db_command(self, args: list[str]) -> None:
        if not args:
            self._line("e-[Command 'db' requires a subcommand]")
        elif args[0] == "load":
            self._db_load(args[1:])
        elif args[0] == "print":
            self._db_print()
        elif args[0] == "bin" and self.extended:
            self._db_bin(args[1:])
        else:
            self._db_hex(args[0])

    def _db_load(self, args: list[str]) -> None:
        if not args:
            self._line("e-[Command 'db load' requires the # of bytes]")
            return
        size = atoi(args[0])
        if size == 0:
            self._db_size = 0  # the reference stores the size before checking it
            self._line("e-[Command 'db load' must be >0 bytes]")
            return
        self._db_pos = 0
        if size < 0 or size > self.max_input:  # a negative size is a huge size_t
            # The reference's message (no m- prefix, bare \n) ...
            self._print(f"Supplied buffer size {size} exceeds maximum of {self.max_input}\n")
            # ... but unlike the reference, which keeps the size and lets the following `db`
            # writes run past its buffer, no size is kept: those writes are refused.
            self._db_size = 0
            return
        self._db_size = size
        self._line(f"m-[Expecting {size} bytes]")

    # --- the binary download (docs/binary_download.md) ---------------------------------------

    def _caps(self, args: list[str]) -> None:
        self._line(f"m-caps-[cmd={self.command_buffer},db={self.max_input},bin={self.binary_chunk}]")

    def _db_bin(self, args: list[str]) -> None:
        if not self.binary_chunk:
            self._line("e-[Binary download is disabled]")
        elif len(args) < 2:
            self._line("e-[Command 'db bin' requires the # of bytes and the CRC-32]")
        elif not 1 <= atoi(args[0]) <= self.max_input:
            self._line(f"e-[Command 'db bin' takes 1 to {self.max_input} bytes]")
        elif not _CRC32.fullmatch(args[1]):
            self._line("e-[Command 'db bin' requires the CRC-32 as 8 hex digits]")
        else:
            size = atoi(args[0])
            self._db_size, self._db_pos = size, 0
            self._bin_left, self._bin_crc, self._bin_expected_crc = size, 0, int(args[1], 16)
            self._line(f"m-[Expecting {size} bytes]")

    def _receive_binary(self, data: bytes) -> bytes:
        """Store `data` while a `db bin` waits for bytes, acknowledging each full chunk; returns
        what follows the input's last byte (commands again)."""
        while data and self._bin_left:
            room = min(self._bin_left, self.binary_chunk - self._db_pos % self.binary_chunk)
            piece, data = data[:room], data[room:]
            self._db[self._db_pos:self._db_pos + len(piece)] = piece
            self._db_pos += len(piece)
            self._bin_left -= len(piece)
            self._bin_crc = zlib.crc32(piece, self._bin_crc)
            if self._bin_left and self._db_pos % self.binary_chunk == 0:
                self._line(f"m-ack-{self._db_pos}")
            elif not self._bin_left:
                self._finish_binary()
        return data

    def _finish_binary(self) -> None:
        if self._bin_crc == self._bin_expected_crc:
            self._line("m-load-done")
        else:
            self._line(f"e-[CRC-32 mismatch: received {self._bin_crc:08x}, expected {self._bin_expected_crc:08x}]")
            self._db_size = self._db_pos = 0  # the damaged bytes must never reach the model
        self._ready()

    def _db_print(self) -> None:
        data = self._db[:self._db_size]
        for start in range(0, len(data), 8):
            self._line("m-buffer-" + "-".join(f"{b:02x}" for b in data[start:start + 8]))
        if len(data) % 8:
            self._print("\r\n")  # the reference prints a stray empty line after a short last row

    def _db_hex(self, token: str) -> None:
        digits = token[:self.command_buffer]  # th_strnlen(p_next, EE_CMD_SIZE)
        if len(digits) % 2:
            self._line("e-[Insufficent number of hex digits]")
            return
        if self._db_pos >= self._db_size:
            # The reference writes past its buffer here (no `db load`, or the load is complete).
            self._line("e-[No room in the db buffer: send 'db load N' first]")
            return
        for i in range(0, len(digits), 2):
            pair = digits[i:i + 2]
            if not set(pair) <= _HEX:
                self._line(f"e-[Invalid hex digit '{pair}']")  # earlier pairs stay stored
                return
            self._db[self._db_pos] = int(pair, 16)
            self._db_pos += 1
            if self._db_pos == self._db_size:
                self._line("m-load-done")  # the rest of the token is ignored
                return

    def _infer(self, args: list[str]) -> None:
        iterations, warmups = 1, 10  # the help text says W=0; the code says 10
        if args:
            iterations = atoi(args[0])
            if iterations <= 0:
                self._line("e-[Inference iterations must be >0]")
                return
            if len(args) > 1:
                warmups = atoi(args[1])
                if warmups < 0:
                    self._line("e-[Inference warmup must be >=0]")
                    return
        self._load_tensor()
        # Every iteration computes the same function of the same tensor: run it once.
        self._results = [float(v) for v in self.model.run(self._tensor)]
        self._line(f"m-warmup-start-{warmups}")
        self._compute(warmups)
        self._line("m-warmup-done")
        self._line(f"m-infer-start-{iterations}")
        self._timestamp()
        self._compute(iterations)
        self._timestamp()
        self._line("m-infer-done")
        self._print_results()

    def _load_tensor(self) -> None:
        """th_load_tensor of the reference ports: the loaded bytes (g_buff_pos of them, at most
        one input) become the input tensor; too few leave the previous tensor in place."""
        size = self.model.input_size
        loaded = min(size, self._db_pos)
        if loaded != size:
            unit = 4 if self.model_id == "ad01" else 1  # AD counts float32 elements
            self._print(f"Input db has {loaded // unit} elemented, expected {size // unit}\n")
            return
        self._tensor = bytes(self._db[:size])

    def _compute(self, count: int) -> None:
        if count <= 0:
            return
        self.signals.activity(self.clock.now_us(), "infer")
        self.clock.advance_us(count * self.infer_cost_us)
        self.signals.activity(self.clock.now_us(), "uart")

    def _print_results(self) -> None:
        values = self._results
        if values is None:  # nothing inferred yet: the zeroed output tensor
            values = [0.0] * (1 if self.model_id == "ad01" else self.model.classes)
        self._line("m-results-[" + ",".join(f"{v:0.3f}" for v in values) + "]")

    # --- streaming wakeword -------------------------------------------------------------------

    def _start(self, args: list[str]) -> None:
        if self._streaming:
            self._line("I2S Rx currently in progress. Ignoring request")
            return
        self._streaming = True
        self._first_frame = True
        self._activations = []
        # "This timestamp will start the measurement of power". The reference also pulses the
        # processing pin here; that zero-work pulse is left out so duty cycles count frames only.
        self.signals.timestamp_edge(self.clock.now_us())

    def _stop(self, args: list[str]) -> None:
        if not self._streaming:
            self._line("I2S is already idle.  Ignoring stop request")
            return
        self._streaming = False
        self.signals.timestamp_edge(self.clock.now_us())
        self._line("Streaming stopped.")
        self._line("target activations: ")
        self._print_values(self._activations)

    def _print_values(self, values: list[int]) -> None:
        """The SWW reference's print_vals_int16: '[', 16 values a row as '%d%c ', then ']'."""
        text = "["
        for row in range(0, len(values), 16):
            for i in range(row, min(row + 16, len(values))):
                text += f"{values[i]}{' ' if i == len(values) - 1 else ','} "
            text += "\r\n"
        self._print(text + "]\r\n")

    def play_audio(self, length_s: float, wakeword_windows: list[tuple[float, float]], *,
                   miss_every: int | None = 8, false_every: float | None = 300.0,
                   processing_us: int | None = None) -> list[int]:
        """The interface board plays `length_s` seconds of audio into the I2S input.

        There is no SWW model here: the detector is an oracle fed with the truth windows
        (seconds from the start of the audio). While streaming, each 32 ms frame raises the
        Processing pin at the end of its chunk for `processing_us` (default: the inference
        cost, 11.6 ms); WW_DETECTED pulses at the end of the first frame since `start`
        (the sync pulse), at the end of the first frame whose chunk ends 0.3 s or more after
        each window's end, except every `miss_every`-th window, and every `false_every`
        seconds of audio unless that falls near a wakeword (a false detection). Detections
        are recorded as frame indices for `stop`. The clock advances by `length_s`; nothing
        happens when the DUT is not streaming (the caller accounts for that time).
        Returns the wakeword pulse times (µs).
        """
        with self._lock:
            if not self._streaming:
                return []
            proc = self.infer_cost_us if processing_us is None else processing_us
            start = self.clock.now_us()
            length_us = round(length_s * 1e6)
            frames = length_us // SWW_FRAME_US
            detect = self._oracle_frames(length_s, wakeword_windows, frames, miss_every, false_every)
            pulses: list[int] = []
            for k in range(frames):
                t_on = start + (k + 1) * SWW_FRAME_US
                t_off = t_on + proc
                self.signals.processing(t_on, True)
                self.signals.activity(t_on, "infer")
                self.signals.processing(t_off, False)
                self.signals.activity(t_off, "stream")
                if self._first_frame or k in detect:
                    self.signals.wakeword(t_off)
                    pulses.append(t_off)
                    if not self._first_frame:
                        self._activations.append(self._frame_index + k)
                    self._first_frame = False
            self._frame_index += frames
            self.clock.advance_us(start + length_us - self.clock.now_us())
            return pulses

    @staticmethod
    def _oracle_frames(length_s: float, windows: list[tuple[float, float]], frames: int,
                       miss_every: int | None, false_every: float | None) -> set[int]:
        def frame_at(t_s: float) -> int:  # the first frame whose chunk ends at or after t_s
            return max(0, math.ceil(round(t_s * 1e6) / SWW_FRAME_US) - 1)

        detect = set()
        for index, (_w0, w1) in enumerate(windows):
            if miss_every and (index + 1) % miss_every == 0:
                continue
            detect.add(frame_at(w1 + SWW_DETECT_DELAY_US / 1e6))
        if false_every:
            t = false_every
            while t < length_s:
                # Keep well clear of the scorer's window [t0, t1 + 2 s] so it counts as false.
                if not any(w0 - 1.0 <= t <= w1 + 3.0 for w0, w1 in windows):
                    detect.add(frame_at(t))
                t += false_every
        return {k for k in detect if k < frames}
