"""The template port (firmware/ports/template) is where a submitter starts: it must compile and
link against the engine with the strict flags as it is, define every hook ee_hooks.h declares, and
mark each place to fill in."""

from __future__ import annotations

import re
import subprocess

from helpers.firmware import REPO, require_toolchain

API = REPO / "firmware" / "api"
TEMPLATE = REPO / "firmware" / "ports" / "template" / "port.c"


def test_template_port_builds_with_warnings_as_errors(tmp_path):
    cc, _ = require_toolchain()
    done = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Os", f"-I{API}",
                           str(API / "ee_engine.c"), str(API / "ee_format.c"), str(TEMPLATE),
                           "-o", str(tmp_path / "template.elf")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "template.elf").stat().st_size > 0


def test_template_defines_every_hook_and_marks_each_todo():
    hooks = re.findall(r"^\w[\w\s\*]*?\b(th_\w+)\(", (API / "ee_hooks.h").read_text(), re.M)
    assert len(hooks) == 6, hooks
    source = TEMPLATE.read_text()
    for hook in hooks:
        body = source.split(f" {hook}(", 1)[1].split("\n}\n", 1)[0]
        # every hook but th_result (which works as it is) says what the board must do
        assert hook == "th_result" or "TODO(port)" in body, hook
    assert source.count("TODO(port)") >= 12
