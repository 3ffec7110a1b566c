"""The protocol engine is small enough for any MCU a submitter ports it to: its objects (firmware/api
only, no port, no model), compiled by the host port's Makefile at -Os, hold under 4 KB of code and
read-only data (`size`'s text column), and depend on no C library beyond a few string functions
(no malloc, no printf, no floating-point helpers)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from helpers.firmware import build


LIMIT = 4096
# What the engine may take from outside: the port's hooks, its own two objects, and the string
# functions every freestanding C library has.
ALLOWED_IMPORTS = {"memcmp", "memcpy", "memset", "strcmp", "strlen",
                   "th_serial_write", "th_timestamp_us", "th_timestamp_pulse", "th_load_tensor", "th_infer",
                   "th_result", "ee_put", "ee_put_uint", "ee_put_int", "ee_put_fixed3"}


@pytest.fixture(scope="module")
def engine_objects(tmp_path_factory):
    if not (shutil.which("size") and shutil.which("nm")):
        pytest.skip("measuring the engine needs binutils' size and nm on PATH")
    folder = build(tmp_path_factory.mktemp("fw-size"), target="api", OPT="-Os")
    objects = sorted((folder / "api").glob("*.o"))
    assert [o.name for o in objects] == ["ee_engine.o", "ee_format.o"]
    return objects


def test_engine_code_is_under_4_kb_at_os(engine_objects):
    done = subprocess.run(["size", *map(str, engine_objects)], capture_output=True, text=True, check=True)
    print("\n" + done.stdout)
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    text = sum(int(row[0]) for row in rows)
    assert len(rows) == 2
    assert 0 < text < LIMIT, f"the engine has {text} bytes of text at -Os (limit {LIMIT}):\n{done.stdout}"


def test_engine_needs_no_heap_no_printf_no_float_library(engine_objects):
    done = subprocess.run(["nm", "-u", *map(str, engine_objects)], capture_output=True, text=True, check=True)
    imported = {line.split()[-1] for line in done.stdout.splitlines() if line.strip().startswith("U ")}
    assert imported, done.stdout
    assert imported <= ALLOWED_IMPORTS, f"unexpected dependencies: {sorted(imported - ALLOWED_IMPORTS)}"
