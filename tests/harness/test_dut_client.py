"""harness.dut.DutClient against the virtual DUT over a pty (protocol.md 1.3, 1.4, 2.2, 8) and
against scripted DUTs: identify with retries, downloads with the retry policy of the module
docstring (a chunk the DUT provably did not store is sent again; anything else redoes the whole
input), verify_download, infer parsing with lap wrap, and refusing damaged results lines."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import pytest

from harness.channel import DirectChannel
from harness.dut import (
    COUNTER_WRAP,
    DutClient,
    DutIdentity,
    InferReply,
    chunk_bytes_for,
    parse_results,
    results_shape,
)
from harness.errors import DeviceReset, DeviceTimeout, DutCommandError, GarbledReply, HarnessError
from harness.virtual.clock import SimClock, uart_time_us
from harness.virtual.dut import INFER_COST_US, VirtualDut
from harness.virtual.faults import ByteFaults, FaultPlan
from harness.virtual.models import BuiltinModel
from helpers.serial_doubles import RecordingChannel, ScriptedDevice, pty_link

KWS = BuiltinModel("kws01")
DATA = KWS.prototype(3).astype(np.int8).tobytes()  # 490 bytes the model calls class 3
EXPECTED = [float(f"{v:0.3f}") for v in KWS.run(DATA)]
HEX = DATA.hex()
# Host-to-DUT byte offsets of a direct download with the default 38-byte chunks:
# "db load 490%" is bytes 0-11, chunk 1 ("db " + 76 hex + "%") 12-91, chunk 2 starts at 92.
CHUNK2 = 92
CHUNK2_HEX = CHUNK2 + 3


@contextlib.contextmanager
def virtual(*, faults: FaultPlan | None = None, clock: SimClock | None = None, dut_kwargs: dict | None = None,
            **client_kwargs):
    """A DutClient on a recording channel to a booted virtual kws01 DUT behind a pty."""
    clock = clock or SimClock()
    dut = VirtualDut(KWS, clock, **(dut_kwargs or {}))
    with pty_link(dut, clock=clock, faults=faults) as (device, link):
        channel = RecordingChannel(DirectChannel(link))
        client_kwargs.setdefault("command_timeout_s", 0.3)
        client_kwargs.setdefault("infer_timeout_s", 1.0)
        yield DutClient(channel, **client_kwargs), channel, device


@contextlib.contextmanager
def scripted(replies: dict, **client_kwargs):
    device = ScriptedDevice(replies)
    with pty_link(device) as (_, link):
        client_kwargs.setdefault("command_timeout_s", 0.3)
        client_kwargs.setdefault("infer_timeout_s", 0.3)
        yield DutClient(DirectChannel(link), **client_kwargs), device


def seed_turning(char: str, wanted) -> int:
    """A fault seed whose first corruption mask turns `char` into a byte `wanted` accepts
    (harness.virtual.faults: one `randrange(1, 256)` per corrupted byte, seeded per direction)."""
    for seed in range(10_000):
        mask = random.Random(f"{seed}:to_device").randrange(1, 256)
        if wanted(ord(char) ^ mask):
            return seed
    raise AssertionError("no seed found")


def infer_reply(values: str, *, n: int = 1, laps: tuple[int, ...] = (1000, 2000)) -> bytes:
    lines = ["m-warmup-start-0", "m-warmup-done", f"m-infer-start-{n}", *(f"m-lap-us-{t}" for t in laps),
             "m-infer-done", f"m-results-[{values}]", "m-ready"]
    return "".join(line + "\r\n" for line in lines).encode()


# ------------------------------------------------------------------------------- pure helpers


def test_chunk_bytes_fit_the_command_buffer():
    assert chunk_bytes_for(80) == 38  # "db " + 76 hex = 79 characters
    assert chunk_bytes_for(81) == 39
    assert chunk_bytes_for(1028) == 512
    assert chunk_bytes_for(2) == 1
    with pytest.raises(HarnessError, match="cannot hold a db chunk"):
        DutClient(channel=None, command_buffer=4)
    assert DutClient(channel=None, command_buffer=4, chunk_bytes=31).chunk_bytes == 31  # the config's word


@pytest.mark.parametrize("line, values", [
    ("m-results-[0.000,0.996,0.004]", [0.0, 0.996, 0.004]),
    ("m-results-[11.772]", [11.772]),
    ("m-results-[-1.250,2.500]", [-1.25, 2.5]),
])
def test_parse_results_reads_reference_lines(line, values):
    assert parse_results(line) == values


@pytest.mark.parametrize("line", [
    "m-results-[0.000,0.996", "m-results-[]", "m-results-[0.0000.996,0.004]", "m-results-[0.000,,0.004]",
    "m-results-[0.000,0.99x]", "m-results-[nan]", "m-results-[1e-3]", "m-results-[.5]", "m-results-[5.]",
    "xm-results-[0.5]", "m-results-[0.5] ", "m-result-[0.5]", "m-results-[0,1]",
])
def test_parse_results_refuses_anything_else(line):
    assert parse_results(line) is None


def test_results_shape_counts_values_and_decimals():
    assert results_shape("m-results-[0.000,0.996,0.004]") == (3, frozenset({3}))
    assert results_shape("m-results-[0.000,0.96]") == (2, frozenset({2, 3}))


def test_elapsed_unwraps_a_32_bit_counter():
    reply = InferReply(10, 0, [], [COUNTER_WRAP - 1_000, 500], [0.5])
    assert reply.elapsed_us == 1_500
    assert InferReply(10, 0, [], [7, 7], [0.5]).elapsed_us == 0
    assert InferReply(10, 0, [], [42], [0.5]).elapsed_us is None
    assert InferReply(10, 0, [], [], [0.5]).elapsed_us is None


# ------------------------------------------------------------------------------- identify


def test_identify_the_virtual_dut():
    with virtual() as (client, channel, _):
        identity = client.identify()
    assert identity == DutIdentity(name="virtual", profile="ULPMark for tinyML Firmware V0.0.1", model="kws01")
    assert channel.commands == ["name", "profile"]


def test_identify_retries_a_name_damaged_on_its_way():
    """A dropped byte turns `name` into `nme`: the DUT's `e-[Unknown command: nme]` is a failed
    attempt, retried like a missing answer (the runner retries 3 times)."""
    with virtual(faults=FaultPlan(to_device=ByteFaults(drop_at={1}))) as (client, channel, device):
        assert client.identify().name == "virtual"
    assert channel.commands == ["name", "name", "profile"]
    assert device.fault_counts()["to_device_dropped"] == 1


def test_identify_retries_after_a_reset():
    with virtual(faults=FaultPlan(reset_at_command=2)) as (client, channel, _):
        assert client.identify().model == "kws01"
    assert channel.commands == ["name", "profile", "profile"]


def test_identify_gives_up_after_three_bad_answers():
    with scripted({"name": b"m-name-dut-[unterminated\r\nm-ready\r\n"}) as (client, device):
        with pytest.raises(GarbledReply, match="the expected line is missing"):
            client.identify()
    assert device.commands == ["name"] * 3


def test_identify_needs_the_model_line():
    replies = {"name": b"m-name-dut-[x]\r\nm-ready\r\n", "profile": b"m-profile-[fw]\r\nm-ready\r\n"}
    with scripted(replies) as (client, device):
        with pytest.raises(GarbledReply, match="no m-model"):
            client.identify()
    assert device.commands == ["name", "profile"]


def test_identify_retries_a_profile_answer_without_profile_lines():
    replies = {"name": b"m-name-dut-[x]\r\nm-ready\r\n",
               "profile": [b"m-prof\xffle-[fw]\r\nm-ready\r\n", b"m-profile-[fw]\r\nm-model-[ad01]\r\nm-ready\r\n"]}
    with scripted(replies) as (client, device):
        assert client.identify() == DutIdentity("x", "fw", "ad01")
    assert device.commands == ["name", "profile", "profile"]


def test_identify_of_a_silent_dut_times_out_after_its_attempts():
    with scripted({}) as (client, device):
        with pytest.raises(DeviceTimeout):
            client.identify(attempts=2)
    assert device.commands == ["name", "name"]


# ------------------------------------------------------------------------------- download


def test_load_and_infer_give_the_models_answer():
    with virtual() as (client, channel, _):
        stats = client.load(DATA)
        reply = client.infer(10, 1)
    assert (stats.bytes, stats.chunks, stats.chunk_retries, stats.input_retries) == (490, 13, 0, 0)
    assert stats.seconds > 0 and stats.notes == []
    sent = channel.commands
    assert sent[0] == "db load 490" and sent[-1] == "infer 10 1"
    chunks = sent[1:-1]
    assert "".join(c[3:] for c in chunks) == HEX  # lowercase hex, in order, nothing twice
    assert max(len(c) for c in chunks) == 79 <= 80
    assert reply.results == EXPECTED and max(range(12), key=lambda i: EXPECTED[i]) == 3
    assert reply.iterations == 10 and reply.warmups == 1 and len(reply.laps_us) == 2
    lap_line = len(f"m-lap-us-{reply.laps_us[0]}\r\n")
    assert abs(reply.elapsed_us - (10 * INFER_COST_US["kws01"] + uart_time_us(lap_line, 115200))) <= 1


@pytest.mark.parametrize("buffer, chunk, longest", [(40, None, 39), (80, 31, 65), (1028, None, 983)])
def test_chunk_commands_respect_the_configured_size(buffer, chunk, longest):
    dut_kwargs = {"command_buffer": max(buffer, 80)}
    with virtual(command_buffer=buffer, chunk_bytes=chunk, dut_kwargs=dut_kwargs) as (client, channel, _):
        client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert max(len(c) for c in channel.commands if c.startswith("db ") and "load" not in c) == longest


@pytest.mark.parametrize("offset, error", [(CHUNK2_HEX, "e-[Insufficent number of hex digits]"),
                                           (CHUNK2, "e-[Unknown command: b]")])
def test_a_chunk_the_dut_provably_did_not_store_is_sent_again(offset, error):
    plan = FaultPlan(to_device=ByteFaults(drop_at={offset}))
    with virtual(faults=plan) as (client, channel, _):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED  # nothing stored twice, nothing missing
    assert (stats.chunk_retries, stats.input_retries, stats.chunks) == (1, 0, 14)
    assert channel.commands[2] == channel.commands[3] == "db " + HEX[76:152]
    assert channel.commands.count("db load 490") == 1


def test_a_lost_acknowledgement_redoes_the_whole_input():
    """The DUT stores chunk 2 but its m-ready never arrives: re-sending the chunk could store it
    twice, so the whole input starts again from `db load`, which rewinds the DUT's buffer."""
    plan = FaultPlan(stall_at_command=3, stall_s=0.0)  # 1 db load, 2 chunk 1, 3 chunk 2: answer lost
    with virtual(faults=plan) as (client, channel, _):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert (stats.input_retries, stats.chunk_retries) == (1, 0)
    assert channel.commands.count("db load 490") == 2
    assert channel.commands[3] == "db load 490"  # right after the chunk whose answer was lost
    assert len(stats.notes) == 1 and "input resent after" in stats.notes[0] and "no complete answer" in stats.notes[0]


def test_an_invalid_hex_pair_redoes_the_whole_input():
    """`e-[Invalid hex digit 'XY']`: the reference stored the pairs before it, so the chunk
    cannot simply be sent again."""
    seed = seed_turning(HEX[76], lambda b: chr(b) not in "0123456789abcdefABCDEF% \0" and b < 128)
    plan = FaultPlan(seed=seed, to_device=ByteFaults(corrupt_at={CHUNK2_HEX}))
    with virtual(faults=plan) as (client, channel, _):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert (stats.input_retries, stats.chunk_retries) == (1, 0)
    assert "Invalid hex digit" in stats.notes[0]


def valid_other_digit(original: str):
    return lambda b: chr(b) in "0123456789abcdef" and chr(b) != original


def test_a_hex_digit_corrupted_into_another_goes_unseen_without_verify():
    seed = seed_turning(HEX[76], valid_other_digit(HEX[76]))
    plan = FaultPlan(seed=seed, to_device=ByteFaults(corrupt_at={CHUNK2_HEX}))
    with virtual(faults=plan) as (client, _, _):
        stats = client.load(DATA)
        buffer = client.command("db print")
    assert stats.input_retries == 0
    echoed = bytes.fromhex("".join(line[len("m-buffer-"):].replace("-", "") for line in buffer
                                   if line.startswith("m-buffer-")))
    assert echoed != DATA and sum(a != b for a, b in zip(echoed, DATA)) == 1  # the DUT holds a wrong byte


def test_verify_download_catches_a_hex_digit_corrupted_into_another():
    seed = seed_turning(HEX[76], valid_other_digit(HEX[76]))
    plan = FaultPlan(seed=seed, to_device=ByteFaults(corrupt_at={CHUNK2_HEX}))
    with virtual(faults=plan, verify_download=True) as (client, channel, _):
        stats = client.load(DATA)
        reply = client.infer(1, 0)
    assert stats.input_retries == 1 and "differs from the input sent" in stats.notes[0]
    assert channel.commands.count("db print") == 2
    assert reply.results == EXPECTED
    assert channel.commands[-1] == "results"  # verify also reads the results a second time


def test_chunks_longer_than_the_dut_buffer_are_truncated_by_it_and_never_stored():
    """A configuration that claims a larger buffer than the firmware has: the reference keeps
    the first 80 characters, so every chunk is refused and the download fails loudly."""
    with virtual(command_buffer=1028) as (client, _, _):
        with pytest.raises(HarnessError, match="Insufficent number of hex digits"):
            client.load(DATA)


def test_an_oversize_input_is_refused_after_the_input_attempts():
    with virtual() as (client, channel, _):
        with pytest.raises(HarnessError, match="491-byte input could not be downloaded in 3 attempts.*Expecting"):
            client.load(DATA + b"\0")
    assert channel.commands == ["db load 491"] * 3


def test_a_chunk_refused_every_time_ends_the_download():
    replies = {"db load 4": b"m-[Expecting 4 bytes]\r\nm-ready\r\n",
               "db 00010203": b"e-[Insufficent number of hex digits]\r\nm-ready\r\n"}
    with scripted(replies, chunk_retries=2, input_retries=2) as (client, device):
        with pytest.raises(HarnessError, match="4-byte input could not be downloaded in 2 attempts.*Insufficent"):
            client.load(bytes([0, 1, 2, 3]))
    assert device.commands == ["db load 4"] + ["db 00010203"] * 3 + ["db load 4"] + ["db 00010203"] * 3


@pytest.mark.parametrize("first, last", [
    (b"m-load-done\r\nm-ready\r\n", b"m-load-done\r\nm-ready\r\n"),  # done too early
    (b"m-ready\r\n", b"m-ready\r\n"),  # never done
    (b"m-ready\r\n", b"m-buffer-00\r\nm-load-done\r\nm-ready\r\n"),  # a foreign line
])
def test_an_acknowledgement_that_does_not_match_the_chunk_redoes_the_input(first, last):
    data = bytes(range(50))  # two chunks: 38 + 12 bytes
    replies = {"db load 50": b"m-[Expecting 50 bytes]\r\nm-ready\r\n",
               "db " + data[:38].hex(): first, "db " + data[38:].hex(): last}
    with scripted(replies) as (client, device):
        with pytest.raises(HarnessError, match="does not match the chunk"):
            client.load(data)
    assert device.commands.count("db load 50") == 3


def test_a_reset_during_the_download_redoes_the_input():
    with virtual(faults=FaultPlan(reset_at_command=5)) as (client, channel, _):
        stats = client.load(DATA)
        assert client.infer(1, 0).results == EXPECTED
    assert stats.input_retries == 1 and "rebooted" in stats.notes[0]
    assert channel.commands.count("db load 490") == 2


# ------------------------------------------------------------------------------- infer


def test_lap_values_that_wrap_at_2_to_the_32_still_give_the_elapsed_time():
    clock = SimClock(start_us=COUNTER_WRAP - 100_000)
    with virtual(clock=clock) as (client, _, _):
        reply = client.infer(10, 0)
    t0, t1 = reply.laps_us
    assert t1 < t0 and t0 > COUNTER_WRAP - 100_000  # the counter wrapped between the two stamps
    lap_line = len(f"m-lap-us-{t0}\r\n")
    assert abs(reply.elapsed_us - (10 * INFER_COST_US["kws01"] + uart_time_us(lap_line, 115200))) <= 1


def test_infer_in_energy_mode_has_no_laps():
    with virtual(dut_kwargs={"energy_mode": True}) as (client, _, _):
        reply = client.infer(5, 0, expect_laps=False)
        assert reply.laps_us == [] and reply.elapsed_us is None
        with pytest.raises(GarbledReply, match="0 m-lap-us lines instead of 2"):
            client.infer(5, 0)


def test_an_error_answer_to_infer_is_a_command_error():
    with virtual() as (client, _, _):
        with pytest.raises(DutCommandError) as caught:
            client.infer(0, 0)
        assert caught.value.error == "e-[Inference iterations must be >0]"
        with pytest.raises(DutCommandError, match="e-\\[Unknown command: bogus\\]"):
            client.command("bogus")
        assert client.command("name")[-1] == "m-ready"  # still in step


def test_a_reset_mid_infer_is_a_reset_and_the_dut_answers_afterwards():
    banner = b"m-timestamp-mode-performance\r\nm-lap-us-0\r\nm-init-done\r\nm-ready\r\n"
    replies = {"infer 10 1": b"m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-10\r\nm-lap-us-77\r\n" + banner,
               "name": b"m-name-dut-[x]\r\nm-ready\r\n"}
    with scripted(replies) as (client, _):
        with pytest.raises(DeviceReset) as caught:
            client.infer(10, 1)
        assert "m-lap-us-77" in caught.value.lines
        assert client.command("name") == ["m-name-dut-[x]", "m-ready"]


def test_a_virtual_dut_reset_on_the_infer_command():
    with virtual(faults=FaultPlan(reset_at_command=1)) as (client, _, _):
        with pytest.raises(DeviceReset):
            client.infer(10, 1)
        assert client.infer(10, 1).iterations == 10


def test_infer_without_m_ready_times_out():
    reply = infer_reply("0.500,0.500").replace(b"m-ready\r\n", b"")
    with scripted({"infer 1 0": reply}) as (client, _):
        with pytest.raises(DeviceTimeout) as caught:
            client.infer(1, 0)
    assert caught.value.last_line == "m-results-[0.500,0.500]"


@pytest.mark.parametrize("values", ["0.000,0.96,0.004", "0.00,0.996,0.004"])
def test_a_results_line_with_a_dropped_digit_is_refused_even_first(values):
    good = infer_reply("0.000,0.996,0.004")
    with scripted({"infer 1 0": [infer_reply(values), good]}) as (client, _):
        with pytest.raises(GarbledReply, match="mixes values with \\[2, 3\\] decimals"):
            client.infer(1, 0)
        assert client.infer(1, 0).results == [0.0, 0.996, 0.004]  # the damaged line set no standard
        assert client.results_shape == (3, frozenset({3}))


def test_a_results_line_unlike_the_earlier_ones_is_refused():
    replies = {"infer 1 0": [infer_reply("11.772"), infer_reply("11.72"), infer_reply("11.772,0.000"),
                             infer_reply("12.001")]}
    with scripted(replies) as (client, _):
        assert client.infer(1, 0).results == [11.772]
        with pytest.raises(GarbledReply, match="1 values with \\[2\\] decimals, earlier ones 1 with \\[3\\]"):
            client.infer(1, 0)
        with pytest.raises(GarbledReply, match="2 values"):
            client.infer(1, 0)
        assert client.infer(1, 0).results == [12.001]


@pytest.mark.parametrize("reply, problem", [
    (infer_reply("0.0000.996,0.004"), "0 readable m-results lines instead of 1"),
    (infer_reply("0.500,0.500").replace(b"m-results-[0.500,0.500]\r\n",
                                        b"m-results-[0.500,0.500]\r\nm-results-[0.500,0.500]\r\n"),
     "2 readable m-results lines"),
    (infer_reply("0.500,0.500").replace(b"m-infer-done\r\n", b"m-infer-dxne\r\n"), "m-infer-done missing"),
    (infer_reply("0.500,0.500").replace(b"m-infer-start-1\r\n", b"m-infer-start-7\r\n"), "m-infer-start"),
    (infer_reply("0.500,0.500", laps=(1000,)), "1 m-lap-us lines instead of 2"),
    (infer_reply("0.500,0.500", laps=(1000, 2000, 3000)), "3 m-lap-us lines instead of 2"),
    (infer_reply("0.500,0.500").replace(b"m-lap-us-2000", b"m-lap-us-2O00"), "1 m-lap-us lines"),
])
def test_damaged_infer_answers_are_refused(reply, problem):
    with scripted({"infer 1 0": reply}) as (client, _):
        with pytest.raises(GarbledReply) as caught:
            client.infer(1, 0)
    assert problem in str(caught.value)
    assert caught.value.command == "infer 1 0"


def test_verify_reads_the_results_again_and_refuses_a_difference():
    replies = {"infer 1 0": infer_reply("0.250,0.750"),
               "results": [b"m-results-[0.250,0.750]\r\nm-ready\r\n", b"m-results-[0.250,0.150]\r\nm-ready\r\n"]}
    with scripted(replies, verify_download=True) as (client, device):
        assert client.infer(1, 0).results == [0.25, 0.75]
        with pytest.raises(GarbledReply, match="reading the results again gave other values"):
            client.infer(1, 0)
    assert device.commands == ["infer 1 0", "results", "infer 1 0", "results"]


def test_timestamp_command():
    with virtual() as (client, _, _):
        lines = client.timestamp()
    assert lines[0].startswith("m-lap-us-") and lines[-1] == "m-ready"
