"""``waarborg areas audit`` and ``waarborg simulate feedback``.

The area audit is a sibling of ``waarborg audit`` rather than a ``--unit area`` switch:
it reads other tables (incidents, residents, actions, cells) and none of the person
audit's options apply. The JSON and the report follow the same conventions, and nothing
is written unless the whole audit succeeded.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from waarborg.cli.app import app
from waarborg.cli.common import LangOpt, out, reports_errors, write_outputs

if TYPE_CHECKING:
    from waarborg.areas.criteria import Goal

areas_app = typer.Typer(help="Area instruments: audit of selected grid cells.")
app.add_typer(areas_app, name="areas")
simulate_app = typer.Typer(help="Simulations with known ground truth.")
app.add_typer(simulate_app, name="simulate")

JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the result as JSON.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")]


def read_goal(path: Path) -> "Goal":
    """A goal with success criteria from a YAML or JSON file (or a spec's ``goal:``)."""
    import yaml
    from pydantic import ValidationError

    from waarborg.areas.criteria import Goal
    from waarborg.errors import SpecError, describe_validation
    from waarborg.i18n import Message

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        unreadable = Message(
            "%(path)s: cannot read the goal: %(error)s", domain="reports", path=path, error=exc
        )
        raise SpecError(unreadable) from None
    if isinstance(data, dict) and "goal" in data:
        data = data["goal"]
    try:
        return Goal.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_validation(str(path), exc)) from None


@areas_app.command("audit")
@reports_errors
def areas_audit_command(
    scored: Annotated[Path, typer.Argument(help="Scored cells: cell_id, period, score, selected.")],
    incidents: Annotated[
        Path, typer.Option("--incidents", help="Incidents: cell_id, time/date, type, source.")
    ],
    residents: Annotated[
        Path | None,
        typer.Option(
            "--residents",
            help="Residents per group: cell_id or square (E####N####, x/y/size), group, residents.",
        ),
    ] = None,
    square_size: Annotated[
        float | None,
        typer.Option("--square-size", help="Side of the residents' squares (100 or 500 m)."),
    ] = None,
    actions: Annotated[
        Path | None,
        typer.Option("--actions", help="Police actions: cell_id, time, basis, person[, group]."),
    ] = None,
    cells: Annotated[
        Path | None, typer.Option("--cells", help="Cells' lower-left x, y (RD New): the map.")
    ] = None,
    cell_size: Annotated[float, typer.Option("--cell-size", help="Cell side (m).")] = 125.0,
    period_days: Annotated[int, typer.Option("--period-days", min=1)] = 14,
    goal: Annotated[
        Path | None, typer.Option("--goal", help="Goal and success criteria (YAML/JSON).")
    ] = None,
    instrument: Annotated[
        str | None,
        typer.Option("--instrument", help="Instrument id or spec (provenance; its goal)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Reference group (default: largest).")
    ] = None,
    min_group_size: Annotated[int, typer.Option("--min-group-size", min=0)] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    lang: LangOpt = "en",
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Audit an area instrument: accuracy, baselines, exposure, stops and criteria."""
    from waarborg.areas import audit_areas

    try:
        result = audit_areas(
            scored,
            incidents,
            residents=residents,
            actions=actions,
            goal=read_goal(goal) if goal is not None else None,
            period_days=period_days,
            cells=cells,
            cell_size=cell_size,
            square_size=square_size,
            reference=reference,
            min_group_size=min_group_size,
            seed=seed,
            instrument=instrument,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    html = result.to_html(lang) if report is not None else None
    text = result.to_json() + "\n" if json_out is not None else None
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)
    write_outputs([(json_out, text), (report, html)], lang)


@simulate_app.command("feedback")
@reports_errors
def simulate_feedback_command(
    cells: Annotated[int, typer.Option("--cells", min=4, help="Cells in the city.")] = 40_000,
    periods: Annotated[int, typer.Option("--periods", min=1)] = 100,
    areas_per_side: Annotated[int, typer.Option("--areas-per-side", min=1)] = 4,
    patrol_share: Annotated[float, typer.Option("--patrol-share", min=0.0, max=1.0)] = 0.03,
    discovery: Annotated[float, typer.Option("--discovery", min=0.0, max=1.0)] = 0.5,
    memory: Annotated[float, typer.Option("--memory", min=0.0, max=1.0)] = 1.0,
    urn: Annotated[
        str | None,
        typer.Option("--urn", help="Also run Ensign et al.'s two-area urn: LAMBDA_A,LAMBDA_B."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    lang: LangOpt = "en",
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Simulate the feedback loop under each update policy (see docs/areas-audit.md)."""
    from waarborg.areas import simulate_feedback
    from waarborg.areas.feedback import POLICIES
    from waarborg.areas.report import policy_label, render_feedback
    from waarborg.report.i18n import fmt_number

    try:
        result = simulate_feedback(
            n_cells=cells,
            periods=periods,
            areas_per_side=areas_per_side,
            patrol_share=patrol_share,
            discovery=discovery,
            memory=memory,
            policies=POLICIES,
            seed=seed,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    data = result.to_dict()
    if urn is not None:
        data["urn"] = _urn(urn, seed)
    html = render_feedback(data, lang) if report is not None else None
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)
    if urn is not None:
        for policy, u in data["urn"]["policies"].items():
            share = fmt_number(u["mean_final_share"], lang, 3)
            words = "urn {}: aandeel van A {}" if lang == "nl" else "urn {}: share of A {}"
            out.print(words.format(policy_label(policy, lang), share), highlight=False)
    write_outputs([(json_out, text), (report, html)], lang)


def _urn(text: str, seed: int) -> dict[str, object]:
    from waarborg.areas import urn_simulation

    try:
        lam_a, lam_b = (float(x) for x in text.split(","))
    except ValueError:
        raise typer.BadParameter("give two rates, e.g. 0.55,0.45", param_hint="--urn") from None
    out: dict[str, object] = {"lambda_a": lam_a, "lambda_b": lam_b, "policies": {}}
    for policy in ("discovered", "discovered_weighted"):
        try:
            share = urn_simulation(lam_a, lam_b, days=20_000, runs=100, policy=policy, seed=seed)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--urn") from None
        out["policies"][policy] = {  # type: ignore[index]
            "mean_final_share": float(share[-1].mean()),
            "mean_share_series": share.mean(axis=1).tolist(),
        }
    return out
