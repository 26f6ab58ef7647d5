"""``waarborg selectivity thresholds``: the threshold test from a file (issue 15).

Reads a selection table (one row per case) or an aggregate table with counts per
(group, unit): the test runs from a cube. Prints the summary and writes the JSON and an
HTML section only when the whole test succeeded, each atomically.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.common import LangOpt, out, reports_errors, write_outputs
from waarborg.cli.selectivity import selectivity_app


@selectivity_app.command("thresholds")
@reports_errors
def thresholds_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="Selection table (selected, outcome, group and unit columns) or an "
            "aggregate table (cases, selected, hits[, checked] per group and unit)."
        ),
    ],
    group: Annotated[str, typer.Option("--group", help="Group column.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit column (team, region, period).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Reference group (default: largest).")
    ] = None,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=10, help="Draws from the posterior approximation.")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws.")] = 0,
    lang: LangOpt = "en",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the HTML section.")] = None,
) -> None:
    """Threshold test: a lower bar for a group, or a different base rate?"""
    from waarborg.selectivity.threshold import threshold_test
    from waarborg.selectivity.threshold_report import render_html

    try:
        result = threshold_test(source, group, unit, reference=reference, n_boot=n_boot, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    data = result.to_dict()
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    html = render_html(data, lang) if report is not None else None
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)
    write_outputs([(json_out, text), (report, html)], lang)
