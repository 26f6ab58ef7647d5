"""``waarborg synth``: synthetic cohorts with documented, planted mechanisms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.app import InstrumentArg, app, out, reports_errors
from waarborg.instruments.engine import list_instruments
from waarborg.synth import synthesize, synthesize_events
from waarborg.tables import write_table


@app.command("synth")
@reports_errors
def synth_command(
    instrument: InstrumentArg,
    n: Annotated[int, typer.Option("-n", min=1, help="Number of cases.")] = 100_000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same cohort.")
    ] = 0,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Cases file: .csv/.parquet")
    ] = Path("cases.parquet"),
    events: Annotated[
        Path | None,
        typer.Option(help="Also write police event records (preselect-style) to this file."),
    ] = None,
) -> None:
    """Generate a synthetic cohort for a bundled instrument, with documented mechanisms."""
    if instrument not in list_instruments():
        raise typer.BadParameter(f"choose one of {', '.join(list_instruments())}")
    cases = synthesize(instrument, n, seed=seed)
    write_table(cases, output)
    out.print(f"wrote {cases.num_rows} synthetic cases for {instrument} → {output}")
    if events is not None:
        records = synthesize_events(cases, seed=seed)
        write_table(records, events)
        out.print(f"wrote {records.num_rows} event records → {events}")
