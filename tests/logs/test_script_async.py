"""script.async: the EEMBC runner's command list, a JavaScript literal read without evaluating it."""

from __future__ import annotations

import pickle
import re
import time

import pytest

from helpers.shared import shared_path
from submission_tools.logs.script_async import (
    MAX_DEPTH,
    ScriptProblem,
    ScriptStep,
    parse_script_async,
    planned_inferences,
)

REAL_EXAMPLE = b"""[
    {
        cmd: 'umount'
    },
    {
        cmd: 'dut infer 250 1',
        ms: -1,
        ack: /dut.?: m-ready/
    }
]"""


def test_the_real_example_from_the_runner():
    assert parse_script_async(REAL_EXAMPLE) == [
        ScriptStep(cmd="umount", ms=None, ack=None, line=2),
        ScriptStep(cmd="dut infer 250 1", ms=-1, ack="dut.?: m-ready", line=5),
    ]


# ---------------------------------------------------------------------------------------------
# Every real file

def _real_scripts():
    closed = shared_path("data", "tiny_results", "v1.1", "closed")
    files = sorted(closed.glob("*/results/*/*/*/script.async"))
    assert len(files) == 221, f"expected the 221 script.async files of v1.1/closed, found {len(files)}"
    return files


_INFER_IN_TEXT = re.compile(r"""cmd:\s*'(?:io\s+)?dut\s+infer\s+\d+\s+\d+'""")
_LOAD_IN_TEXT = re.compile(r"""cmd:\s*'(?:bload\s+dut|bloadp)\s""")


def test_every_real_script_parses_and_plans_every_infer_command():
    total_steps = total_inferences = 0
    for path in _real_scripts():
        data = path.read_bytes()
        text = data.decode()
        steps = parse_script_async(data)
        assert len(steps) == text.count("cmd:"), path
        assert [s.line for s in steps] == sorted({s.line for s in steps}), path
        lines = text.splitlines()
        assert all(lines[s.line - 1].strip() == "{" for s in steps), path
        planned = planned_inferences(steps)
        assert len(planned) == len(_INFER_IN_TEXT.findall(text)), path
        loads = [s for s in steps if s.cmd.startswith(("bload dut ", "bloadp "))]
        assert len(loads) == len(_LOAD_IN_TEXT.findall(text)), path
        for basename, offset, iterations, warmups in planned:
            assert basename and basename.endswith(".bin") and "\\" not in basename and "/" not in basename, path
            assert offset is None or offset % 512 == 0, path
            assert iterations >= 1 and warmups >= 0, path
        assert all(s.ack is None or not s.ack.startswith("/") for s in steps), path
        total_steps += len(steps)
        total_inferences += len(planned)
    assert total_inferences == 60295  # `grep -c "dut infer"` over the 221 files (170 of them `io dut infer`)
    assert total_steps > total_inferences * 2


def test_a_real_energy_script_in_detail():
    root = shared_path("data", "tiny_results", "v1.1", "closed", "Krai", "results")
    steps = parse_script_async((root / "NUCLEO-H7A3ZI-Q_X-CUBE-AI-7.3" / "kws" / "energy" / "script.async").read_bytes())
    assert steps[2] == ScriptStep(cmd="mountc io ioman", ms=None, ack="io: m-ready", line=8)
    echo = next(s for s in steps if s.cmd == "echo pwr 2000")
    assert (echo.ack, echo.ms) == (r"echo-message\[pwr\]", 2500)
    loads = [s.cmd for s in steps if s.cmd.startswith("bloadp")]
    assert loads[0] == ('bloadp "C:\\Users\\sahel\\eembc\\runner\\benchmarks\\ulp-mlperf\\datasets'
                        '\\kws01\\tst_000000_Stop_7.bin"')
    assert planned_inferences(steps) == [
        ("tst_000000_Stop_7.bin", None, 800, 1),
        ("tst_000001_Left_2.bin", None, 800, 1),
        ("tst_000002_Right_6.bin", None, 800, 1),
        ("tst_000003_Up_8.bin", None, 800, 1),
        ("tst_000004_On_5.bin", None, 800, 1),
    ]


def test_a_real_anomaly_detection_script_has_offsets():
    root = shared_path("data", "tiny_results", "v1.1", "closed", "Krai", "results")
    steps = parse_script_async((root / "NRF5340-DK_MICROTVM-CMSIS-NN" / "ad" / "performance" / "script.async").read_bytes())
    planned = planned_inferences(steps)
    assert planned[0] == ("normal_id_01_00000003_hist_librosa.bin", 0, 2000, 1)
    assert all(offset == 0 for _, offset, _, _ in planned)


# ---------------------------------------------------------------------------------------------
# The language

def _one(text: str) -> ScriptStep:
    steps = parse_script_async(text.encode())
    assert len(steps) == 1
    return steps[0]


def test_windows_paths_with_spaces_keep_their_basename():
    raw = r"""[{cmd: 'bload dut "C:\Users\x y\eembc\kws01\tst_000000_Stop_7.bin"'}, {cmd: 'dut infer 1 0'}]"""
    steps = parse_script_async(raw.encode())
    assert steps[0].cmd == r'bload dut "C:\Users\x y\eembc\kws01\tst_000000_Stop_7.bin"'
    escaped = r"""[
        {cmd: 'bload dut "C:\\Users\\mahdi chtourou\\eembc\\ad01\\normal_id_01_00000003_hist_librosa.bin" 512 2560',
         ms: 1638400},
        {cmd: 'dut infer 1 0', ms: -1, ack: /dut.?: m-ready/},
        {cmd: "bloadp \"D:\\My Data\\vww01\\000000343218.bin\""},
        {cmd: 'io dut infer 800 1'},
        {cmd: 'bloadp "/home/a b/ic01/emu_s_002009.bin" 0 3072'},
        {cmd: 'io dut infer 5 1'},
    ]"""
    planned = planned_inferences(parse_script_async(escaped.encode()))
    assert planned_inferences(steps) + planned == [
        ("tst_000000_Stop_7.bin", None, 1, 0),
        ("normal_id_01_00000003_hist_librosa.bin", 512, 1, 0),
        ("000000343218.bin", None, 800, 1),
        ("emu_s_002009.bin", 0, 5, 1),
    ]


def test_an_infer_before_any_load_has_no_input_and_loads_carry_over():
    steps = parse_script_async(b"""[{cmd: 'dut infer 10 1'}, {cmd: 'bload dut "a/b.bin"'},
        {cmd: 'dut infer 1 0'}, {cmd: 'dut infer 2 0'}, {cmd: 'dut inferx 3 0'}, {cmd: 'bload dut x.bin'}]""")
    assert planned_inferences(steps) == [(None, None, 10, 1), ("b.bin", None, 1, 0), ("b.bin", None, 2, 0)]


@pytest.mark.parametrize("source, ack", [
    ("/dut.?: m-ready/", "dut.?: m-ready"),
    (r"/echo-message\[head\]/", r"echo-message\[head\]"),
    ("/io: m-ready/gi", "io: m-ready"),
    (r"/a\/b/", r"a\/b"),
    ("/[/]x/", "[/]x"),
    (r"/[\]/]+/u", r"[\]/]+"),
    ("'plain text'", "plain text"),
    ("null", None),
])
def test_regex_acks_come_back_as_their_source_text(source, ack):
    assert _one(f"[{{cmd: 'x', ack: {source}}}]").ack == ack


@pytest.mark.parametrize("literal, text", [
    (r"'a\\b'", "a\\b"),
    (r"'it\'s'", "it's"),
    (r"""'say \"hi\"'""", 'say "hi"'),
    (r"""'say "hi"'""", 'say "hi"'),
    (r'''"it's"''', "it's"),
    (r"'a\nb\tc\rd'", "a\nb\tc\rd"),
    (r"'\x41\u00e9\u{1F600}\uD83D\uDE00'", "A\u00e9\U0001F600\U0001F600"),
    (r"'\/'", "/"),
    ("'line\\\ncontinued'", "linecontinued"),
    ("'caf\u00e9 \u2713'", "caf\u00e9 \u2713"),
    # unknown escapes keep the backslash, and then the whole string is taken as written raw
    (r"'C:\Users\me'", r"C:\Users\me"),
    (r"'\e\q'", r"\e\q"),
    (r"'C:\xilinx\tmp'", r"C:\xilinx\tmp"),
    (r"'C:\users\new'", r"C:\users\new"),
    (r"'C:\2023\data'", r"C:\2023\data"),
])
def test_string_escapes(literal, text):
    assert _one(f"[{{cmd: {literal}}}]").cmd == text


def test_comments_trailing_commas_quoted_keys_and_other_keys():
    text = b"""// EEMBC script
    /* a block
       comment */ [
        { 'cmd': "dut profile", /* inline */ "ms": 5000, },  // trailing comma inside
        {
            note: {nested: [1, -2.5, +3, 'x', /re/, true, false, null, undefined, NaN, -Infinity, {}, []],},
            0x1F: 'numeric key',
            $id: 7,
            cmd: 'dut timestamp',
            ms: 1e3,
            ack: undefined,
        },
    ] // done
    """
    assert parse_script_async(text) == [
        ScriptStep(cmd="dut profile", ms=5000, ack=None, line=4),
        ScriptStep(cmd="dut timestamp", ms=1000, ack=None, line=5),
    ]


def test_other_literal_details():
    assert parse_script_async(b"[]") == []
    assert parse_script_async(b"\xef\xbb\xbf[ ]\r\n") == []  # BOM and CRLF
    assert _one("[{cmd: 'a', ms: -0}]").ms == 0
    assert _one("[{cmd: 'a', ms: null}]").ms is None
    assert _one("[{cmd: 'a', ms: 0x10}]").ms == 16
    assert _one("[{cmd: 'old', cmd: 'new'}]").cmd == "new"  # the last duplicate key wins, as in JavaScript
    assert _one("[\r\n{cmd: 'a'}\r\n]").line == 2


# ---------------------------------------------------------------------------------------------
# Malformed input: always a ScriptProblem with where and what

MALFORMED = [
    # (name, input, line, column, words of the message)
    ("empty file", b"", 1, 1, "empty"),
    ("only blanks", b"  \n\n ", 3, 2, "empty"),
    ("only '['", b"[", 1, 2, "end of the file"),
    ("unclosed list", b"[{cmd: 'a'},\n", 2, 1, "end of the file"),
    ("unterminated string", b"[\n  {cmd: 'dut infer 1 0}\n]", 2, 9, "unterminated string"),
    ("string across lines", b"[{cmd: \"a\nb\"}]", 1, 8, "unterminated string"),
    ("unterminated regex", b"[\n{cmd: 'a',\n ack: /dut.?: m-ready}\n]", 3, 7, "unterminated regular expression"),
    ("regex class hides the slash", b"[{cmd: 'a', ack: /[/}]", 1, 18, "unterminated regular expression"),
    ("unterminated comment", b"[ /* never closed", 1, 3, "unterminated comment"),
    ("missing comma between objects", b"[\n{cmd: 'a'}\n{cmd: 'b'}\n]", 3, 1, "',' or ']'"),
    ("missing comma between keys", b"[{cmd: 'a'\n ms: 5}]", 2, 2, "',' or '}'"),
    ("missing colon", b"[{cmd 'a'}]", 1, 7, "':'"),
    ("missing cmd", b"[\n  {cmd: 'a'},\n  {ms: 5, ack: /x/}\n]", 3, 3, "cmd"),
    ("cmd not a string", b"[{cmd: 5}]", 1, 8, "string for cmd"),
    ("cmd a regex", b"[{cmd: /a/}]", 1, 8, "string for cmd"),
    ("fractional ms", b"[{cmd: 'a', ms: 1.5}]", 1, 17, "integer"),
    ("ms a string", b"[{cmd: 'a', ms: '5'}]", 1, 17, "integer"),
    ("ack a number", b"[{cmd: 'a', ack: 3}]", 1, 18, "regular expression"),
    ("bad regex flags", b"[{cmd: 'a', ack: /x/q}]", 1, 21, "flags"),
    ("not a list", b"{cmd: 'a'}", 1, 1, "'['"),
    ("list of strings", b"['umount']", 1, 2, "'{'"),
    ("hole in the list", b"[{cmd: 'a'},,]", 1, 13, "'{'"),
    ("text after the list", b"[]\n[]", 2, 1, "end of the file"),
    ("statement", b"var s = [];", 1, 1, "'['"),
    ("function call value", b"[{cmd: 'a', ms: f(1)}]", 1, 17, "value"),
    ("lone sign", b"[{cmd: 'a', ms: -}]", 1, 18, "number after '-'"),
    ("stray backslash", b"[{cmd: 'a'} \\]", 1, 13, "unexpected"),
    ("control character", b"[{cmd: 'a'}\x01]", 1, 12, "U+0001"),
    ("NUL byte", b"[{cmd: 'a'}]\n[\x00", 2, 2, "NUL"),
    ("binary bytes", b"[{cmd: 'a'},\n {cmd: '\xff\xfe'}]", 2, 9, "UTF-8"),
    ("truncated UTF-8", b"[{cmd: '\xc3", 1, 9, "UTF-8"),
    ("huge number", b"[{cmd: 'a', ms: " + b"9" * 5000 + b"}]", 1, 17, "too long"),
    ("deep nesting of lists", b"[{cmd: 'a', x: " + b"[" * 200 + b"]" * 200 + b"}]",
     1, 16 + MAX_DEPTH - 2, "nested more than"),
    ("deep nesting of objects", b"[{cmd: 'a', x: " + b"{a: " * 200 + b"}" * 200 + b"}]",
     1, 16 + 4 * (MAX_DEPTH - 2), "nested more than"),
    ("deep nesting of bare lists", b"[" * 100_000, 1, 2, "'{'"),
]


@pytest.mark.parametrize("data, line, column, words", [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_input_is_a_script_problem_with_a_place(data, line, column, words):
    with pytest.raises(ScriptProblem) as raised:
        parse_script_async(data)
    problem = raised.value
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert words in problem.message
    assert str(problem).startswith(f"line {line}, column {column}: ")
    assert pickle.loads(pickle.dumps(problem)).line == line


def test_every_prefix_of_a_real_script_is_parsed_or_refused_with_a_place():
    data = REAL_EXAMPLE.replace(b"'umount'", b"'bload dut \"C:\\\\a b\\\\x.bin\" 512 2560' /* c */")
    for end in range(len(data)):
        try:
            parse_script_async(data[:end])
        except ScriptProblem as problem:
            assert 1 <= problem.line <= data[:end].count(b"\n") + 1
            assert problem.column >= 1
        else:  # pragma: no cover - no proper prefix is a whole list
            pytest.fail(f"prefix of {end} bytes parsed")


def test_planned_inferences_refuses_absurd_numbers():
    steps = [ScriptStep(cmd="dut infer " + "9" * 5000 + " 1", ms=None, ack=None, line=7)]
    with pytest.raises(ScriptProblem) as raised:
        planned_inferences(steps)
    assert raised.value.line == 7


# ---------------------------------------------------------------------------------------------
# Size and time

def _generated_script(steps: int) -> bytes:
    parts = ["["]
    for i in range(steps // 2):
        parts.append(
            "    {\n        cmd: 'bload dut \"C:\\\\Users\\\\mahdi chtourou\\\\eembc\\\\runner\\\\benchmarks"
            f"\\\\ulp-mlperf\\\\datasets\\\\ad01\\\\normal_id_01_{i // 196:08d}_hist_librosa.bin\" {512 * (i % 196)} 2560',\n"
            "        ms: 1638400\n    },\n"
            "    {\n        cmd: 'dut infer 1 0',\n        ms: -1,\n        ack: /dut.?: m-ready/\n    },")
    parts.append("]\n")
    return "\n".join(parts).encode()


def _best_time(function, data, repeat=3):
    """Best CPU time of `repeat` runs: CPU, not wall-clock, so a busy machine does not fail the test."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        try:
            function(data)
        except ScriptProblem:
            pass
        best = min(best, time.process_time() - start)
    return best


def test_a_30000_step_script_parses_well_under_a_second():
    data = _generated_script(30_000)
    assert len(data) > 4_000_000
    steps = parse_script_async(data)
    assert len(steps) == 30_000 and steps[-1].line == data.count(b"\n") - 5
    planned = planned_inferences(steps)
    assert len(planned) == 15_000
    assert planned[-1] == ("normal_id_01_00000076_hist_librosa.bin", 512 * (14_999 % 196), 1, 0)
    assert _best_time(parse_script_async, data) < 1.0


@pytest.mark.parametrize("name, data", [
    ("unterminated regex with classes", b"[{cmd: 'a', ack: " + b"/[" * 1_000_000),
    ("unterminated string of escapes", b"[{cmd: 'a', x: '" + b"\\q" * 1_000_000),
    ("unterminated comment", b"[/*" + b"*" * 2_000_000),
    ("many comments", b"[" + b"//x\n/**/" * 300_000 + b"]"),
    ("many small objects", b"[" + b"{cmd:'a'}," * 100_000 + b"]"),
    ("one long string", b"[{cmd: '" + b"ab" * 1_000_000 + b"'}]"),
    ("many raw escapes", b"[{cmd: '" + b"\\U" * 500_000 + b"'}]"),
])
def test_hostile_inputs_of_a_few_megabytes_take_linear_time(name, data):
    assert _best_time(parse_script_async, data, repeat=1) < 3.0, name  # quadratic would take minutes
