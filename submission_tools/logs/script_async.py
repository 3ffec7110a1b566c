"""EEMBC EnergyRunner script.async (formats.md 2.3): the command list the runner replays.

The file is a JavaScript array literal, not JSON:

    [
        {
            cmd: 'bload dut "C:\\\\Users\\\\x y\\\\kws01\\\\tst_000000_Stop_7.bin"',
            ms: 7840
        },
        {
            cmd: 'dut infer 250 1',
            ms: -1,
            ack: /dut.?: m-ready/
        },
    ]

It is read with a small tokenizer and a recursive-descent parser; nothing is evaluated. Keys may be
identifiers or quoted, strings use either quote, values may be regex literals, numbers may be
signed, and comments and trailing commas are allowed. Keys other than cmd/ms/ack are parsed (so a
malformed value is still reported) and ignored.

Strings follow JavaScript escapes, with one deliberate difference: a backslash before a character
that has no JavaScript escape meaning (`\\U`, `\\e`, `\\x ` without two hex digits, ...) is kept
with that character. Such an escape cannot come from a JavaScript serializer, so it shows the
string was written raw, Windows path and all; in such a string every backslash is kept as written
(only `\\'` and `\\"` are unescaped), so `C:\\Users\\x y\\kws01\\tst_0.bin` keeps its `\\t` and its
basename instead of turning into a TAB.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from submission_tools.textio import TextProblem, decode_text

MAX_DEPTH = 64  # nested arrays/objects; the real files use 2
_MAX_DIGITS = 4000  # below Python's int() limit for decimal text (4300)


@dataclass(frozen=True)
class ScriptStep:
    cmd: str
    ms: int | None
    ack: str | None  # the regex source text, without slashes/flags
    line: int  # 1-based line where the object starts


class ScriptProblem(Exception):
    """Why script.async could not be read: what was expected, at `line`/`column` (1-based)."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column

    def __reduce__(self):
        return type(self), (self.message, self.line, self.column)


# ----------------------------------------------------------------------------------------------
# Tokenizer. One master pattern; whitespace and comments are skipped as a prefix of every token,
# so the parser only sees significant tokens. Every alternative is linear in what it consumes,
# and `bad` matches any single character, so the scanner never stalls; the parser turns a `bad`
# token into a ScriptProblem at once, so a failed (unterminated) scan happens at most once.

_LT = r"\n\r\u2028\u2029"  # JavaScript line terminators
_WS = rf"[ \t\v\f\u00a0\ufeff{_LT}]*"
_TOKEN = re.compile(
    rf"""
    {_WS}(?:(?://[^{_LT}]*|/\*[\s\S]*?\*/){_WS})*
    (?:
        (?P<punct>[\[\]{{}},:+-])
      | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
      | (?P<str>'[^'\\{_LT}]*(?:(?:\\\r\n|\\[\s\S])[^'\\{_LT}]*)*'
               |"[^"\\{_LT}]*(?:(?:\\\r\n|\\[\s\S])[^"\\{_LT}]*)*")
      | (?P<regex>/(?![*/])[^/\\\[{_LT}]*(?:(?:\\[^{_LT}]|\[[^\]\\{_LT}]*(?:\\[^{_LT}][^\]\\{_LT}]*)*\])
                 [^/\\\[{_LT}]*)*/[A-Za-z0-9_$]*)
      | (?P<num>0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<eof>\Z)
      | (?P<bad>[\s\S])
    )
    """,
    re.VERBOSE,
)

_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,8}\}|u[0-9a-fA-F]{4}|0[0-9]|\r\n|[\s\S])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0",
    "\\": "\\", "'": "'", '"': '"', "/": "/",
    "\n": "", "\r": "", "\r\n": "", "\u2028": "", "\u2029": "",  # line continuations
}
_REGEX_FLAGS = set("dgimsuvy")
_CONSTANTS = {"true": True, "false": False, "null": None, "undefined": None,
              "NaN": float("nan"), "Infinity": float("inf")}


def _describe(kind: str, text: str) -> str:
    if kind == "eof":
        return "the end of the file"
    if kind == "str":
        return "a string"
    if kind == "regex":
        return "a regular expression"
    if kind == "num":
        return f"the number {text[:20]}"
    if kind == "ident":
        return f"the name '{text[:40]}'"
    return repr(text) if text.isprintable() else f"the character U+{ord(text):04X}"


class _Parser:
    """Recursive descent over the token stream. `kind` is the current token's kind, with a
    punctuation token's kind being the character itself ('[', '{', ',', ...)."""

    def __init__(self, text: str):
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self._next = _TOKEN.finditer(text).__next__
        self.m: re.Match = None  # type: ignore[assignment]
        self.kind = ""
        self.value = ""
        self.advance()

    # -- positions and errors
    @property
    def pos(self) -> int:
        return self.m.start(self.m.lastgroup)

    def place(self, pos: int) -> tuple[int, int]:
        index = bisect_right(self.newlines, pos - 1)
        start = self.newlines[index - 1] + 1 if index else 0
        return index + 1, pos - start + 1

    def problem(self, message: str, pos: int | None = None) -> ScriptProblem:
        line, column = self.place(self.pos if pos is None else pos)
        return ScriptProblem(message, line, column)

    def expected(self, what: str) -> ScriptProblem:
        return self.problem(f"expected {what} but found {_describe(self.m.lastgroup, self.value)}")

    # -- tokens
    def advance(self) -> None:
        self.m = m = self._next()
        kind = m.lastgroup
        self.value = value = m.group(kind)
        if kind == "punct":
            self.kind = value
        elif kind == "bad":
            raise self.bad_token()
        else:
            self.kind = kind

    def bad_token(self) -> ScriptProblem:
        char, pos, text = self.value, self.pos, self.text
        if char in "'\"":
            return self.problem(f"unterminated string: no closing {char} before the end of the line")
        if char == "/":
            if text.startswith("/*", pos):
                return self.problem("unterminated comment: no closing */")
            return self.problem("unterminated regular expression: no closing / before the end of the line")
        if char.isdigit() or char == ".":
            return self.problem(f"malformed number starting with {char!r}")
        return self.problem(f"unexpected {_describe('bad', char)}")

    # -- grammar
    def script(self) -> list[ScriptStep]:
        if self.kind == "eof":
            raise self.problem("the file is empty: expected '[' starting the list of commands")
        if self.kind != "[":
            raise self.expected("'[' starting the list of commands")
        self.advance()
        steps = []
        while self.kind != "]":
            if self.kind != "{":
                raise self.expected("'{' starting a command object, or ']'")
            steps.append(self.step())
            if self.kind == ",":
                self.advance()
            elif self.kind != "]":
                raise self.expected("',' or ']' after a command object")
        self.advance()
        if self.kind != "eof":
            raise self.expected("the end of the file after ']'")
        return steps

    def step(self) -> ScriptStep:
        start = self.pos
        fields: dict[str, tuple[object, re.Match]] = {}
        advance = self.advance
        advance()  # '{'
        while self.kind != "}":
            key = self.key()
            if self.kind != ":":
                raise self.expected(f"':' after the key '{key[:40]}'")
            advance()
            m = self.m
            fields[key] = (self.value_(2), m)
            if self.kind == ",":
                advance()
            elif self.kind != "}":
                raise self.expected("',' or '}' after a value")
        advance()
        if "cmd" not in fields:
            raise self.problem("expected a cmd key in this command object, which has none", start)
        return ScriptStep(self.cmd(fields["cmd"]), self.ms(fields.get("ms")), self.ack(fields.get("ack")),
                          bisect_right(self.newlines, start - 1) + 1)

    def key(self) -> str:
        kind, text = self.kind, self.value
        if kind == "ident" or kind == "num":
            key = text
        elif kind == "str":
            key = self.string(text)
        else:
            raise self.expected("a key (a name or a quoted string) or '}'")
        self.advance()
        return key

    def value_(self, depth: int) -> object:
        kind, text = self.kind, self.value
        if kind == "str":
            self.advance()
            return self.string(text)
        if kind == "regex":
            regex = _Regex(self.regex(text))
            self.advance()
            return regex
        if kind == "num":
            number = self.number(text)
            self.advance()
            return number
        if kind == "ident":
            if text not in _CONSTANTS:
                raise self.problem(f"expected a value but found the name '{text[:40]}' "
                                   f"(only true, false, null, undefined, NaN and Infinity are known)")
            self.advance()
            return _CONSTANTS[text]
        if kind == "+" or kind == "-":
            self.advance()
            if self.kind == "num":
                number = self.number(self.value)
            elif self.kind == "ident" and self.value in ("Infinity", "NaN"):
                number = _CONSTANTS[self.value]
            else:
                raise self.expected(f"a number after '{text}'")
            self.advance()
            return -number if text == "-" else number
        if kind == "[" or kind == "{":
            if depth >= MAX_DEPTH:
                raise self.problem(f"nested more than {MAX_DEPTH} levels deep")
            self.advance()
            if kind == "[":
                items = []
                while self.kind != "]":
                    items.append(self.value_(depth + 1))
                    if self.kind == ",":
                        self.advance()
                    elif self.kind != "]":
                        raise self.expected("',' or ']' in a list")
                self.advance()
                return items
            obj = {}
            while self.kind != "}":
                key = self.key()
                if self.kind != ":":
                    raise self.expected(f"':' after the key '{key[:40]}'")
                self.advance()
                obj[key] = self.value_(depth + 1)
                if self.kind == ",":
                    self.advance()
                elif self.kind != "}":
                    raise self.expected("',' or '}' after a value")
            self.advance()
            return obj
        raise self.expected("a value")

    # -- literals
    def string(self, token: str) -> str:
        body = token[1:-1]
        if "\\" not in body:
            return body
        if "\\" not in body.replace("\\\\", ""):  # only \\ escapes, as in every real file
            return body.replace("\\\\", "\\")
        unknown = False

        def decode(m: re.Match) -> str:
            nonlocal unknown
            value = _escape_value(m.group())
            if value is None:
                unknown = True
                return m.group()
            return value

        decoded = _ESCAPE.sub(decode, body)
        if unknown:
            # Written raw (see the module docstring): keep every backslash but quote escapes.
            return _ESCAPE.sub(lambda m: m.group()[1:] if m.group() in ("\\'", '\\"') else m.group(), body)
        if _SURROGATE.search(decoded):
            try:  # join surrogate pairs from \uD83D\uDE00
                return decoded.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeError:
                pass
        return decoded

    def regex(self, token: str) -> str:
        end = token.rindex("/")
        flags = token[end + 1:]
        if set(flags) - _REGEX_FLAGS or len(set(flags)) != len(flags):
            raise self.problem(f"invalid regular expression flags '{flags[:20]}'", self.pos + end + 1)
        return token[1:end]

    def number(self, token: str) -> int | float:
        if len(token) > _MAX_DIGITS:
            raise self.problem(f"number of {len(token)} digits is too long")
        if token[:2].lower() in ("0x", "0o", "0b"):
            return int(token[2:], {"x": 16, "o": 8, "b": 2}[token[1].lower()])
        if token.isdigit():
            return int(token)
        return float(token)

    # -- the three fields the checker reads
    def at_value(self, message: str, m: re.Match) -> ScriptProblem:
        return self.problem(message, m.start(m.lastgroup))

    def cmd(self, field: tuple[object, re.Match]) -> str:
        value, m = field
        if not isinstance(value, str):
            raise self.at_value("expected a string for cmd", m)
        return value

    def ms(self, field: tuple[object, re.Match] | None) -> int | None:
        if field is None or field[0] is None:
            return None
        value, m = field
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.at_value("expected an integer number of milliseconds for ms", m)
        if isinstance(value, float):
            if not value.is_integer():
                raise self.at_value(f"expected an integer number of milliseconds for ms, not {value}", m)
            value = int(value)
        return value

    def ack(self, field: tuple[object, re.Match] | None) -> str | None:
        if field is None or field[0] is None:
            return None
        value, m = field
        if isinstance(value, _Regex):
            return value.source
        if isinstance(value, str):
            return value
        raise self.at_value("expected a regular expression (or a string) for ack", m)


@dataclass(frozen=True)
class _Regex:
    source: str


def _escape_value(escape: str) -> str | None:
    """The text of one JavaScript string escape, or None when JavaScript gives it no meaning."""
    body = escape[1:]
    if body in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[body]
    if len(body) == 3 and body[0] == "x":
        return chr(int(body[1:], 16))
    if body.startswith("u{"):
        code = int(body[2:-1], 16)
        return chr(code) if code <= 0x10FFFF else None
    if len(body) == 5 and body[0] == "u":
        return chr(int(body[1:], 16))
    return None


def parse_script_async(data: bytes) -> list[ScriptStep]:
    """The steps of a script.async; ScriptProblem says where and why the file is not one."""
    try:
        text = decode_text(data)
    except TextProblem as exc:
        raise ScriptProblem(f"the file {exc.reason}", exc.line or 1, exc.column or 1) from None
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # keep columns
    return _Parser(text).script()


# ----------------------------------------------------------------------------------------------
# What the script plans to run. Same command forms as the log parser (eembc_log.py).

_LOAD = re.compile(r'^\s*(?:bload\s+dut|bloadp)\s+"([^"]*)"(?:\s+(\d+)\s+(\d+))?')
_INFER = re.compile(r"^\s*(?:io\s+)?dut\s+infer\s+(\d+)\s+(\d+)")


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def planned_inferences(steps: list[ScriptStep]) -> list[tuple[str | None, int | None, int, int]]:
    """(input basename, offset, N, W) for each `dut infer N W` / `io dut infer N W` step.

    The input is the last `bload dut "<path>" [<offset> <len>]` or `bloadp "<path>"` before the
    step (None when there is none); the offset is None when the load gives none.
    """
    planned = []
    load: tuple[str | None, int | None] = (None, None)
    for step in steps:
        if m := _LOAD.match(step.cmd):
            offset = m.group(2)
            load = (_basename(m.group(1)), _number(offset, step) if offset is not None else None)
        elif m := _INFER.match(step.cmd):
            planned.append((*load, _number(m.group(1), step), _number(m.group(2), step)))
    return planned


def _number(digits: str, step: ScriptStep) -> int:
    if len(digits) > _MAX_DIGITS:
        raise ScriptProblem(f"a number of {len(digits)} digits in cmd '{step.cmd[:40]}...'", step.line, 1)
    return int(digits)
