"""Property tests (hypothesis) for every log parser.

The parsers and what they may raise:
* eembc_log.parse_eembc_log, results_txt.parse_results_txt, mlc_results_json.parse_mlc_results_json:
  nothing; a file they cannot read becomes a ParseProblem (or is tolerated line by line).
* script_async.parse_script_async: ScriptProblem only.

Inputs: arbitrary bytes; logs assembled line by line from real token fragments (with an oracle
that says what the parser must find); truncations of a real log at every position; repeated result
blocks; JSON of the right and of the wrong shape for results.json; JavaScript for script.async.

Bugs these tests found were kept as strict xfails until fixed, each with its minimal input as an
@example (see "Known bugs" at the end of each section); the suite stays green until they are fixed,
and then the xfail must go.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers.shared import shared_path
from submission_tools.logs.eembc_log import lap_span, parse_eembc_log
from submission_tools.logs.mlc_results_json import parse_mlc_results_json
from submission_tools.logs.results_txt import parse_results_txt
from submission_tools.logs.script_async import ScriptProblem, ScriptStep, parse_script_async
from submission_tools.runmodel import Claims, Printed, Run

FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(FUZZ, max_examples=25)
WRAP = 1 << 32


def eembc_run() -> Run:
    return Run(mode="performance", runner="eembc")


def mlc_run() -> Run:
    return Run(mode="performance", runner="mlc")


# A real log, cut from v1.1/closed/Skymizer/results/NUCLEO_L4R5ZI-zephyr/vww/performance/log.txt (two of
# its five windows and the end), plus an AD window with an offset and a Windows path with spaces.
REAL_LOG = b"""\
00009.938 session: m-session-start-id[20230517110132]
00009.938 parser: m-bmark-run-name[ML Performance 1.0.1]-code[ulp-mlperf]
00009.946 sequencer: m-sequencer-start
00009.946 sequencer: m-sequencing-i[1]-command[version]-ack[/parser: m-ready/]-ms[5000]-acc[0]-total_ms[2231840]
00009.946 parser: Command "version"
00009.947 parser: m-version[3.0.10]
00009.947 parser: m-ready-finished[version]
00009.947 sequencer: m-sequencing-i[2]-command[bm cfg ulp-mlperf]-ack[/parser: m-ready/]-ms[5000]-acc[5000]-total_ms[2231840]
00009.947 parser: Command "bm cfg ulp-mlperf"
00010.449 parser: m-bm-cfg-name[ulp-mlperf]-key[iterWarmup]-val[1]
00010.449 parser: m-bm-cfg-name[ulp-mlperf]-key[iterInfer]-val[80]
00010.450 parser: m-bm-cfg-name[ulp-mlperf]-key[runMode]-val[bmark]
00010.450 parser: m-bm-cfg-name[ulp-mlperf]-key[model]-val[vww01]
00010.450 parser: m-ready-finished[bm]
00010.450 sequencer: m-sequencing-i[3]-command[dut profile]-ack[/dut: m-ready/]-ms[5000]-acc[10000]-total_ms[2231840]
00010.451 parser: Command "dut profile"
00010.451 parser: m-ready-finished[dut]
00010.457 dut: m-profile-[ULPMark for tinyML Firmware V0.0.1]
00010.459 dut: m-model-[vww01]
00010.460 dut: m-ready
00010.461 parser: Command "dut timestamp"
00010.461 parser: m-ready-finished[dut]
00010.465 dut: m-lap-us-14810000
00010.466 dut: m-ready
00010.466 sequencer: m-sequencing-i[5]-command[bload dut "/root/eembc/runner/benchmarks/ulp-mlperf/datasets/vww01/000000343218.bin"]-ack[/parser: m-ready/]-ms[442368]-acc[20000]-total_ms[2231840]
00010.467 parser: Command "bload dut "/root/eembc/runner/benchmarks/ulp-mlperf/datasets/vww01/000000343218.bin""
00010.468 parser: File size is 27648, loading...
00010.468 parser: m-mute-target[dut]
00018.065 parser: m-unmute-target[dut]
00018.066 parser: m-bload-done
00018.067 sequencer: m-sequencing-i[6]-command[dut infer 80 1]-ack[/dut.?: m-ready/]-ms[-1]-acc[462368]-total_ms[2231840]
00018.067 parser: Command "dut infer 80 1"
00018.067 parser: m-ready-finished[dut]
00018.073 dut: m-warmup-start-1
00018.271 dut: m-warmup-done
00018.273 dut: m-infer-start-80
00018.274 dut: m-lap-us-22629000
00034.080 dut: m-lap-us-38453000
00034.081 dut: m-infer-done
00034.082 dut: m-results-[0,127]
00034.083 dut: m-ready
00034.083 parser: Command "bload dut "/root/eembc/runner/benchmarks/ulp-mlperf/datasets/vww01/000000332570.bin""
00034.084 parser: m-mute-target[dut]
00041.670 parser: m-bload-done
00041.671 parser: Command "dut infer 80 1"
00041.676 dut: infer 80 1%m-warmup-start-1
00041.875 dut: m-warmup-done
00041.877 dut: m-infer-start-80
00041.878 dut: m-lap-us-4294000000
00057.685 dut: m-lap-us-15000000
00057.686 dut: m-infer-done
00057.688 dut: m-results-[-1.812,1.753,]
00057.689 dut: m-ready
00057.700 parser: Command "bload dut "C:\\Users\\mahdi chtourou\\eembc\\ad01\\normal_id_01_00000003_hist_librosa.bin" 512 2560"
00057.701 parser: m-bload-done
00057.702 parser: Command "dut infer 1 0"
00057.703 dut: m-infer-start-1
m-lap-us-32103051
00057.750 io: m-lap-us-99
00057.751 dut: m-lap-us-32150000
00057.752 dut: m-infer-done
00057.753 io: [dut]: Type errorm-results-[11.772]
00128.133 sequencer: m-sequencer-stop
00128.135 session: m-session-stop-id[20230517110132]
"""

REAL_RESULTS = b"""\
00112.406 ulp-mlperf: Performance results for window 2:
00112.407 ulp-mlperf:   # Inferences :         2000
00112.407 ulp-mlperf:   Runtime      :       12.582 sec.
00112.407 ulp-mlperf:   Throughput   :      158.957 inf./sec.
00112.407 ulp-mlperf: Runtime requirements have been met.
00112.407 ulp-mlperf: Performance results for window 4:
00112.407 ulp-mlperf:   # Inferences :         2000
00112.407 ulp-mlperf:   Runtime      :       12.581 sec.
00112.407 ulp-mlperf:   Throughput   :      158.970 inf./sec.
00112.407 ulp-mlperf: Runtime requirements have been met.
00112.407 ulp-mlperf: Performance results for window 6:
00112.407 ulp-mlperf:   # Inferences :         2000
00112.407 ulp-mlperf:   Runtime      :       12.575 sec.
00112.417 ulp-mlperf:   Throughput   :      159.046 inf./sec.
00112.417 ulp-mlperf: Runtime requirements have been met.
00112.417 ulp-mlperf: Performance results for window 8:
00112.418 ulp-mlperf:   # Inferences :         2000
00112.418 ulp-mlperf:   Runtime      :       12.577 sec.
00112.418 ulp-mlperf:   Throughput   :      159.020 inf./sec.
00112.418 ulp-mlperf: Runtime requirements have been met.
00112.418 ulp-mlperf: Performance results for window 10:
00112.418 ulp-mlperf:   # Inferences :         2000
00112.418 ulp-mlperf:   Runtime      :       12.577 sec.
00112.418 ulp-mlperf:   Throughput   :      159.020 inf./sec.
00023.728 ulp-mlperf: e-[The run must take at least 10 seconds and 10 iterations to be valid]
00112.418 ulp-mlperf: ---------------------------------------------------------
00112.418 ulp-mlperf: Median throughput is 159.020 inf./sec.
00112.419 ulp-mlperf: ---------------------------------------------------------
00112.419 ulp-mlperf: Cannot compute accuracy metrics in single-run mode.
"""

REAL_ENERGY_RESULTS = b"""\
00539.187 ulp-ml: Energy data for window 2 at time 86.86 for 15.72 sec.:
00539.187 ulp-ml:   Energy       :   830554.390 uJ
00539.187 ulp-ml:   Power        :    52851.059 uW
00539.187 ulp-ml:   Energy/Inf.  :    10381.930 uJ/inf.
00539.210 ulp-ml: Energy data for window 4 at time 188.42 for 15.71 sec.:
00539.210 ulp-ml:   Energy       :   838790.620 uJ
00539.210 ulp-ml:   Power        :    53381.953 uW
00539.210 ulp-ml:   Energy/Inf.  :    10484.883 uJ/inf.
00539.300 ulp-ml: Median energy cost is 10412.796 uJ/inf.
00539.301 ulp-ml: Performance results for window 2:
00539.301 ulp-ml:   # Inferences :           80
00539.301 ulp-ml:   Runtime      :       15.720 sec.
00539.301 ulp-ml:   Throughput   :        5.089 inf./sec.
00539.302 ulp-ml: Median throughput is 5.089 inf./sec.
"""

REAL_MLC_RESULTS = (
    b'[{"file": "000000343218.bin", "classes": "2", "class": "1", "bytes_to_send": null, "stride": null, '
    b'"total_length": null, "infer": {"start_time": 1541613272, "end_time": 1541650698, "results": [0.023, 0.977], '
    b'"elapsed_time": 37426, "total_inferences": 1, "iterations": 1, "warmups": 0}, "mode": "a"}, '
    b'{"file": "000000332570.bin", "classes": "2", "class": 1, "bytes_to_send": "27648", "infer": {"start_time": '
    b'1542814562, "end_time": 1542851988, "results": [0.941, null], "iterations": 1, "warmups": 0}, "mode": "e", '
    b'"power": {"samples": [0.5, NaN, 1e-3], "timestamps": [["s", 0], [1, 2]], "voltage": 3.3}}, '
    b'{"error": "error 1"}]'
)


# =================================================================================================
# Consistency of what the parsers return (checked after every parse below)

def check_run(run: Run, name: str) -> None:
    """What must hold of any Run that parse_eembc_log or parse_mlc_results_json filled."""
    assert [w.index for w in run.windows] == list(range(1, len(run.windows) + 1))
    lines = [w.line for w in run.windows]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for w in run.windows:
        assert w.runtime_us is None or w.runtime_us >= 0, (w.laps_us, w.runtime_us)
        assert w.iterations >= 0 and w.warmups >= 0
        if w.outputs_text is None:
            assert w.outputs is None and w.output_problem is None
    for problem in run.problems:
        assert problem.file == name and problem.message


def check_eembc_run(run: Run, data: bytes) -> None:
    check_run(run, "log.txt")
    assert not run.problems
    line_count = data.count(b"\n") + 1
    for w in run.windows:
        assert 1 <= w.line <= line_count
        assert w.runtime_us == lap_span(w.laps_us)
        if all(0 <= lap < WRAP for lap in w.laps_us):
            # a 32-bit microsecond counter: the span is the forward distance, across one wrap
            expected = (w.laps_us[-1] - w.laps_us[0]) % WRAP if len(w.laps_us) >= 2 else None
            assert w.runtime_us == expected
        if w.outputs_text is not None:
            assert (w.outputs is None) != (w.output_problem is None)
        assert (w.offset is None) == (w.length is None)
        assert w.input_file is None or not re.search(r"[\\/]", w.input_file)


def check_claims(claims: Claims, data: bytes) -> None:
    line_count = data.count(b"\n") + 1
    assert all(key == w.number for key, w in claims.windows.items())
    assert all(key == w.number for key, w in claims.energy_windows.items())
    assert claims.duplicated_blocks >= 0
    printed = [claims.median_throughput, claims.top1_pct, claims.auc, claims.median_energy_uj,
               claims.duty_cycle, claims.period_s, claims.sww_throughput]
    for w in claims.windows.values():
        assert 1 <= w.line <= line_count
        assert w.iterations is None or w.iterations >= 0
        printed += [w.runtime_s, w.throughput]
    for w in claims.energy_windows.values():
        assert 1 <= w.line <= line_count and w.power_unit in ("uW", "mW")
        printed += [w.start_s, w.duration_s, w.energy_uj, w.power, w.energy_per_inf_uj]
    for p in printed:
        if p is not None:
            assert isinstance(p, Printed) and 1 <= p.line <= line_count
            assert p.value == float(p.text) or (math.isnan(p.value) and math.isnan(float(p.text)))
    error_lines = [line for line, _ in claims.runner_errors]
    assert error_lines == sorted(error_lines) and all(1 <= line <= line_count for line in error_lines)


# =================================================================================================
# EEMBC log.txt

@FUZZ
@given(st.binary(max_size=2000))
def test_eembc_log_survives_arbitrary_bytes(data):
    run = eembc_run()
    parse_eembc_log(data, run)
    check_eembc_run(run, data)


# Structured lines: (text, event) where event tells the oracle what the line means.
_SOURCES = ["dut: ", "parser: ", "io: [dut]: ", "io: ", "emon: ", "sequencer: ", "ulp-mlperf: ", ""]
_GARBAGE_STAMPS = ["", "12.3 ", "00004.52 ", "0004.527x ", "abcde.fgh ", "-0004.527 "]
_GARBAGE = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=30)
_PATH = st.text(st.sampled_from("abcXYZ019 _-.:\\/"), max_size=25)
_NUMBER_TEXT = st.one_of(
    st.integers(-300, 300).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6f}"),
    st.floats(1e-9, 1e9).map(lambda v: f"{v:.4g}"),
)


@st.composite
def stamp(draw):
    """(text, seconds or None when the parser must not see a timestamp)."""
    kind = draw(st.sampled_from(["normal", "six digits", "garbage"]))
    if kind == "normal":
        seconds = draw(st.integers(0, 99_999_999)) / 1000
        return f"{seconds:09.3f} ", float(f"{seconds:.3f}")
    if kind == "six digits":
        seconds = draw(st.integers(100_000_000, 999_999_999)) / 1000
        return f"{seconds:.3f} ", float(f"{seconds:.3f}")
    return draw(st.sampled_from(_GARBAGE_STAMPS)), None


@st.composite
def vector(draw):
    """(m-results payload, the floats or None when the payload is not a list of numbers)."""
    if draw(st.booleans()):
        values = draw(st.lists(_NUMBER_TEXT, max_size=12))
        trailing = "," if values and draw(st.booleans()) else ""
        return ",".join(values) + trailing, [float(v) for v in values]
    values = draw(st.lists(_NUMBER_TEXT, max_size=4))
    bad = draw(st.sampled_from(["x", "0xZZ", "1..2", "--1", "", "1 2"]))
    values.insert(draw(st.integers(0, len(values))), bad)
    if bad == "" and values[-1] == "" and (len(values) == 1 or values[-2] != ""):
        values.append("x")  # a lone trailing empty part is an allowed trailing comma
    return ",".join(values), None


_LINE_KINDS = ["lap", "lap", "lap", "infer", "infer", "load", "other command", "results", "infer-start",
               "infer-done", "session", "version", "config", "model", "noise", "noise", "blank"]
_WINDOW_BODY = ["lap", "lap", "lap", "results", "infer-start", "infer-done", "noise", "other command"]


@st.composite
def log_line(draw, kinds=tuple(_LINE_KINDS)):
    """One log line as (text, event) from real token fragments."""
    stamp_text, seconds = draw(stamp())
    kind = draw(st.sampled_from(kinds))
    if kind == "lap":
        source = draw(st.sampled_from(_SOURCES))
        glue = "timestamp%" if source == "dut: " and draw(st.booleans()) else ""
        lap = draw(st.one_of(st.integers(0, WRAP - 1), st.integers(WRAP - 2000, WRAP - 1), st.integers(0, 2000)))
        foreign = source in ("io: ", "emon: ") and not glue
        return f"{stamp_text}{source}{glue}m-lap-us-{lap}", ("lap", None if foreign else lap)
    if kind == "infer":
        n, w = draw(st.integers(0, 10**6)), draw(st.integers(0, 10))
        io = draw(st.sampled_from(["", "io "]))
        spaces = draw(st.sampled_from(["", " ", "  "]))
        return f'{stamp_text}parser: Command "{io}dut infer {n} {w}"{spaces}', ("infer", (n, w))
    if kind == "load":
        path = draw(_PATH)
        command = draw(st.sampled_from(["bload dut", "bloadp"]))
        segment = draw(st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 10**5))))
        tail = f" {segment[0]} {segment[1]}" if segment else ""
        basename = re.split(r"[\\/]", path)[-1]
        return (f'{stamp_text}parser: Command "{command} "{path}"{tail}"',
                ("load", (basename, *(segment or (None, None)))))
    if kind == "other command":
        text = draw(st.sampled_from(["dut profile", "dut timestamp", "bload dut x.bin", "bm cfg ulp-mlperf",
                                     "echo head 1000", "dut infer", "dut infer x 1", "emon trace on trace1"]))
        return f'{stamp_text}parser: Command "{text}"', ("other", None)
    if kind == "results":
        payload, values = draw(vector())
        prefix = draw(st.sampled_from(["dut: ", "io: [dut]: ", "io: [dut]: Type error", ""]))
        return f"{stamp_text}{prefix}m-results-[{payload}]", ("results", (payload, values))
    if kind == "infer-start":
        return f"{stamp_text}dut: m-infer-start-{draw(st.integers(0, 9999))}", ("start", seconds)
    if kind == "infer-done":
        return f"{stamp_text}dut: m-infer-done", ("done", seconds)
    if kind == "session":
        value = draw(st.integers(0, 10**14))
        return f"{stamp_text}session: m-session-start-id[{value}]", ("session", str(value))
    if kind == "version":
        value = draw(st.sampled_from(["3.0.10", "3.0.6", "2.1", ""]))
        return f"{stamp_text}parser: m-version[{value}]", ("version", value)
    if kind == "config":
        key = draw(st.sampled_from(["iterInfer", "runMode", "model", "singleInputFn"]))
        value = draw(st.text(st.sampled_from("abc019 ./_-"), max_size=10))
        return f"{stamp_text}parser: m-bm-cfg-name[ulp-mlperf]-key[{key}]-val[{value}]", ("config", (key, value))
    if kind == "model":
        value = draw(st.sampled_from(["vww01", "kws01", "ic01", "ad01"]))
        return f"{stamp_text}dut: m-model-[{value}]", ("model", value)
    if kind == "blank":
        return "", ("noise", None)
    noise = draw(st.one_of(
        st.sampled_from(["dut: m-ready", "dut: m-warmup-start-1", "dut: m-warmup-done", "parser: m-bload-done",
                         "dut: infer 9500 1%m-warmup-start-1", "dut: Acts (infer): [ 1, 2, 3 ]",
                         "got feature interrupt", "dut: results: 0xFFEN", "io: m-dut-passthrough(infer 80 1)",
                         'sequencer: m-sequencing-i[6]-command[dut infer 80 1]-ack[/dut.?: m-ready/]-ms[-1]']),
        _GARBAGE.filter(lambda t: "m-" not in t and "Command" not in t)))
    return f"{stamp_text}{noise}", ("noise", None)


def oracle(events: list[tuple[str, object]]) -> dict:
    """What parse_eembc_log must find, from the meaning of each generated line."""
    windows, current, load = [], None, (None, None, None)
    found = {"session": None, "version": None, "model": None, "config": {}}
    for number, (kind, value) in enumerate(events, start=1):
        if kind == "load":
            load, current = value, None
        elif kind == "infer":
            current = {"line": number, "iterations": value[0], "warmups": value[1], "input": load, "laps": [],
                       "outputs_text": None, "outputs": None, "start": None, "done": None}
            windows.append(current)
        elif kind in ("session", "version", "model"):
            found[kind] = found[kind] if found[kind] is not None else value
        elif kind == "config":
            found["config"][value[0]] = value[1]
        elif current is not None:
            if kind == "lap" and value is not None:
                current["laps"].append(value)
            elif kind == "results":
                current["outputs_text"], current["outputs"] = value
            elif kind == "start" and value is not None:
                current["start"] = value
            elif kind == "done" and value is not None:
                current["done"] = value
    found["windows"] = windows
    return found


@st.composite
def assembled_log(draw):
    """A log shaped like a real one (loads, infer commands, window bodies) with random lines anywhere."""
    lines = draw(st.lists(log_line(), max_size=8))
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 3)):
            lines.append(draw(log_line(("load",))))
        lines.append(draw(log_line(("infer",))))
        lines += draw(st.lists(log_line(tuple(_WINDOW_BODY)), max_size=8))
        lines += draw(st.lists(log_line(), max_size=2))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for (line, _), end in zip(lines, ends))
    if lines and draw(st.booleans()):
        text = text[:-len(ends[-1])]  # no final newline
    data = text.encode()
    if draw(st.booleans()):  # a garbled byte in a noise line must not hide the other lines
        noise = [i for i, (_, (kind, _)) in enumerate(lines) if kind == "noise"]
        if noise:
            target = draw(st.sampled_from(noise))
            start = sum(len((line + end).encode()) for (line, _), end in zip(lines[:target], ends[:target]))
            data = data[:start] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b"\xe2\x82"])) + data[start:]
    return data, [event for _, event in lines]


@FUZZ
@given(assembled_log())
def test_eembc_log_finds_exactly_what_the_assembled_lines_say(case):
    data, events = case
    run = eembc_run()
    parse_eembc_log(data, run)
    check_eembc_run(run, data)
    expected = oracle(events)
    assert (run.session_id, run.runner_version, run.model_id) == (
        expected["session"], expected["version"], expected["model"])
    assert run.config == expected["config"]
    assert len(run.windows) == len(expected["windows"])
    for got, want in zip(run.windows, expected["windows"]):
        assert (got.line, got.iterations, got.warmups) == (want["line"], want["iterations"], want["warmups"])
        assert (got.input_file, got.offset, got.length) == want["input"]
        assert got.laps_us == want["laps"]
        assert got.outputs_text == want["outputs_text"]
        assert got.outputs == want["outputs"]
        assert (got.infer_start_s, got.infer_done_s) == (want["start"], want["done"])


def _cut_log_agrees_with_whole(cut: bytes, whole: Run) -> None:
    run = eembc_run()
    parse_eembc_log(cut, run)
    check_eembc_run(run, cut)
    assert len(run.windows) <= len(whole.windows)
    assert set(run.config.items()) <= set(whole.config.items())
    for got, want in zip(run.windows[:-1], whole.windows):
        assert got == want  # every window but the last is complete
    if run.windows:
        got, want = run.windows[-1], whole.windows[len(run.windows) - 1]
        assert (got.line, got.iterations, got.warmups, got.input_file) == (
            want.line, want.iterations, want.warmups, want.input_file)
        assert got.laps_us[:-1] == want.laps_us[:max(len(got.laps_us) - 1, 0)]
        assert len(got.laps_us) <= len(want.laps_us)


def _log_starting_mid_window_agrees_with_whole(data: bytes, start: int, whole: Run) -> None:
    """A log that lost its beginning (v0.7 plumerai keeps only the last 501 lines) holds the windows
    whose command survived, unchanged but for the input when its load was lost."""
    run = eembc_run()
    cut = data[start:]
    parse_eembc_log(cut, run)
    check_eembc_run(run, cut)
    shift = data.count(b"\n", 0, start)
    by_line = {w.line - shift: w for w in whole.windows}
    for got in run.windows:
        want = by_line[got.line]
        assert got.input_file in (want.input_file, None)
        assert (got.iterations, got.warmups, got.laps_us, got.runtime_us, got.outputs_text, got.infer_start_s) == (
            want.iterations, want.warmups, want.laps_us, want.runtime_us, want.outputs_text, want.infer_start_s)
    assert {w.line for w in run.windows} >= {line for line in by_line if line > 1}


def test_eembc_log_cut_at_every_byte_keeps_its_complete_windows():
    whole = eembc_run()
    parse_eembc_log(REAL_LOG, whole)
    check_eembc_run(whole, REAL_LOG)
    assert [(w.iterations, w.input_file, w.offset, w.runtime_us) for w in whole.windows] == [
        (80, "000000343218.bin", None, 38453000 - 22629000),
        (80, "000000332570.bin", None, 15000000 + WRAP - 4294000000),
        (1, "normal_id_01_00000003_hist_librosa.bin", 512, 32150000 - 32103051),
    ]
    for end in range(len(REAL_LOG) + 1):
        _cut_log_agrees_with_whole(REAL_LOG[:end], whole)
        _cut_log_agrees_with_whole(REAL_LOG[:end].replace(b"\n", b"\r\n"), whole)
        _log_starting_mid_window_agrees_with_whole(REAL_LOG, end, whole)


@cache
def _real_logs() -> tuple[tuple[bytes, Run], ...]:
    closed = shared_path("data", "tiny_results", "v1.1", "closed")
    logs = []
    for mode in ("performance", "energy", "accuracy"):
        path = min(closed.glob(f"*/results/*/*/{mode}/log.txt"), key=lambda p: p.stat().st_size)
        data = path.read_bytes()
        run = eembc_run()
        parse_eembc_log(data, run)
        logs.append((data, run))
    return tuple(logs)


def test_real_logs_cut_anywhere_keep_their_complete_windows():
    logs = _real_logs()  # skips, saying why, without ../shared

    @FEW
    @given(st.data())
    def cut_anywhere(data):
        whole_data, whole = data.draw(st.sampled_from(logs))
        _cut_log_agrees_with_whole(whole_data[:data.draw(st.integers(0, len(whole_data)))], whole)
        _log_starting_mid_window_agrees_with_whole(whole_data, data.draw(st.integers(0, len(whole_data))), whole)

    cut_anywhere()


# Known bugs in eembc_log.py -----------------------------------------------------------------------

@FEW
@given(st.sampled_from(['parser: Command "dut infer 1 1"\ndut: m-lap-us-{}', 'parser: Command "dut infer {} 1"',
                        'parser: Command "bload dut "a.bin" {} 1"']),
       st.integers(4301, 6000))
@example('parser: Command "dut infer 1 1"\ndut: m-lap-us-{}', 4301)
def test_eembc_log_survives_numbers_of_thousands_of_digits(template, digits):
    data = template.format("1" * digits).encode()
    run = eembc_run()
    parse_eembc_log(data, run)
    check_eembc_run(run, data)


@FEW
@given(st.integers(WRAP, 1 << 63), st.integers(0, 1 << 63))
@example(WRAP, 0)
def test_eembc_runtime_is_never_negative_with_laps_beyond_32_bits(first, last):
    data = f'parser: Command "dut infer 1 1"\ndut: m-lap-us-{first}\ndut: m-lap-us-{last}\n'.encode()
    run = eembc_run()
    parse_eembc_log(data, run)
    if last < first:  # a wrap of a 32-bit counter, or an untimeable window (None); never negative
        assert run.windows[0].runtime_us is None or run.windows[0].runtime_us >= 0, run.windows[0]


# =================================================================================================
# results.txt

@FUZZ
@given(st.binary(max_size=2000))
def test_results_txt_survives_arbitrary_bytes(data):
    check_claims(parse_results_txt(data), data)


_PREFIXES = ["00112.406 ulp-mlperf: ", "142527.143 ulp-mlperf: ", "00539.187 ulp-ml: ", "", "  "]


_RESULT_KINDS = ["perf", "inferences", "runtime", "throughput", "met", "error", "median", "eembc energy",
                 "mlc energy", "energy", "power", "per inf", "elapsed", "energy inferences", "median energy",
                 "top1", "auc", "sww", "duty", "noise"]
_PERF_BODY = ["inferences", "runtime", "throughput", "met", "error", "noise"]
_ENERGY_BODY = ["energy", "power", "per inf", "elapsed", "energy inferences", "noise"]


@st.composite
def results_line(draw, kinds=tuple(_RESULT_KINDS)):
    """(text, (kind, window number, count)) for one results.txt line."""
    kind = draw(st.sampled_from(kinds))
    num = draw(_NUMBER_TEXT)
    if draw(st.booleans()):
        num = num.lstrip("-")
    window = draw(st.integers(0, 12))
    count = draw(st.integers(0, 10**6))
    if kind == "error":
        text = draw(st.sampled_from([
            "e-[The run must take at least 10 seconds and 10 iterations to be valid]",
            "ERROR: Not valid for submission.  All inference times must be at least 10 seconds."]))
    elif kind == "power":
        text = f"  Power        :    {num} {draw(st.sampled_from(['uW', 'mW', 'mW.']))}"
    elif kind == "top1":
        text = draw(st.sampled_from([f"Top-1: {num}%", f"Top 1% = {num}"]))
    elif kind == "noise":
        text = draw(st.one_of(
            st.sampled_from(["-" * 57, "Power Edition Output", "Cannot compute accuracy metrics in single-run mode."]),
            _GARBAGE.filter(lambda t: not re.search(r"window|trial|rror|e-\[|\d", t))))
    else:
        text = {
            "perf": f"Performance results for window {window}:",
            "inferences": f"  # Inferences :         {count}",
            "runtime": f"  Runtime      :       {num} sec.",
            "throughput": f"  Throughput   :      {num} inf./sec.",
            "met": "Runtime requirements have been met.",
            "median": f"Median throughput is {num} inf./sec.",
            "eembc energy": f"Energy data for window {window} at time {num} for {num} sec.:",
            "mlc energy": f"Energy data for trial {window}",
            "energy": f"  {draw(st.sampled_from(['', 'Total ']))}Energy       :   {num} uJ",
            "per inf": f"  Energy/Inf.  :     {num} uJ/inf.",
            "elapsed": f"  Elapsed time  : {num}",
            "energy inferences": f"  Inferences    : {count}",
            "median energy": f"Median energy cost is {num} uJ/inf.",
            "auc": f"AUC: {num}",
            "sww": f"Accuracy: {count} True positives, {window} False negatives, {window} False positives",
            "duty": f"Average duty cycle: {num}",
        }[kind]
    return draw(st.sampled_from(_PREFIXES)) + text, (kind, window, count)


@st.composite
def results_lines(draw):
    """Lines shaped like a results.txt (window blocks, energy blocks, medians) with random lines anywhere."""
    lines = draw(st.lists(results_line(), max_size=4))
    for _ in range(draw(st.integers(0, 8))):
        header = draw(st.sampled_from(["perf", "perf", "eembc energy", "mlc energy"]))
        lines.append(draw(results_line((header,))))
        body = _PERF_BODY if header == "perf" else _ENERGY_BODY
        lines += draw(st.lists(results_line(tuple(body)), max_size=6))
        if draw(st.integers(0, 3)) == 0:  # a median closes the window: what follows is no longer its
            lines.append(draw(results_line(("median", "median energy"))))
            lines += draw(st.lists(results_line(tuple(body)), max_size=2))
        lines += draw(st.lists(results_line(), max_size=2))
    return lines


@FUZZ
@given(results_lines(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_results_txt_windows_are_keyed_by_their_printed_numbers(lines, end, final_newline):
    data = (end.join(text for text, _ in lines) + (end if final_newline else "")).encode()
    claims = parse_results_txt(data)
    check_claims(claims, data)
    # A line identical to the one before it is a repetition (v0.7 Andes), read once.
    numbered = [(n, item) for n, item in enumerate(lines, start=1)
                if not (item[0].strip() and n > 1 and lines[n - 2][0] == item[0])]
    assert claims.repeated_lines == len(lines) - len(numbered)
    lines = [item for _, item in numbered]
    perf = [(n, w) for n, (_, (kind, w, _)) in numbered if kind == "perf"]
    energy = [(n, w) for n, (_, (kind, w, _)) in numbered if kind in ("eembc energy", "mlc energy")]
    first_perf = {}
    for number, window in perf:
        first_perf.setdefault(window, number)
    first_energy = {}
    for number, window in energy:
        first_energy.setdefault(window, number)
    assert {k: w.line for k, w in claims.windows.items()} == first_perf
    assert {k: w.line for k, w in claims.energy_windows.items()} == first_energy
    assert claims.duplicated_blocks == len(perf) - len(first_perf) + len(energy) - len(first_energy)
    # the inference count of a window is the last one printed in its first block
    expected, current, seen = {}, None, set()
    for text, (kind, window, count) in lines:
        if kind == "perf":
            current = None if window in seen else window
            seen.add(window)
        elif kind in ("eembc energy", "mlc energy", "median"):
            current = None
        elif kind == "inferences" and current is not None:
            expected[current] = count
    assert {k: w.iterations for k, w in claims.windows.items() if w.iterations is not None} == expected
    errors = [n for n, (_, (kind, _, _)) in numbered if kind == "error"]
    assert [line for line, _ in claims.runner_errors] == errors


def _blocks(data: bytes) -> list[bytes]:
    """The lines of a results.txt grouped into blocks, each starting at a window header."""
    blocks: list[bytes] = [b""]
    for line in data.splitlines(keepends=True):
        if b"results for window" in line or b"Energy data for" in line or b"Median" in line:
            blocks.append(b"")
        blocks[-1] += line
    return [b for b in blocks if b]


def _same_claims(a: Claims, b: Claims) -> None:
    def strip(claims):
        windows = {k: (w.iterations, w.runtime_s and w.runtime_s.text, w.throughput and w.throughput.text,
                       w.requirements_met, w.error) for k, w in claims.windows.items()}
        energy = {k: (w.energy_uj and w.energy_uj.text, w.power and w.power.text, w.iterations,
                      w.energy_per_inf_uj and w.energy_per_inf_uj.text) for k, w in claims.energy_windows.items()}
        return windows, energy, claims.median_throughput and claims.median_throughput.text, \
            claims.median_energy_uj and claims.median_energy_uj.text
    assert strip(a) == strip(b)


@FUZZ
@given(st.sampled_from([REAL_RESULTS, REAL_ENERGY_RESULTS]), st.data())
def test_results_txt_duplicated_blocks_are_counted_not_merged(original, data):
    """v1.2 bosch repeats whole blocks; the first block of a window number counts."""
    blocks = _blocks(original)
    windows = [i for i, b in enumerate(blocks) if b"window" in b or b"trial" in b]
    copies = data.draw(st.lists(st.sampled_from(windows), max_size=6))
    result = list(blocks)
    for index in copies:  # a repeated block right after its first, or after the median
        position = data.draw(st.sampled_from([result.index(blocks[index]) + 1, len(result)]))
        result.insert(position, blocks[index])
    repeated = b"".join(result)
    claims = parse_results_txt(repeated)
    check_claims(claims, repeated)
    assert claims.duplicated_blocks == len(copies)
    _same_claims(claims, parse_results_txt(original))
    assert claims.runner_errors[0][1].startswith("e-[") if b"e-[" in original else not claims.runner_errors


# Known bugs in results_txt.py ---------------------------------------------------------------------

@FEW
@given(st.sampled_from([REAL_RESULTS, REAL_ENERGY_RESULTS]), st.integers(2, 5))
@example(b"Performance results for window 2:\n# Inferences : 10\n", 2)
def test_results_txt_with_every_line_repeated_keeps_its_claims(original, times):
    """v0.7 Andes results.txt repeat every line 2-5 times consecutively."""
    repeated = b"".join(line * times for line in original.splitlines(keepends=True))
    claims = parse_results_txt(repeated)
    check_claims(claims, repeated)
    _same_claims(claims, parse_results_txt(original))


@FEW
@given(st.sampled_from(["Performance results for window {}:", "Energy data for trial {}",
                        "Performance results for window 2:\n  # Inferences : {}"]), st.integers(4301, 6000))
@example("Performance results for window {}:", 4301)
def test_results_txt_survives_numbers_of_thousands_of_digits(template, digits):
    data = template.format("7" * digits).encode()
    check_claims(parse_results_txt(data), data)


# =================================================================================================
# MLCommons runner results.json

def parse_json(data: bytes) -> Run:
    run = mlc_run()
    parse_mlc_results_json(data, run)
    check_run(run, "results.json")
    return run


@FUZZ
@given(st.binary(max_size=2000))
def test_results_json_survives_arbitrary_bytes(data):
    parse_json(data)


_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30), st.integers(10**300, 10**310),
    st.text(max_size=10).filter(lambda t: t not in ("p", "a", "e")))  # no valid `mode`: wrong shapes only
_JSON = st.recursive(_JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["infer", "mode", "file", "class", "power", "samples", "timestamps", "results", "error", "x"]),
        inner, max_size=4)), max_leaves=20)


@FUZZ
@given(_JSON, st.integers(0, 3000), st.sampled_from(["[", "{\"a\":", "[{\"infer\":"]))
def test_results_json_survives_any_json_value_and_deep_nesting(value, depth, opener):
    parse_json(json.dumps(value).encode())  # NaN, Infinity, huge integers, wrong shapes
    closer = {"[": "]", "{\"a\":": "}", "[{\"infer\":": "}]"}[opener]
    run = parse_json((opener * depth + "1" + closer * depth).encode())
    if depth > 1500:
        assert run.problems  # too deep for json: a problem, not a RecursionError


def test_results_json_truncated_anywhere_is_a_problem():
    whole = parse_json(REAL_MLC_RESULTS)
    assert not whole.problems and len(whole.windows) == 2 and len(whole.energy_trials) == 1
    for cut in range(len(REAL_MLC_RESULTS)):
        run = parse_json(REAL_MLC_RESULTS[:cut])
        assert len(run.problems) == 1 and not run.windows




def _safe_number():
    return st.one_of(st.integers(-(10**15), 10**15), st.floats(-1e300, 1e300, allow_nan=False))


_DIGIT_STRINGS = st.integers(0, 10**6).map(str)


@st.composite
def mlc_record(draw, strings=_DIGIT_STRINGS, numbers=None, detections=None):
    """A record that follows schemas/mlc_results.schema.json."""
    numbers = numbers or _safe_number()
    if draw(st.integers(0, 9)) == 0:
        return {"error": draw(st.text(max_size=10))}
    infer = draw(st.fixed_dictionaries({}, optional={
        "start_time": st.integers(0, 2**40), "iterations": st.integers(0, 10**6),
        "warmups": st.integers(0, 10), "results": st.lists(st.one_of(st.none(), numbers), max_size=12),
        "throughput": numbers, "elapsed_time": st.integers(0, 10**9)}))
    if "start_time" in infer:  # end >= start here; see the known-bug test for end < start
        infer["end_time"] = infer["start_time"] + draw(st.integers(0, 2**33))
    if draw(st.integers(0, 5)) == 0:
        infer["detections"] = draw(st.lists(detections or st.integers(0, 10**7), max_size=5))
        infer["detection_windows"] = draw(st.lists(st.lists(numbers, min_size=2, max_size=2), max_size=3))
    record = {"mode": draw(st.sampled_from("pae")), "infer": infer}
    record.update(draw(st.fixed_dictionaries({}, optional={
        "file": st.text(max_size=12), "class": st.one_of(st.none(), strings, st.integers(-5, 5)),
        "classes": st.one_of(st.none(), strings), "bytes_to_send": st.one_of(st.none(), strings, st.integers(0, 10**5)),
        "stride": st.one_of(st.none(), st.integers(0, 512)),
        "power": st.fixed_dictionaries({
            "samples": st.lists(st.one_of(st.none(), numbers), max_size=20),
            "timestamps": st.lists(st.tuples(st.one_of(st.text(max_size=3), st.integers(-(2**63), 2**63)),
                                             st.integers(0, 10**6)),
                                   max_size=5)}),
        "dutycycle": st.fixed_dictionaries({}, optional={
            "start_times_s": st.lists(numbers, max_size=3), "duty_cycle": numbers}),
        "activations": _JSON.map(lambda v: [v])})))
    return record


@FUZZ
@given(st.lists(mlc_record(), max_size=8))
def test_results_json_of_the_right_shape_becomes_one_window_per_record(records):
    data = json.dumps(records).encode()
    run = parse_json(data)
    assert not run.problems, run.problems
    windows = [(i, r) for i, r in enumerate(records) if "error" not in r and "detections" not in r["infer"]]
    assert len(run.windows) == len(windows)
    assert len(run.claims.runner_errors) == sum("error" in r for r in records)
    assert len(run.energy_trials) == sum("power" in r for r in records if "error" not in r)
    for window, (position, record) in zip(run.windows, windows):
        infer = record["infer"]
        assert window.line == position + 1
        assert window.iterations == infer.get("iterations", 1)
        if "start_time" in infer:
            assert window.runtime_us == infer["end_time"] - infer["start_time"]
        if "results" in infer:
            assert len(window.outputs) == len(infer["results"])


# Known bugs in mlc_results_json.py ----------------------------------------------------------------

def _int_refuses(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return True
    return False


@FEW
@given(st.lists(mlc_record(), max_size=3), st.sampled_from(["class", "bytes_to_send", "stride"]),
       st.text(max_size=5).filter(lambda t: t != "" and _int_refuses(t)))
@example([], "class", "x")
def test_results_json_survives_non_numeric_class_strings(records, key, text):
    records.append({"mode": "a", "infer": {}, "bytes_to_send": 2560, key: text})
    parse_json(json.dumps(records).encode())


@FEW
@given(st.lists(mlc_record(), max_size=3), st.integers(10**309, 10**400),
       st.sampled_from(["results", "samples", "detection_windows"]))
@example([], 10**309, "results")
def test_results_json_survives_integers_beyond_float_range(records, big, where):
    records.append({
        "results": {"mode": "p", "infer": {"results": [0.5, big]}},
        "samples": {"mode": "e", "infer": {}, "power": {"samples": [big], "timestamps": []}},
        "detection_windows": {"mode": "p", "infer": {"detections": [], "detection_windows": [[big, 1]]}},
    }[where])
    parse_json(json.dumps(records).encode())


@FEW
@given(st.binary(max_size=200), st.integers(0, len(REAL_MLC_RESULTS)))
@example(b":", REAL_MLC_RESULTS.index(b'27648"'))
def test_results_json_spliced_real_file(junk, cut):
    parse_json(REAL_MLC_RESULTS[:cut] + junk + REAL_MLC_RESULTS[cut:])


@FEW
@given(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
@example("NaN")
def test_results_json_survives_nan_detections(value):
    parse_json(f'[{{"mode": "p", "infer": {{"detections": [1, {value}]}}}}]'.encode())


@FEW
@given(st.integers(1, 2**32 - 1), st.integers(0, 2**32 - 1))
@example(1, 0)
def test_results_json_runtime_is_never_negative(start, end):
    parse_json(f'[{{"mode": "p", "infer": {{"start_time": {start}, "end_time": {min(end, start - 1)}}}}}]'.encode())


# =================================================================================================
# script.async

def check_steps(steps: list[ScriptStep], data: bytes) -> None:
    line_count = data.count(b"\n") + 1
    lines = [s.line for s in steps]
    assert lines == sorted(lines) and all(1 <= line <= line_count for line in lines)
    for s in steps:
        assert isinstance(s.cmd, str)
        assert s.ms is None or (isinstance(s.ms, int) and not isinstance(s.ms, bool))
        assert s.ack is None or isinstance(s.ack, str)


def parse_script(data: bytes) -> list[ScriptStep] | None:
    try:
        steps = parse_script_async(data)
    except ScriptProblem as problem:
        assert 1 <= problem.line <= data.count(b"\n") + 1 and problem.column >= 1 and problem.message
        return None
    check_steps(steps, data)
    return steps


@FUZZ
@given(st.binary(max_size=2000))
def test_script_async_raises_only_script_problem_on_arbitrary_bytes(data):
    parse_script(data)


_JS_FRAGMENTS = st.sampled_from([
    "[", "]", "{", "}", ",", ":", " ", "\n", "\r\n", "\t", "cmd", "ms", "ack", "'cmd'", "note",
    "'dut infer 250 1'", '"bload dut \\"C:\\\\a b\\\\x.bin\\" 512 2560"', r"'bload dut \"C:\Users\x y\t.bin\"'",
    "/dut.?: m-ready/", r"/echo-message\[head\]/g", "/[/]/", "-1", "+3", "1e3", "0x1F", "1.5", "-", "NaN",
    "// comment\n", "/* block */", "/*", "'unterminated", "/unterminated", "\\", "'\\u12'", "'\\x4'", "true",
    "null", "undefined", "foo", "\ufeff", "\u2028", "\x00", "é", "9" * 50,
])


@FUZZ
@given(st.lists(st.one_of(_JS_FRAGMENTS, st.text(max_size=3)), max_size=40))
def test_script_async_raises_only_script_problem_on_token_soup(fragments):
    parse_script("".join(fragments).encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.lists(st.one_of(_JS_FRAGMENTS, st.text(max_size=3)), max_size=30))
def test_script_async_well_formed_prefix_and_soup(fragments):
    """A valid script with soup inside a value of an unknown key, or after it."""
    soup = "".join(fragments)
    parse_script(f"[{{cmd: 'a', note: {soup}}}]".encode("utf-8", "surrogatepass"))
    parse_script(f"[{{cmd: 'a'}}]{soup}".encode("utf-8", "surrogatepass"))


_CMD_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_REGEX_SOURCE = st.lists(st.one_of(
    st.sampled_from(["dut", ".?", ": ", "m-ready", r"\/", r"\[", r"\]", "[a-z/]", r"[\]/]", "io", "*", "x+", " "]),
    st.text(st.sampled_from("abc019-_:. "), min_size=1, max_size=4)), min_size=1, max_size=6).map("".join).filter(
    lambda s: not s.startswith("*"))


@st.composite
def js_string(draw, text: str) -> str:
    """`text` as a JavaScript string literal, written with escapes chosen at random."""
    quote = draw(st.sampled_from(["'", '"']))
    out = []
    for char in text:
        forced = {"\\": "\\\\", quote: "\\" + quote, "\n": "\\n", "\r": "\\r", "\u2028": "\\u2028",
                  "\u2029": "\\u2029", "\x00": "\\x00"}.get(char)
        style = draw(st.sampled_from(["plain", "plain", "plain", "u", "x", "brace"]))
        if style == "u" and ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        elif style == "x" and ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02X}")
        elif style == "brace":
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(forced or {"\t": "\\t"}.get(char, char) if draw(st.booleans()) else forced or char)
    return quote + "".join(out) + quote


@st.composite
def js_script(draw):
    """(script text, the steps it holds): random steps written in varied JavaScript."""
    def gap():
        return draw(st.sampled_from(["", " ", "\n", "\r\n    ", "\t", " /* c */ ", " // c\n", "\n\n"]))

    def key(name):
        return draw(st.sampled_from([name, f"'{name}'", f'"{name}"']))

    text = gap() + "["
    steps = []
    for _ in range(draw(st.integers(0, 6))):
        cmd = draw(_CMD_TEXT)
        ms = draw(st.one_of(st.none(), st.integers(-(2**40), 2**40)))
        ack = draw(st.one_of(st.none(), _REGEX_SOURCE))
        fields = [f"{key('cmd')}:{gap()}{draw(js_string(cmd))}"]
        if ms is not None:
            written = draw(st.sampled_from([str(ms), f"{'-' if ms < 0 else ''}0x{abs(ms):x}", f"{ms}.0"]))
            fields.append(f"{key('ms')}: {written}")
        elif draw(st.booleans()):
            fields.append(f"{key('ms')}: {draw(st.sampled_from(['null', 'undefined']))}")
        if ack is not None:
            fields.append(f"{key('ack')}: /{ack}/{draw(st.sampled_from(['', 'g', 'i', 'gi']))}")
        if draw(st.booleans()):
            fields.append("note: " + draw(st.sampled_from(["[1, -2, {a: /x/}]", "{}", "true", '"n"', "[[[]]]"])))
        fields = draw(st.permutations(fields))
        text += gap()
        line = text.count("\n") + 1
        text += "{" + ",".join(gap() + field for field in fields) + ("," if draw(st.booleans()) else "") + gap()
        text += "},"
        steps.append(ScriptStep(cmd=cmd, ms=ms, ack=ack, line=line))
    if steps and draw(st.booleans()):
        text = text[:-1]  # no trailing comma
    text += gap() + "]" + gap()
    return text, steps


@FUZZ
@given(js_script())
def test_script_async_reads_back_what_was_written(case):
    text, steps = case
    data = text.encode("utf-8")
    assert parse_script_async(data) == steps
    # and every cut of it is either refused with a place or (at the very end) the same
    for end in range(0, len(data), max(1, len(data) // 25)):
        parse_script(data[:end])
