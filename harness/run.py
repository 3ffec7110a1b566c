"""`submit run`: connect the bench a config describes (real ports, or virtual devices), identify the
DUT, open or resume a session, run one mode, and close the session whatever happens."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from harness.channel import DirectChannel
from harness.dataset import Dataset
from harness.dut import DutClient, chunk_bytes_for
from harness.errors import HarnessError, SessionMismatch
from harness.modes.accuracy import run_accuracy
from harness.modes.common import RunContext
from harness.modes.energy import run_energy
from harness.modes.performance import run_performance
from harness.modes.streaming import run_streaming
from harness.progress import Progress
from harness.session import Session, new_session_dir

MODES = {"performance": run_performance, "accuracy": run_accuracy, "energy": run_energy,
         "streaming": run_streaming}
THROUGH_INTERFACE = ("energy", "streaming")  # the DUT sits behind the interface board in these modes


@dataclass
class RunOutcome:
    session_dir: Path
    status: str
    results_txt: list[str]
    invalid: bool  # the runner's own ERROR lines: the session is complete but not valid for submission


_CHUNK_ACKS = ("m-ready", "[dut]: m-ready", "m-load-done", "[dut]: m-load-done")


class _Echo:
    """The runner's `echo: True` transcript in log.txt (`cmd%` sent, `RX:line` received), without the
    hex download chunks and their acknowledgements: a VWW accuracy run would log 700,000 of them."""

    def __init__(self, holder: list, console: Progress | None) -> None:
        self.holder, self.console, self.in_download = holder, console, False
        self.early: list[str] = []  # the bench's set-up exchange, before the session folder exists

    def __call__(self, direction: str, text: str) -> None:
        if direction == "tx":
            self.in_download = (text.startswith(("db ", "dut db ", "[binary: "))
                                and not text.startswith(("db load", "dut db load", "db bin")))
            line = None if self.in_download else text
        elif not (self.in_download and (text in _CHUNK_ACKS or text.startswith(("m-dut-passthrough(db ", "m-ack-")))):
            line = f"RX:{text}"
        else:
            line = None
        if line is not None:
            if self.holder:
                self.flush()
                self.holder[0].log(line)
            else:
                self.early.append(line)
            if self.console is not None:
                self.console.say(line)

    def flush(self) -> None:
        """The set-up exchange into the session log, once the session exists, before anything else."""
        for early in self.early:
            self.holder[0].log(early)
        self.early.clear()


def choose_download(client: DutClient, spec, *, direct: bool) -> dict:
    """Set up `client` for the fastest download the DUT and the path allow, and return the session
    manifest's record of it (docs/binary_download.md).

    On a direct link the DUT is asked `caps` (a reference DUT answers it as an unknown command):
    binary when it offers it and the config's `transfer` allows, otherwise hex in the largest chunk
    its command buffer takes, unless `chunk_bytes` forces a size. Behind an interface board lines are
    forwarded, not raw bytes, and the board's own buffers bound them: hex, sized from the config."""
    capabilities = client.capabilities() if direct else None
    if spec.chunk_bytes:
        client.chunk_bytes = spec.chunk_bytes
    elif capabilities is not None and capabilities.command_buffer:
        client.chunk_bytes = chunk_bytes_for(capabilities.command_buffer)
    offered = capabilities is not None and capabilities.binary_chunk > 0
    if spec.transfer == "binary" and direct and not offered:
        answer = capabilities.line if capabilities else "e-[Unknown command: caps]"
        raise HarnessError(f"dut.transfer is `binary`, but the DUT does not offer a binary download (its `caps` "
                           f"answer: {answer}); set `transfer: auto` or `hex`, or flash firmware built on "
                           "firmware/api with a binary chunk size (bin_chunk > 0)")
    client.binary_chunk = capabilities.binary_chunk if offered and spec.transfer != "hex" else 0
    return {"transfer": client.transfer,
            "chunk_bytes": client.binary_chunk if client.binary_chunk else client.chunk_bytes,
            "command_buffer": capabilities.command_buffer if capabilities and capabilities.command_buffer
            else spec.command_buffer,
            "path": "direct" if direct else "interface",
            "capabilities": capabilities.as_dict() if capabilities else None}


def _open_session(config, mode: str, identity, benchmark: str, *, out: Path, resume: Path | None) -> Session:
    """A new session folder, or the interrupted one being resumed: same config, DUT and mode."""
    if resume is None:
        return Session.create(new_session_dir(out, benchmark, mode), mode=mode, benchmark=benchmark,
                              config_raw=config.raw, fingerprint=config.fingerprint(),
                              config_source=str(config.source) if config.source else None)
    session = Session.resume(resume, fingerprint=config.fingerprint())
    previous = session.manifest.get("dut") or {}
    if previous and previous != {"name": identity.name, "profile": identity.profile, "model": identity.model}:
        session.close_quietly()
        raise SessionMismatch(f"{resume}: measured on DUT {previous}, but {identity} answers now; one session "
                              "never mixes two DUTs")
    if session.manifest.get("mode") != mode:
        session.close_quietly()
        raise SessionMismatch(f"{resume}: a {session.manifest.get('mode')} session cannot be resumed in {mode} mode")
    return session


def run(config, mode: str, *, out: Path, resume: Path | None = None, progress: Progress | None = None,
        faults=None) -> RunOutcome:
    """Measure `mode` and return the closed session. `faults` (a harness.virtual.faults.FaultPlan)
    is applied to the virtual line that carries the DUT's commands: for the fault-injection tests."""
    from harness.bench import open_bench

    progress = progress or Progress()
    holder: list[Session] = []
    with contextlib.ExitStack() as stack:
        # the transcript always goes to the session log; `echo` also prints it
        echo = _Echo(holder, progress if config.dut.echo else None)
        bench = stack.enter_context(open_bench(config, mode, faults=faults, listener=echo))
        dut_spec = config.dut
        use_interface = bench.interface is not None and (mode in THROUGH_INTERFACE or bench.dut_link is None)
        channel = bench.interface.channel if use_interface else DirectChannel(bench.dut_link)
        chunk = dut_spec.chunk_bytes or chunk_bytes_for(dut_spec.command_buffer)
        client = DutClient(channel, command_buffer=dut_spec.command_buffer, chunk_bytes=chunk,
                           command_timeout_s=config.timeouts.command_s, infer_timeout_s=config.timeouts.infer_s,
                           chunk_retries=config.retries.chunk, input_retries=config.retries.input,
                           verify_download=config.verify_download)
        identity = client.identify()
        download = choose_download(client, dut_spec, direct=not use_interface)
        config = config.for_model(identity.model)  # the DUT must run the config's model
        benchmark = config.benchmark or identity.model
        dataset_folder = bench.dataset_folder or config.dataset
        if dataset_folder is None:
            raise HarnessError("the config names no dataset folder (`dataset:`); a real DUT needs the "
                               "benchmark's inputs and their truth file")
        dataset = None if mode == "streaming" else Dataset(Path(dataset_folder), config.truth_file, identity.model)
        session = _open_session(config, mode, identity, benchmark, out=out, resume=resume)
        holder.append(session)
        echo.flush()
        session.manifest["dut"] = {"name": identity.name, "profile": identity.profile, "model": identity.model}
        session.manifest["devices"] = bench.describe()
        session.manifest["download"] = download
        session.save_manifest()
        session.log(f"Device model retrieved: {identity.model}")
        session.log(f"DUT name: {identity.name}; profile: {identity.profile}")
        ctx = RunContext(mode=mode, model=identity.model, dut=client, identity=identity, session=session,
                         spec=config.mode(mode), progress=progress, interface=bench.interface,
                         monitor=bench.monitor, voltage=config.monitor.voltage if config.monitor else None,
                         input_retries=config.retries.input, dataset_folder=Path(dataset_folder),
                         truth_file=config.truth_file)
        ctx.dataset = dataset
        try:
            lines = MODES[mode](ctx)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            session.manifest["notes"].append(f"{status}: {exc}")
            session.finish(status, None)
            raise
        finally:
            progress.stop()
        if ctx.download_seconds:
            session.manifest["download"]["payload_bytes"] = ctx.download_bytes
            session.manifest["download"]["payload_bytes_per_s"] = round(ctx.download_bytes / ctx.download_seconds, 1)
        session.finish("complete", lines)
        invalid = any("ERROR" in line for line in lines)
        return RunOutcome(session.directory, "complete", lines, invalid)
