"""``waarborg verify`` and ``waarborg instruments vectors``: conformance of an implementation."""

from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.app import app, instruments_app
from waarborg.cli.common import InstrumentArg, LangOpt, out, reports_errors, write_outputs


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """``A=B`` items as a mapping; anything else is a usage error naming the option."""
    pairs = {}
    for item in items:
        left, sep, right = item.partition("=")
        if not sep or not left or not right:
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        pairs[left] = right
    return pairs


def _band_labels(items: list[str]) -> dict[str, dict[str, str]]:
    """``outcome=THEIRS:OURS,THEIRS:OURS`` items as per-outcome label mappings."""
    out = {}
    for outcome, spec in _pairs(items, "--band-labels").items():
        pairs = [p.partition(":") for p in spec.split(",")]
        if any(not sep for _, sep, _ in pairs):
            raise typer.BadParameter(
                f"expected THEIRS:OURS pairs, got {spec!r}", param_hint="--band-labels"
            )
        out[outcome] = {theirs: ours for theirs, _, ours in pairs}
    return out


@app.command("verify")
@reports_errors
def verify_command(
    instrument: InstrumentArg,
    cases: Annotated[Path, typer.Argument(help="The inputs the deployed system scored.")],
    observed: Annotated[Path, typer.Argument(help="The deployed system's outputs per case id.")],
    id_column: Annotated[str, typer.Option("--id", help="The case id column.")] = "case_id",
    tolerance: Annotated[
        float, typer.Option(help="Largest probability difference that agrees.")
    ] = 1e-6,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="An output's column in the observed file: band_violent=RISK_CAT_VIOL "
            "(repeatable).",
        ),
    ] = None,
    band_labels: Annotated[
        list[str] | None,
        typer.Option(
            help="The observed file's band labels as the spec's, per outcome: "
            "violent=L:laag,M:midden,H:hoog (repeatable)."
        ),
    ] = None,
    events: Annotated[Path | None, typer.Option(help="Event records (data rules).")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report.")] = None,
    lang: LangOpt = "en",
) -> None:
    """Check a deployed implementation against its spec; exit 0 if it agrees, 1 if not."""
    from waarborg.verify import verify

    if not tolerance >= 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--tolerance")
    result = verify(
        instrument,
        cases,
        observed,
        id=id_column,
        tolerance=tolerance,
        columns=_pairs(column_map or [], "--map"),
        band_labels=_band_labels(band_labels or []),
        events=events,
    )
    html = result.to_html(lang) if report is not None else None
    write_outputs([(json_out, result.to_json() + "\n"), (report, html)], lang)
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


@instruments_app.command("vectors")
@reports_errors
def vectors_command(
    instrument: InstrumentArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="Vectors file: .csv/.parquet")],
    seed: Annotated[int, typer.Option(help="Seed of the pool the boundary cases come from.")] = 0,
) -> None:
    """Write acceptance test vectors (inputs and expected outputs) for a supplier."""
    from waarborg.tables import write_table
    from waarborg.verify import acceptance_vectors

    vectors = acceptance_vectors(instrument, seed=seed)
    write_table(vectors, output)
    out.print(f"wrote {vectors.num_rows} acceptance vectors → {output}", highlight=False)
