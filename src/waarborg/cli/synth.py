"""``waarborg synth``: synthetic cohorts with documented, planted mechanisms."""

from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.app import app
from waarborg.cli.common import InstrumentArg, out, reports_errors


@app.command("synth")
@reports_errors
def synth_command(
    instrument: InstrumentArg,
    n: Annotated[int, typer.Option("-n", min=1, help="Number of cases.")] = 100_000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same cohort.")
    ] = 0,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Cases file (.csv/.parquet); for an area instrument, a folder "
            "(default: cases.parquet, or the instrument's id).",
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Also write police event records (preselect-style) to this file."),
    ] = None,
    size: Annotated[
        int, typer.Option(min=3, help="Area instruments: cells per side of the city.")
    ] = 200,
    periods: Annotated[
        int, typer.Option(min=1, help="Area instruments: number of two-week periods.")
    ] = 130,
) -> None:
    """Generate a synthetic cohort (or city) for a bundled instrument, with planted mechanisms."""
    from waarborg.instruments.engine import list_instruments
    from waarborg.synth import synthesize, synthesize_events
    from waarborg.tables import write_table

    if instrument in list_instruments("area"):
        from waarborg.areas.synth import synthesize_city

        folder = output or Path(instrument)
        city = synthesize_city(size=size, periods=periods, seed=seed)
        paths = city.write(folder)
        out.print(
            f"wrote a synthetic city of {city.cells.num_rows} cells × {periods} periods "
            f"({city.incidents.num_rows} incidents, {city.actions.num_rows} police actions) → "
            f"{', '.join(str(p) for p in paths)}"
        )
        return
    if instrument not in list_instruments():
        raise typer.BadParameter(f"choose one of {', '.join(list_instruments(unit=None))}")
    output = output or Path("cases.parquet")
    cases = synthesize(instrument, n, seed=seed)
    write_table(cases, output)
    out.print(f"wrote {cases.num_rows} synthetic cases for {instrument} → {output}")
    if events is not None:
        records = synthesize_events(cases, seed=seed)
        write_table(records, events)
        out.print(f"wrote {records.num_rows} event records → {events}")
