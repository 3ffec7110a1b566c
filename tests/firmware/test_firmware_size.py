"""The protocol engine is small enough for any MCU a submitter ports it to: its objects (firmware/api
only, no port, no model), compiled by the host port's Makefile at -Os, hold under 4 KB of code and
read-only data (`size`'s text column) with the reference's command set, and under 4.75 KB with
`caps` and `db bin` (docs/binary_download.md, EE_BINARY_DOWNLOAD=1, the default); and they depend
on no C library beyond a few string functions (no malloc, no printf, no floating-point helpers).

Measured with gcc 12 on x86-64: 3958 bytes without the binary download, 4806 with it. Its 850
bytes are some 285 of texts (four refusals, the CRC-32 mismatch line, the caps keys), the bitwise
CRC-32 (no table), the raw-mode receive and the acknowledgements; a port short of flash builds
with -DEE_BINARY_DOWNLOAD=0 and the harness then downloads in hex."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from helpers.firmware import build


LIMITS = {"1": 4864, "0": 4096}  # EE_BINARY_DOWNLOAD -> bytes of text: 4.75 KB, 4 KB
# What the engine may take from outside: the port's hooks, its own two objects, and the string
# functions every freestanding C library has.
ALLOWED_IMPORTS = {"memcmp", "memcpy", "memset", "strcmp", "strlen",
                   "th_serial_write", "th_timestamp_us", "th_timestamp_pulse", "th_load_tensor", "th_infer",
                   "th_result", "ee_put", "ee_put_uint", "ee_put_int", "ee_put_fixed3"}


@pytest.fixture(scope="module", params=sorted(LIMITS), ids=lambda flag: f"EE_BINARY_DOWNLOAD={flag}")
def engine_objects(request, tmp_path_factory):
    if not (shutil.which("size") and shutil.which("nm")):
        pytest.skip("measuring the engine needs binutils' size and nm on PATH")
    folder = build(tmp_path_factory.mktemp("fw-size"), target="api", OPT="-Os",
                   CFLAGS=f"-DEE_BINARY_DOWNLOAD={request.param}")
    objects = sorted((folder / "api").glob("*.o"))
    assert [o.name for o in objects] == ["ee_engine.o", "ee_format.o"]
    return request.param, objects


def test_engine_code_is_under_the_limit_at_os(engine_objects):
    flag, objects = engine_objects
    done = subprocess.run(["size", *map(str, objects)], capture_output=True, text=True, check=True)
    print("\n" + done.stdout)
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    text = sum(int(row[0]) for row in rows)
    assert len(rows) == 2
    assert 0 < text < LIMITS[flag], (f"the engine has {text} bytes of text at -Os with EE_BINARY_DOWNLOAD={flag} "
                                     f"(limit {LIMITS[flag]}):\n{done.stdout}")


def test_engine_needs_no_heap_no_printf_no_float_library(engine_objects):
    done = subprocess.run(["nm", "-u", *map(str, engine_objects[1])], capture_output=True, text=True, check=True)
    imported = {line.split()[-1] for line in done.stdout.splitlines() if line.strip().startswith("U ")}
    assert imported, done.stdout
    assert imported <= ALLOWED_IMPORTS, f"unexpected dependencies: {sorted(imported - ALLOWED_IMPORTS)}"
