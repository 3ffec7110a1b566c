"""`submit demo`: measure on the virtual DUT, package, check and report, in one new folder.

Registered on the `submit` app with `app.command()(demo)`; the work is in submission_tools/demo.py.
Exit codes: 0 the demo's tree passes `submit check`, 1 it has errors (the report is still
written), 2 usage or input error (--out not empty, --reference not a checkout or without the sim
extra; nothing written), 3 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

DEFAULT_OUT = Path("demo-out")  # in the current folder


def demo(
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", metavar="DIR",
                             help="New (or empty) folder for everything the demo makes: sessions/, "
                                  "tree/, reference/, report.html."),
    reference: Optional[Path] = typer.Option(
        None, "--reference", metavar="DIR",
        help="A checkout of mlcommons/tiny: the virtual DUT runs its reference int8 model for each "
             "benchmark whose real inputs exist (needs pip install -e '.\\[sim]')."),  # \[: not rich markup
    datasets: Optional[Path] = typer.Option(
        None, "--datasets", metavar="DIR",
        help="With --reference: a folder of real inputs, <model>/ with the files its y_labels.csv "
             "names (an eembc/energyrunner datasets folder)."),
) -> None:
    """Run the whole flow on the virtual DUT (no hardware, no downloads): every benchmark in every
    mode, packaged, checked and reported."""
    from harness.progress import Progress
    from submission_tools.demo import DemoOptions, run_demo, summary_lines

    result = run_demo(DemoOptions(out=out, reference=reference, datasets=datasets), Progress())
    for line in summary_lines(result):
        typer.echo(line)
    raise typer.Exit(result.exit_code())
