"""The binary download (docs/binary_download.md) between harness.dut.DutClient and the virtual DUT
over a pty: `caps`, `db bin` with acknowledged chunks, the CRC-32 that keeps damaged bytes from the
model, the resync after a lost byte or acknowledgement, and the choice between binary and hex."""

from __future__ import annotations

import contextlib
import zlib

import numpy as np
import pytest

from harness.channel import DirectChannel
from harness.config import DeviceSpec
from harness.dut import DutClient, parse_capabilities
from harness.errors import HarnessError
from harness.run import choose_download
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.faults import ByteFaults, FaultPlan
from harness.virtual.models import BuiltinModel
from helpers.serial_doubles import pty_link

KWS = BuiltinModel("kws01")
# An input holding every byte value the text protocol treats specially: a terminator, line ends,
# NUL and 0xff, at chunk boundaries and inside chunks.
DATA = bytearray(KWS.prototype(5).astype(np.int8).tobytes())
for position, value in ((0, 0x25), (1, 0x0D), (2, 0x0A), (3, 0x00), (199, 0x25), (200, 0xFF), (489, 0x25)):
    DATA[position] = value
DATA = bytes(DATA)
EXPECTED = [float(f"{v:0.3f}") for v in KWS.run(DATA)]
HEADER = f"db bin 490 {zlib.crc32(DATA):08x}"
FIRST_DATA_BYTE = len(HEADER) + 1  # host-to-DUT offset of the input's first byte
CHUNK = 200


class SpyModel:
    """The model, recording every tensor the DUT runs it on."""

    def __init__(self, inner) -> None:
        self.inner, self.seen = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def run(self, tensor):
        self.seen.append(bytes(tensor))
        return self.inner.run(tensor)


@contextlib.contextmanager
def binary_dut(*, faults: FaultPlan | None = None, firmware: str = "submit", **client_kwargs):
    """A DutClient downloading in 200-byte binary chunks to a virtual kws01 DUT behind a pty; the
    transcript the harness logs, and the spy model."""
    clock, model = SimClock(), SpyModel(KWS)
    dut = VirtualDut(model, clock, firmware=firmware, binary_chunk=CHUNK, command_buffer=1028)
    with pty_link(dut, clock=clock, faults=faults) as (_, link):
        transcript: list[tuple[str, str]] = []
        link.listen(lambda direction, text: transcript.append((direction, text)))
        client_kwargs.setdefault("command_timeout_s", 0.3)
        client_kwargs.setdefault("infer_timeout_s", 1.0)
        client_kwargs.setdefault("binary_chunk", CHUNK)
        yield DutClient(DirectChannel(link), **client_kwargs), transcript, model


def sent(transcript) -> list[str]:
    return [text.removesuffix("%") for direction, text in transcript if direction == "tx"]


def received(transcript) -> list[str]:
    return [text for direction, text in transcript if direction == "rx"]


# ------------------------------------------------------------------------------- capabilities

@pytest.mark.parametrize("line, expected", [
    ("m-caps-[cmd=1028,db=490,bin=512]", (1028, 490, 512)),
    ("m-caps-[cmd=80,db=27648,bin=0]", (80, 27648, 0)),
    ("m-caps-[db=490,later=7,cmd=80]", (80, 490, 0)),  # unknown keys ignored, a missing bin is none
])
def test_capabilities_lines_are_read(line, expected):
    caps = parse_capabilities(line)
    assert (caps.command_buffer, caps.max_input, caps.binary_chunk) == expected


@pytest.mark.parametrize("line", ["m-caps-[cmd=80,db]", "m-caps-[cmd=-1]", "m-caps-[bin=1x]", "m-caps-cmd=80",
                                  "e-[Unknown command: caps]"])
def test_malformed_capabilities_lines_are_not_read(line):
    assert parse_capabilities(line) is None


def test_our_firmware_offers_binary_and_the_reference_answers_caps_harmlessly():
    with binary_dut() as (client, _, _):
        caps = client.capabilities()
        assert (caps.command_buffer, caps.max_input, caps.binary_chunk) == (1028, 490, CHUNK)
    with binary_dut(firmware="reference", binary_chunk=0) as (client, transcript, _):
        assert client.capabilities() is None
        assert client.identify().model == "kws01"  # the DUT answers on as before
    assert "e-[Unknown command: caps]" in received(transcript)


@pytest.mark.parametrize("firmware, transfer, direct, expected", [
    ("submit", "auto", True, ("binary", CHUNK)),
    ("submit", "hex", True, ("hex", 512)),  # the largest `db <hex>` chunk 1028 characters take
    ("submit", "auto", False, ("hex", 38)),  # behind a board: the config's buffer, no `caps`
    ("reference", "auto", True, ("hex", 38)),
])
def test_the_download_is_binary_when_offered_on_a_direct_link(firmware, transfer, direct, expected):
    spec = DeviceSpec(name="dut", kind="dut", transfer=transfer)
    with binary_dut(firmware=firmware, binary_chunk=0) as (client, transcript, _):
        record = choose_download(client, spec, direct=direct)
        assert (record["transfer"], record["chunk_bytes"]) == expected
        assert (client.transfer, client.binary_chunk or client.chunk_bytes) == expected
        client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert ("caps" in sent(transcript)) == direct


def test_binary_required_from_a_reference_dut_is_a_clear_error():
    spec = DeviceSpec(name="dut", kind="dut", transfer="binary")
    with binary_dut(firmware="reference", binary_chunk=0) as (client, _, _):
        with pytest.raises(HarnessError, match="does not offer a binary download.*transfer: auto"):
            choose_download(client, spec, direct=True)


# ------------------------------------------------------------------------------- downloads

def test_a_binary_download_reaches_the_model_byte_for_byte():
    with binary_dut() as (client, transcript, model):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert (stats.bytes, stats.chunks, stats.input_retries) == (490, 3, 0)
    assert model.seen == [DATA]
    assert sent(transcript)[0] == HEADER
    assert received(transcript)[:5] == ["m-[Expecting 490 bytes]", "m-ack-200", "m-ack-400", "m-load-done", "m-ready"]


def test_a_byte_corrupted_in_a_chunk_is_caught_by_the_crc_and_never_reaches_the_model():
    plan = FaultPlan(to_device=ByteFaults(corrupt_at={FIRST_DATA_BYTE + 300}))
    with binary_dut(faults=plan) as (client, transcript, model):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    mismatch = [line for line in received(transcript) if line.startswith("e-[CRC-32 mismatch")]
    assert len(mismatch) == 1 and f"expected {zlib.crc32(DATA):08x}" in mismatch[0]
    assert stats.input_retries == 1 and "CRC-32 mismatch" in stats.notes[0]
    assert sent(transcript).count(HEADER) == 2
    assert model.seen == [DATA]  # the damaged input was never run


@pytest.mark.parametrize("offset", [0, 150, 210, 489])
def test_a_byte_lost_in_a_chunk_is_resynced_and_the_input_sent_again(offset):
    """The DUT waits for a byte that never comes: the host's acknowledgement wait times out, filler
    spaces and a `%` bring the DUT back to commands, and the input goes again."""
    plan = FaultPlan(to_device=ByteFaults(drop_at={FIRST_DATA_BYTE + offset}))
    with binary_dut(faults=plan) as (client, transcript, model):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
        assert client.identify().model == "kws01"  # in step: every answer pairs with its command
    assert stats.input_retries == 1
    assert any(text.startswith("[") and "filler spaces" in text for text in sent(transcript))
    assert model.seen == [DATA]


class DamagedAckDut(VirtualDut):
    """Its first chunk acknowledgement loses a character on the wire."""

    damaged = False

    def _line(self, text: str) -> None:
        if text.startswith("m-ack-") and not self.damaged:
            self.damaged, text = True, "m-ak-" + text[len("m-ack-"):]
        super()._line(text)


def test_a_damaged_acknowledgement_is_resynced_and_the_input_sent_again():
    clock, model = SimClock(), SpyModel(KWS)
    dut = DamagedAckDut(model, clock, firmware="submit", binary_chunk=CHUNK)
    with pty_link(dut, clock=clock) as (_, link):
        client = DutClient(DirectChannel(link), command_timeout_s=0.3, binary_chunk=CHUNK)
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
        assert client.identify().model == "kws01"
    assert dut.damaged and stats.input_retries == 1 and model.seen == [DATA]


def test_a_reset_in_the_middle_of_a_binary_download_sends_the_input_again():
    # the FaultPlan counts every `%` reaching the DUT as a command: the header is the first, the
    # `%` at DATA[199] the third, in the middle of the download
    with binary_dut(faults=FaultPlan(reset_at_command=3)) as (client, _, model):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert stats.input_retries == 1 and "rebooted" in stats.notes[0]
    assert model.seen == [DATA]


def test_an_input_the_dut_refuses_ends_the_download_with_its_answer():
    with binary_dut() as (client, transcript, _):
        with pytest.raises(HarnessError, match="takes 1 to 490 bytes"):
            client.load(bytes(491))
    assert sent(transcript).count(f"db bin 491 {zlib.crc32(bytes(491)):08x}") == 3  # the input attempts


def test_a_port_with_binary_switched_off_refuses_db_bin():
    clock = SimClock()
    dut = VirtualDut(KWS, clock, firmware="submit", binary_chunk=0)
    with pty_link(dut, clock=clock) as (_, link):
        client = DutClient(DirectChannel(link), command_timeout_s=0.3, binary_chunk=CHUNK)
        assert client.capabilities().binary_chunk == 0
        with pytest.raises(HarnessError, match="Binary download is disabled"):
            client.load(DATA)
