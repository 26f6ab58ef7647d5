"""The notice to the person concerned (condition 5): what was used, what it said, who decided.

One :class:`Notice` per decision and language is built from the stored case, score and
decision, then rendered as HTML (a Jinja2 template under ``templates/notices/``) or as a
print-ready A4 PDF (reportlab). The Dutch text is written at language level B1: short
sentences, everyday words, the reader addressed as "u".

The main factors are the instrument's own explanation (:func:`waarborg.explain`) of the
case's inputs: the (at most) three factors that moved the score most.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from waarborg.i18n import Lang, gettext_for, localise
from waarborg.instruments.explain import explain
from waarborg.report.i18n import fmt_number
from waarborg.service import auditlog
from waarborg.service.auth import actor
from waarborg.service.casework import decided_case, instrument
from waarborg.service.store.models import Case, Decision, Process, User
from waarborg.service.words import role_name

TOP_FACTORS = 3
TEMPLATES = Path(__file__).parent / "templates" / "notices"


def _texts(lang: Lang) -> dict[str, str]:
    """The notice's fixed text in ``lang`` (``web`` catalog); ``%(name)s`` is filled in."""
    _ = gettext_for(lang, "web")[0]
    return {
        "title": _("About the decision on your case"),
        "intro": _(
            "You receive this explanation because we have taken a decision on your case. It "
            "concerns: %(process)s."
        ),
        "used_h": _("We used a risk assessment"),
        "used": _(
            "For your case we used a computer program. The program estimates a risk. It is "
            "called: %(title)s (version %(version)s)."
        ),
        "register": _(
            "You can find more about this program in the government's algorithm register, "
            "under: %(ref)s."
        ),
        "no_register": _("Would you like to know more about this program? Ask us."),
        "band_h": _("What was the result?"),
        "band": _(
            "The result was: category %(band)s. The categories go from %(low)s (lowest risk) "
            "to %(high)s (highest risk)."
        ),
        "band_range": _(
            "The result was between category %(low)s and %(high)s, because a piece of "
            "information about you was not known."
        ),
        "suggests": _(
            "For this category the program suggests choosing you for a next step, such as a check."
        ),
        "suggests_not": _("For this category the program suggests no next step."),
        "factors_h": _("What counted most?"),
        "factors": _("This information had the most influence on the result:"),
        "no_factors": _("None of your information made the result higher or lower."),
        "unknown": _("unknown"),
        "human_h": _("A person decided"),
        "human": _(
            "The program did not decide by itself. A member of staff looked at your case and "
            "then took the decision."
        ),
        "by_role": _("The decision was taken by a %(role)s%(team)s."),
        "by_name": _("The decision was taken by %(name)s (%(role)s)."),
        "team": _(" of team %(team)s"),
        "selected": _("The decision: you have been chosen for a next step."),
        "not_selected": _("The decision: you have not been chosen for a next step."),
        "follows": _("This decision agrees with the program's result."),
        "departs": _("The member of staff decided differently from what the program suggested."),
        "reason": _("The reason: %(rationale)s"),
        "date": _("Date of the decision: %(date)s."),
        "object_h": _("Do you disagree with the decision?"),
        "object": _(
            "Then you can object. Do so within 6 weeks of the date of the decision. Say in "
            "your letter why you disagree with the decision."
        ),
        "contact_h": _("Do you have questions?"),
        "contact": _("Please contact the organisation that sent you this explanation."),
        "data_h": _("Your data"),
        "retention": _(
            "We keep the data of this risk assessment until %(date)s. Then we delete it."
        ),
        "basis": _("We may use this data on the following basis: %(basis)s"),
        "footer": _(
            "Reference: case %(case)s · %(instrument)s %(version)s · specification %(spec)s"
        ),
        "reference_h": _("Why was your case checked?"),
        "reference": _(
            "Your case was drawn at random for a check. Of all cases, we draw a small share at "
            "random: %(share)s. These checks measure whether our way of selecting works and is "
            "fair."
        ),
        "reference_not_you": _(
            "The draw was not based on anything about you. The program's result played no part "
            "in it either."
        ),
    }


@dataclass(frozen=True)
class Section:
    """A heading with paragraphs and, optionally, a bulleted list."""

    heading: str
    paragraphs: list[str]
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Notice:
    """The notice's content in one language, ready to render."""

    lang: Lang
    title: str
    organisation: str | None
    intro: str
    sections: list[Section]
    footer: str


def _date(value: datetime, lang: Lang) -> str:
    """A date as a letter writes it: "1 december 2026" (CLDR month names, Babel)."""
    return format_date(value, "d MMMM y", locale=lang)


def _fill(template: str, **values: Any) -> str:
    return template % values


def read_notice(
    session: Session, user: User, case_id: int, lang: Lang, format: str = "html"
) -> tuple[Case, Notice]:
    """The notice of a decided case that ``user`` may read, with the read logged.

    Purpose binding as for the case (404 outside its process); 409 while undecided.
    """
    case = decided_case(session, user, case_id, "notice.read")
    notice = build_notice(case, lang)
    detail = {"lang": lang, "format": format}
    auditlog.append(
        session,
        actor(user),
        "notice.read",
        process_id=case.process_id,
        case_id=case.id,
        detail=detail,
    )
    return case, notice


def build_notice(case: Case, lang: Lang) -> Notice:
    """The notice for a decided case, in ``lang`` (``nl`` or ``en``)."""
    if case.decision is None:
        raise ValueError(f"case {case.id} has no decision")
    text, process, decision = _texts(lang), case.process, case.decision
    sections = [
        *_reference_section(case, text, lang),
        _instrument_section(case, text, lang),
        _band_section(case, text),
        _factor_section(case, text, lang),
        _decision_section(decision, process, text, lang),
        Section(text["object_h"], [process.objection or text["object"]]),
        Section(text["contact_h"], [process.contact or text["contact"]]),
        _data_section(case, text, lang),
    ]
    return Notice(
        lang=lang,
        title=text["title"],
        organisation=process.organisation,
        intro=_fill(text["intro"], process=process.name),
        sections=sections,
        footer=_fill(
            text["footer"],
            case=case.id,
            instrument=process.instrument_id,
            version=process.instrument_version,
            spec=case.spec_hash[:12],
        ),
    )


def fmt_share(share: float, lang: str) -> str:
    """A share as a percentage with the decimals it needs, in ``lang``.

    Examples
    --------
    >>> fmt_share(0.02, "nl"), fmt_share(0.005, "nl"), fmt_share(0.0125, "en")
    ('2%', '0,5%', '1.25%')
    """
    percent = round(share * 100, 6)
    digits = next(d for d in (0, 1, 2, 3, 4, 6) if round(percent, d) == percent or d == 6)
    return f"{fmt_number(percent, lang, digits)}%"


def _reference_section(case: Case, text: dict[str, str], lang: Lang) -> list[Section]:
    """For a case drawn into the random reference sample: why it was checked."""
    if not case.reference:
        return []
    assert case.draw is not None
    share = fmt_share(case.draw.share, lang)
    lines = [_fill(text["reference"], share=share), text["reference_not_you"]]
    return [Section(text["reference_h"], lines)]


def _instrument_section(case: Case, text: dict[str, str], lang: Lang) -> Section:
    process = case.process
    spec = instrument(process).spec
    title = (lang == "nl" and spec.title_nl) or spec.title
    used = _fill(text["used"], title=title, version=spec.version)
    ref = process.register_ref
    return Section(
        text["used_h"], [used, _fill(text["register"], ref=ref) if ref else text["no_register"]]
    )


def _band_section(case: Case, text: dict[str, str]) -> Section:
    score = case.score
    labels = instrument(case.process).spec.bands[score["outcome"]].labels
    if score["band"] is None and score.get("band_range"):
        low, high = score["band_range"]
        return Section(text["band_h"], [_fill(text["band_range"], low=low, high=high)])
    lines = [_fill(text["band"], band=score["band"], low=labels[0], high=labels[-1])]
    lines.append(text["suggests"] if score["suggests_selection"] else text["suggests_not"])
    return Section(text["band_h"], lines)


def _factor_section(case: Case, text: dict[str, str], lang: Lang) -> Section:
    explanation = explain(instrument(case.process), case.inputs, lang=lang)
    moved = [f for f in explanation.factors if f.contribution != 0.0][:TOP_FACTORS]
    if not moved:
        return Section(text["factors_h"], [text["no_factors"]])
    items = [f"{f.title}: {f.shown}. {f.text[0].upper()}{f.text[1:]}." for f in moved]
    return Section(text["factors_h"], [text["factors"]], items)


def _decision_section(
    decision: Decision, process: Process, text: dict[str, str], lang: Lang
) -> Section:
    role = localise(role_name(decision.decider_role), lang)
    if process.decider_disclosure == "name":
        who = _fill(text["by_name"], name=decision.decider_name, role=role)
    else:
        team = _fill(text["team"], team=decision.team) if decision.team else ""
        who = _fill(text["by_role"], role=role, team=team)
    return Section(
        text["human_h"],
        [
            text["human"],
            who,
            text[decision.outcome],
            text["follows"] if decision.follows_score else text["departs"],
            _fill(text["reason"], rationale=decision.rationale),
            _fill(text["date"], date=_date(decision.decided_at, lang)),
        ],
    )


def _data_section(case: Case, text: dict[str, str], lang: Lang) -> Section:
    until = case.created_at + timedelta(days=case.process.retention_days)
    lines = [_fill(text["retention"], date=_date(until, lang))]
    if case.process.lawful_basis:
        lines.append(_fill(text["basis"], basis=case.process.lawful_basis))
    return Section(text["data_h"], lines)


# --------------------------------------------------------------------------- rendering

# every value is escaped (it holds names, reasons and references typed by people)
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


def _style_hash() -> str:
    """The CSP source (``'sha256-…'``) of the notice's ``<style>`` element, as rendered."""
    css = _env.get_template("notice.css").render()
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


#: Lets a Content-Security-Policy allow exactly the notice's own stylesheet.
STYLE_HASH = _style_hash()


def to_html(notice: Notice) -> str:
    """The notice as a self-contained HTML page (inline style, prints on A4)."""
    return _env.get_template("notice.html.j2").render(notice=notice)


def as_response(case: Case, notice: Notice, format: str) -> Response:
    """The notice as an HTTP response: a page, or an inline PDF named after the case."""
    if format == "pdf":
        name = f"notice-case-{case.id}-{notice.lang}.pdf"
        headers = {"Content-Disposition": f'inline; filename="{name}"'}
        return Response(to_pdf(notice), media_type="application/pdf", headers=headers)
    return HTMLResponse(to_html(notice))


def to_pdf(notice: Notice) -> bytes:
    """The notice as a print-ready A4 PDF (the same content as the HTML)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body, heading = styles["BodyText"], styles["Heading2"]
    body.fontSize, body.leading = 11, 15
    story: list[Any] = []
    if notice.organisation:
        story.append(Paragraph(escape(notice.organisation), styles["Normal"]))
    story.append(Paragraph(escape(notice.title), styles["Title"]))
    story.append(Paragraph(escape(notice.intro), body))
    for section in notice.sections:
        story.append(Paragraph(escape(section.heading), heading))
        story += [Paragraph(escape(p), body) for p in section.paragraphs]
        if section.items:
            bullets = [ListItem(Paragraph(escape(i), body)) for i in section.items]
            story.append(ListFlowable(bullets, bulletType="bullet", leftIndent=12))
    story += [Spacer(1, 8 * mm), Paragraph(escape(notice.footer), styles["Italic"])]
    buffer = io.BytesIO()
    margins = {side: 20 * mm for side in ("leftMargin", "rightMargin", "topMargin", "bottomMargin")}
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=notice.title, lang=notice.lang, invariant=True, **margins
    )
    doc.build(story)
    return buffer.getvalue()
