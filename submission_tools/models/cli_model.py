"""`submit model`: compare a submitted .tflite with the closed-division reference, or say which
reference model a file is.

    submit model verify SUBMITTED --reference REF [--benchmark kws|vww|ic|ic2|ad|sww] [--format text|json]
    submit model identify FILE [--reference DIR] [--format text|json]

REF is a checkout of mlcommons/tiny (the benchmark is then identified from the submitted file, or
taken from --benchmark) or a float reference .tflite. Exit codes: 0 EXACT, PASS or WARN_* (a
WARN needs a reviewer), 1 FAIL or STRUCTURE_MISMATCH, 2 bad input (missing or malformed file,
unusable checkout, unknown benchmark). `identify` exits 0 whenever it can answer (also "unknown").

Mount it in the main app with ``app.add_typer(model_app, name="model")``.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from submission_tools.errors import InputError, SubmitError
from submission_tools.reference import ENV_VAR

if TYPE_CHECKING:  # numpy, tflite and rich load only when a model command runs (fast `submit --version`)
    from submission_tools.models.equivalence import EquivalenceResult

model_app = typer.Typer(
    name="model",
    help="Compare a submitted .tflite with the closed-division reference model, or identify a model file.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Benchmark(str, Enum):
    kws = "kws"
    vww = "vww"
    ic = "ic"
    ic2 = "ic2"
    ad = "ad"
    sww = "sww"


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


_VERDICT_STYLE = {"EXACT": "bold green", "PASS": "bold green", "WARN_NON_RTN": "bold yellow",
                  "WARN_RESCALED": "bold yellow", "FAIL": "bold red", "STRUCTURE_MISMATCH": "bold red"}


def _fail_cleanly(exc: SubmitError) -> typer.Exit:
    """The same `ClassName: message` line and exit code as the main CLI, when run on its own."""
    sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
    sys.stderr.flush()
    return typer.Exit(exc.exit_code)


@model_app.command()
def verify(
    submitted: Path = typer.Argument(..., help="The submitted model (.tflite)."),
    reference: Path = typer.Option(
        ..., "--reference", "-r", envvar=ENV_VAR,
        help=f"A checkout of mlcommons/tiny (or ${ENV_VAR}), or the float reference .tflite itself."),
    benchmark: Optional[Benchmark] = typer.Option(
        None, "--benchmark", "-b", help="The benchmark; identified from the submitted file when omitted."),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text (table) or json."),
) -> None:
    """Check that a submitted .tflite is the reference model, faithfully quantized."""
    try:
        result = run_verify(submitted, reference, benchmark.value if benchmark else None)
    except SubmitError as exc:
        raise _fail_cleanly(exc) from None
    if format is OutputFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        sys.stdout.write(render_verify(result, color=_color()))
        sys.stdout.flush()
    raise typer.Exit(result.exit_code)


@model_app.command(name="identify")
def identify_command(
    file: Path = typer.Argument(..., help="A model file."),
    reference: Optional[Path] = typer.Option(
        None, "--reference", "-r", help="A checkout of mlcommons/tiny whose reference files are also compared."),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
) -> None:
    """Say which reference model a file is: by sha256, else by structure, else unknown."""
    from submission_tools.models.registry import identify

    try:
        ident = identify(file, checkout=reference)
    except SubmitError as exc:
        raise _fail_cleanly(exc) from None
    if format is OutputFormat.json:
        typer.echo(json.dumps(ident.to_dict(), indent=2))
    else:
        typer.echo(f"{file}: {ident.message}")


def run_verify(submitted: Path, reference: Path, benchmark: Optional[str] = None) -> EquivalenceResult:
    """Resolve the reference, compare, and return the result (SubmitError for bad input)."""
    from submission_tools.models.equivalence import compare_models
    from submission_tools.models.registry import benchmark as benchmark_models
    from submission_tools.models.registry import benchmark_names, identify, locate_pair
    from submission_tools.models.tflite_reader import read_model

    submitted = Path(submitted)
    reference = Path(reference)
    if benchmark is not None and benchmark not in benchmark_names():
        raise InputError(f"unknown benchmark {benchmark!r}; choose one of: {', '.join(benchmark_names())}")
    sub_model = read_model(submitted)
    notes: list[str] = []
    ref_model = None
    ident = identify(submitted, model=sub_model)
    if ident.kind == "reference":
        notes.append(f"the submitted file is {ident.message}")
    if reference.is_dir():
        name = benchmark or ident.benchmark
        if name is None:
            raise InputError(f"{submitted}: cannot tell which benchmark it is for ({ident.message}); "
                             f"pass --benchmark {'|'.join(benchmark_names())}")
        if benchmark and ident.benchmark and ident.benchmark != benchmark:
            notes.append(f"the submitted file looks like the {ident.benchmark} model, but --benchmark "
                         f"{benchmark} was given: compared with the {benchmark} reference")
        pair = locate_pair(reference, name)
        notes.extend(pair.notes)
        ref_path = pair.float_path
    elif reference.is_file():
        ref_path = reference
        ref_model = read_model(reference)
        ref_ident = identify(reference, model=ref_model)
        name = benchmark or ref_ident.benchmark or ident.benchmark
        if ref_ident.kind == "reference" and ref_ident.role == "int8":
            notes.append(f"--reference is the {ref_ident.benchmark} int8 reference: weights are compared with "
                         f"its dequantized weights; the float reference is the canonical one")
        if ref_ident.kind == "reference" and ref_ident.benchmark:
            float_note = benchmark_models(ref_ident.benchmark).float
            if float_note.sha256 == ref_ident.sha256 and float_note.note:
                notes.append(float_note.note)
    else:
        raise InputError(f"{reference}: no such file or folder; --reference wants a checkout of "
                         f"mlcommons/tiny or the float reference .tflite")
    if ref_model is None:
        ref_model = read_model(ref_path)
    result = compare_models(sub_model, ref_model)
    result.benchmark = name
    result.identification = ident.to_dict()
    result.notes = notes + result.notes
    return result


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _fmt(value: Optional[float], digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "-"
    if value >= 1e3:
        return ">1e3"
    return f"{value:.{digits}f}"


_SHORT_OP = {"DEPTHWISE_CONV_2D": "DW_CONV_2D", "FULLY_CONNECTED": "FC"}


def _short_quant(text: str) -> str:
    return text.replace("per-channel(axis ", "ch(").replace("per-tensor", "tensor")


def render_verify(result: EquivalenceResult, color: bool = False, width: int = 150) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      emoji=False, soft_wrap=True)
    console.print(Text(f"submitted: {result.submitted}", style="bold"))
    console.print(f"reference: {result.reference}" + (f" ({result.benchmark})" if result.benchmark else ""))
    if result.identification:
        console.print(f"identified: {result.identification['message']}")
    if result.structure_differences:
        console.print(Text("Structure differences:", style="bold"))
        for diff in result.structure_differences:
            console.print(f"  - {diff}")
    if result.layers:
        table = Table(title=f"Weight layers ({len(result.layers)} of {result.operators} operators)",
                      title_justify="left", show_edge=False)
        for column, justify in (("#", "right"), ("op", "left"), ("weights", "left"), ("quantization", "left"),
                                ("reference", "left"), ("max err/tol", "right"), ("≤½ step", "right"),
                                ("corr", "right"), ("pruned", "right"), ("scale dev", "right"),
                                ("bias steps", "right"), ("verdict", "left")):
            table.add_column(column, justify=justify, no_wrap=column != "max err/tol")
        for layer in result.layers:
            err = _fmt(layer.max_err_tol)
            if layer.rescaled_max_err_tol is not None:
                err += f" ({_fmt(layer.rescaled_max_err_tol)} rescaled)"
            table.add_row(str(layer.layer), _SHORT_OP.get(layer.op, layer.op), "x".join(map(str, layer.shape)),
                          _short_quant(layer.submitted_quantization), _short_quant(layer.reference_weights), err,
                          f"{layer.frac_le_half:.4f}", _fmt(layer.correlation, 5), str(layer.pruned),
                          "-" if layer.scale_ratio_maxdev is None else f"{layer.scale_ratio_maxdev:.1e}",
                          _fmt(layer.bias_max_err_steps) + ("" if layer.bias_ok in (None, True) else " !"),
                          Text(layer.verdict.value, style=_VERDICT_STYLE[layer.verdict.value]))
        console.print(table)
        for layer in result.layers:
            for note in layer.notes:
                console.print(Text(f"  layer {layer.layer}: {note}", style="dim"))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    verdict = Text(result.verdict.value, style=_VERDICT_STYLE[result.verdict.value])
    verdict.append(f": {result.reason}", style="")
    console.print(verdict)
    return buffer.getvalue()
