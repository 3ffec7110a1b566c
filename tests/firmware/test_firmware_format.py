"""The engine's number output (firmware/api/ee_format.c) against Python's, value for value.

The engine prints results without printf; hosts compare them with what C printf("%0.3f") and
Python f"{v:0.3f}" print for the same double (correct rounding of the exact binary value, ties to
even). A small driver, built with the sanitizers where the compiler has them, prints the values
given as IEEE bit patterns: every class of double (zeros, subnormals, the largest, infinities, NaNs),
exact ties (k / 2^n), the doubles either side of each rounding boundary, the built-in models'
outputs, and random bit patterns over all exponents. The integer printers are checked at their ends.
"""

from __future__ import annotations

import math
import random
import struct
import subprocess

import pytest

from helpers.firmware import REPO, require_toolchain


DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ee_engine.h"
#include "ee_hooks.h"

void th_serial_write(const char *data, size_t len) { fwrite(data, 1, len, stdout); }

int main(void)
{
    char line[64];

    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == 'u') {
            ee_put_uint((uint32_t)strtoul(line + 1, NULL, 10));
        } else if (line[0] == 'i') {
            ee_put_int((int32_t)strtol(line + 1, NULL, 10));
        } else {
            unsigned long long bits = strtoull(line + 1, NULL, 16);
            uint64_t exact = (uint64_t)bits;
            double value;

            memcpy(&value, &exact, sizeof value);
            ee_put_fixed3(value);
        }
        putchar('\n');
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def printer(tmp_path_factory):
    cc, _ = require_toolchain()
    folder = tmp_path_factory.mktemp("fw-format")
    (folder / "driver.c").write_text(DRIVER, encoding="ascii")
    base = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", f"-I{REPO / 'firmware' / 'api'}",
            str(folder / "driver.c"), str(REPO / "firmware" / "api" / "ee_format.c"), "-o", str(folder / "printer")]
    sanitized = subprocess.run([*base, "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
                               capture_output=True, text=True, check=False)
    if sanitized.returncode != 0:  # a compiler without the sanitizers: the plain build still checks output
        plain = subprocess.run(base, capture_output=True, text=True, check=False)
        assert plain.returncode == 0, plain.stderr
    return folder / "printer"


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _run(printer, lines: list[str]) -> list[str]:
    done = subprocess.run([str(printer)], input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr[-2000:]
    return done.stdout.splitlines()


def _doubles() -> list[float]:
    rng = random.Random(7)
    values = [0.0, -0.0, math.inf, -math.inf, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
              -1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64, 1e16, 1e17, 1e22, 1e23, 0.1, 2.675,
              0.0005, 0.0015, 0.0025, 1.0005, 999.9995, 1e-300, 4503599627370495.5, 9007199254740.993]
    values += [k / 256 for k in range(257)]  # every probability the int8 softmax can print
    values += [k / 40960.0 for k in range(0, 200_000, 7)]  # the shape of every ad01 score
    for n in range(1, 30):  # exact binary fractions: the ties of %0.3f are among these
        values += [rng.randrange(1 << min(n + 12, 52)) / 2.0**n for _ in range(40)]
    for _ in range(3000):  # both sides of a rounding boundary x.xxx5
        boundary = (rng.randrange(10**7) + 0.5) / 1000
        values += [boundary, math.nextafter(boundary, math.inf), math.nextafter(boundary, -math.inf)]
    values += [rng.uniform(-2000, 2000) for _ in range(5000)]
    for _ in range(5000):  # any bit pattern: every exponent, subnormals, NaN payloads
        values.append(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0])
    return values


def test_fixed3_is_pythons_format_for_every_kind_of_double(printer):
    values = _doubles()
    printed = _run(printer, [f"d{_bits(v):016x}" for v in values])
    assert len(printed) == len(values)
    wrong = [(v, ours, f"{v:0.3f}") for v, ours in zip(values, printed) if ours != f"{v:0.3f}"]
    assert not wrong, wrong[:10]
    assert "-nan" not in printed and "nan" in printed  # NaN prints as Python prints it, whatever its sign


def test_integers_print_at_both_ends_of_their_range(printer):
    unsigned = [0, 1, 9, 10, 99, 100, 4294967295, 4294967294, 1_000_000_000, 2**31]
    signed = [-(2**31), -(2**31) + 1, -10, -1, 0, 1, 2**31 - 1]
    printed = _run(printer, [f"u{v}" for v in unsigned] + [f"i{v}" for v in signed])
    assert printed == [str(v) for v in unsigned + signed]
