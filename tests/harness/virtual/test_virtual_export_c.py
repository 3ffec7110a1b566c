"""`python -m harness.virtual.export_c`: the C header of a built-in model carries exactly the
weights and constants BuiltinModel computes with (the C port's results depend on every byte)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from harness.virtual.dut import MAX_DB_INPUT_SIZE
from harness.virtual.export_c import header_text, main
from harness.virtual.models import CLASSES, INPUT_SIZE, LOGIT_SHIFT, BuiltinModel


def _defines(text: str) -> dict[str, str]:
    return dict(re.findall(r"^#define (\w+) (\S+)", text, re.M))


@pytest.mark.parametrize("model_id", ["kws01", "vww01", "ic01", "ad01", "sww01"])
def test_header_holds_the_models_weights_and_constants(model_id):
    text = header_text(model_id)
    up = model_id.upper()
    body = text.split(f"builtin_{model_id}_weights[", 1)[1].split("{", 1)[1].split("};", 1)[0]
    values = [int(v) for v in body.replace("\n", "").split(",") if v.strip()]
    assert bytes(v & 0xFF for v in values) == BuiltinModel(model_id).weights_bytes()
    defines = _defines(text)
    assert defines[f"BUILTIN_{up}_ID"] == f'"{model_id}"'
    assert int(defines[f"BUILTIN_{up}_INPUT_SIZE"]) == INPUT_SIZE[model_id]
    assert int(defines[f"BUILTIN_{up}_CLASSES"]) == CLASSES[model_id]
    assert int(defines[f"BUILTIN_{up}_LOGIT_SHIFT"]) == LOGIT_SHIFT.get(model_id, 0)
    assert int(defines[f"BUILTIN_{up}_MAX_DB"]) == MAX_DB_INPUT_SIZE.get(model_id, INPUT_SIZE[model_id])
    assert int(defines[f"BUILTIN_{up}_WEIGHTS_LEN"]) == len(values)
    assert defines[f"BUILTIN_{up}_ANOMALY"] == ("1" if model_id == "ad01" else "0")
    assert defines[f"BUILTIN_{up}_INPUT_UINT8"] == ("1" if model_id in ("vww01", "ic01") else "0")
    assert text == header_text(model_id)  # deterministic: a rebuild regenerates the same file


def test_command_line_writes_the_file_and_refuses_an_unknown_model(tmp_path, capsys):
    out = tmp_path / "sub" / "builtin_kws01.h"
    assert main(["kws01", str(out)]) == 0
    assert out.read_text(encoding="ascii") == header_text("kws01")
    assert not list(out.parent.glob("*.partial"))
    done = subprocess.run([sys.executable, "-m", "harness.virtual.export_c", "kws99", str(tmp_path / "x.h")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "unknown model id 'kws99'" in done.stderr
    assert not (tmp_path / "x.h").exists()
