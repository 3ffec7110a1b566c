"""Download speed of `submit run`: accuracy-mode input downloads to a virtual DUT whose UART is
paced in real time at 115200 baud, with our hex chunking (the largest `db` command the DUT's
80-character buffer takes: 38 bytes) and with the MLCommons runner's (31 bytes per command).

    python benchmarks/bench_harness.py [--quick]

The hex `db` protocol's limit at a baud rate: every command waits for its acknowledgement
(`m-[Expecting N bytes]`, `m-ready`, `m-load-done`: the DUT services no command while it answers),
so the line carries one direction at a time and the fastest possible download is the payload
divided by the time the exchange's bytes, both ways, take on the wire (10 bit times each, 8N1).
The bytes are counted on the link, so

    fraction of the limit = (bytes sent + bytes received) x 10 / baud / elapsed

is the share of the time the line was busy; what is missing is turnaround, the host's and the
(virtual) DUT's. Target: >= 85 %. The share of the wire (payload / (baud / 10)) and of the
hex-character limit (payload as hex in whole commands, acknowledgements not counted) are printed
too, for comparison with figures quoted that way.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.channel import DirectChannel
from harness.dut import DutClient, chunk_bytes_for
from harness.transport import SerialLink
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.models import BuiltinModel, synthetic_dataset
from harness.virtual.pty import PtyDevice

BAUD = 115200
COMMAND_BUFFER = 80
MLCOMMONS_CHUNK = 31  # benchmark/runner device_under_test.py: _max_bytes = 31 without a power manager
TARGET = 0.85


def hex_characters_limit(baud: int, chunk: int) -> float:
    """Payload B/s if the wire carried nothing but `db <hex>%` commands, acknowledgements free."""
    return baud / 10 * chunk / (len("db ") + 2 * chunk + len("%"))


def download(model_id: str, inputs: list[bytes], chunk: int) -> tuple[float, int, int]:
    """Seconds, payload bytes and wire bytes (both ways) to load every input once, paced at BAUD."""
    clock = SimClock()
    with PtyDevice(VirtualDut(BuiltinModel(model_id), clock), clock=clock, baud=BAUD, pace=True) as device:
        device.drain()
        with SerialLink(device.port, BAUD, name="DUT") as link:
            link.drain(0.2)  # the boot banner
            client = DutClient(DirectChannel(link), command_buffer=COMMAND_BUFFER, chunk_bytes=chunk)
            before = link.counters.tx_bytes + link.counters.rx_bytes
            started = time.perf_counter()
            for data in inputs:
                client.load(data)
            seconds = time.perf_counter() - started
            wire = link.counters.tx_bytes + link.counters.rx_bytes - before
            return seconds, sum(len(d) for d in inputs), wire


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the inputs")
    args = parser.parse_args()
    ours = chunk_bytes_for(COMMAND_BUFFER)
    wire_rate = BAUD / 10
    print(f"{BAUD} baud, 8N1: the wire carries {wire_rate:.0f} B/s")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for model_id, count in (("kws01", 200), ("ic01", 50)):
            count = max(2, count // 10) if args.quick else count
            folder = synthetic_dataset(model_id, Path(tmp) / model_id, count)
            inputs = [p.read_bytes() for p in sorted(folder.glob("*.bin"))]
            for label, chunk in (("ours", ours), ("MLCommons", MLCOMMONS_CHUNK)):
                seconds, payload, wire = download(model_id, inputs, chunk)
                rate = payload / seconds
                limit = payload * wire_rate / wire
                share = rate / limit
                print(f"{model_id} x{count:<4} {label:<9} {chunk} B/cmd: {payload:>7} B in {seconds:6.2f} s = "
                      f"{rate:5.0f} B/s; protocol limit {limit:5.0f} B/s -> {100 * share:5.1f} %; "
                      f"{100 * rate / wire_rate:4.1f} % of the wire; "
                      f"{100 * rate / hex_characters_limit(BAUD, chunk):4.1f} % of the hex-character limit")
                if chunk == ours and share < TARGET:
                    ok = False
    print(f"target: our hex mode >= {TARGET:.0%} of the protocol limit: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
