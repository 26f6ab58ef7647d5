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
from typing import Any, Literal
from xml.sax.saxutils import escape

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from waarborg.instruments.explain import explain
from waarborg.service import auditlog
from waarborg.service.auth import actor
from waarborg.service.casework import decided_case, instrument
from waarborg.service.store.models import Case, Decision, Process, User

Lang = Literal["nl", "en"]
TOP_FACTORS = 3
TEMPLATES = Path(__file__).parent / "templates" / "notices"

_MONTHS = {
    "nl": [
        *("januari", "februari", "maart", "april", "mei", "juni"),
        *("juli", "augustus", "september", "oktober", "november", "december"),
    ],
    "en": [
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ],
}

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Uitleg over het besluit over uw zaak",
        "intro": "U krijgt deze uitleg omdat wij een besluit hebben genomen over uw zaak. "
        "Het gaat om: {process}.",
        "used_h": "Wij gebruikten een risico-inschatting",
        "used": "Bij uw zaak hebben wij een computerprogramma gebruikt. Het programma schat "
        "een risico in. Het heet: {title} (versie {version}).",
        "register": "U vindt meer informatie over dit programma in het Algoritmeregister "
        "van de overheid, onder: {ref}.",
        "no_register": "Wilt u meer weten over dit programma? Vraag het ons.",
        "band_h": "Wat kwam eruit?",
        "band": "De uitkomst was: categorie {band}. De categorieën lopen van {low} (laagste "
        "risico) tot {high} (hoogste risico).",
        "band_range": "De uitkomst lag tussen categorie {low} en {high}. Dat komt doordat een "
        "gegeven over u niet bekend was.",
        "suggests": "Bij deze categorie stelt het programma voor om u te kiezen voor een "
        "vervolgstap, bijvoorbeeld een controle.",
        "suggests_not": "Bij deze categorie stelt het programma geen vervolgstap voor.",
        "factors_h": "Wat telde het zwaarst?",
        "factors": "Deze gegevens hadden de meeste invloed op de uitkomst:",
        "no_factors": "Geen van uw gegevens maakte de uitkomst hoger of lager.",
        "unknown": "onbekend",
        "human_h": "Een mens heeft besloten",
        "human": "Het programma heeft niet zelf besloten. Een medewerker heeft uw zaak "
        "bekeken en daarna het besluit genomen.",
        "by_role": "Het besluit is genomen door een {role}{team}.",
        "by_name": "Het besluit is genomen door {name} ({role}).",
        "team": " van team {team}",
        "selected": "Het besluit: u bent gekozen voor een vervolgstap.",
        "not_selected": "Het besluit: u bent niet gekozen voor een vervolgstap.",
        "follows": "Dit besluit komt overeen met de uitkomst van het programma.",
        "departs": "De medewerker heeft anders besloten dan het programma voorstelde.",
        "reason": "De reden: {rationale}",
        "date": "Datum van het besluit: {date}.",
        "object_h": "Bent u het niet eens met het besluit?",
        "object": "Dan kunt u bezwaar maken. Doe dat binnen 6 weken na de datum van het "
        "besluit. Schrijf in uw brief waarom u het niet eens bent met het besluit.",
        "contact_h": "Heeft u vragen?",
        "contact": "Neem dan contact op met de organisatie die u deze uitleg stuurt.",
        "data_h": "Uw gegevens",
        "retention": "Wij bewaren de gegevens van deze risico-inschatting tot {date}. Daarna "
        "verwijderen wij ze.",
        "basis": "Wij mogen deze gegevens gebruiken op grond van: {basis}",
        "footer": "Kenmerk: zaak {case} · {instrument} {version} · specificatie {spec}",
        "caseworker": "medewerker",
        "supervisor": "leidinggevende",
    },
    "en": {
        "title": "About the decision on your case",
        "intro": "You receive this explanation because we have taken a decision on your "
        "case. It concerns: {process}.",
        "used_h": "We used a risk assessment",
        "used": "For your case we used a computer program. The program estimates a risk. "
        "It is called: {title} (version {version}).",
        "register": "You can find more about this program in the government's algorithm "
        "register, under: {ref}.",
        "no_register": "Would you like to know more about this program? Ask us.",
        "band_h": "What was the result?",
        "band": "The result was: category {band}. The categories go from {low} (lowest risk) "
        "to {high} (highest risk).",
        "band_range": "The result was between category {low} and {high}, because a piece of "
        "information about you was not known.",
        "suggests": "For this category the program suggests choosing you for a next step, "
        "such as a check.",
        "suggests_not": "For this category the program suggests no next step.",
        "factors_h": "What counted most?",
        "factors": "This information had the most influence on the result:",
        "no_factors": "None of your information made the result higher or lower.",
        "unknown": "unknown",
        "human_h": "A person decided",
        "human": "The program did not decide by itself. A member of staff looked at your "
        "case and then took the decision.",
        "by_role": "The decision was taken by a {role}{team}.",
        "by_name": "The decision was taken by {name} ({role}).",
        "team": " of team {team}",
        "selected": "The decision: you have been chosen for a next step.",
        "not_selected": "The decision: you have not been chosen for a next step.",
        "follows": "This decision agrees with the program's result.",
        "departs": "The member of staff decided differently from what the program suggested.",
        "reason": "The reason: {rationale}",
        "date": "Date of the decision: {date}.",
        "object_h": "Do you disagree with the decision?",
        "object": "Then you can object. Do so within 6 weeks of the date of the decision. "
        "Say in your letter why you disagree with the decision.",
        "contact_h": "Do you have questions?",
        "contact": "Please contact the organisation that sent you this explanation.",
        "data_h": "Your data",
        "retention": "We keep the data of this risk assessment until {date}. Then we delete it.",
        "basis": "We may use this data on the following basis: {basis}",
        "footer": "Reference: case {case} · {instrument} {version} · specification {spec}",
        "caseworker": "case worker",
        "supervisor": "supervisor",
    },
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
    return f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"


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
    text, process, decision = _TEXT[lang], case.process, case.decision
    sections = [
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
        intro=text["intro"].format(process=process.name),
        sections=sections,
        footer=text["footer"].format(
            case=case.id,
            instrument=process.instrument_id,
            version=process.instrument_version,
            spec=case.spec_hash[:12],
        ),
    )


def _instrument_section(case: Case, text: dict[str, str], lang: Lang) -> Section:
    process = case.process
    spec = instrument(process).spec
    title = (lang == "nl" and spec.title_nl) or spec.title
    used = text["used"].format(title=title, version=spec.version)
    ref = process.register_ref
    return Section(
        text["used_h"], [used, text["register"].format(ref=ref) if ref else text["no_register"]]
    )


def _band_section(case: Case, text: dict[str, str]) -> Section:
    score = case.score
    labels = instrument(case.process).spec.bands[score["outcome"]].labels
    if score["band"] is None and score.get("band_range"):
        low, high = score["band_range"]
        return Section(text["band_h"], [text["band_range"].format(low=low, high=high)])
    lines = [text["band"].format(band=score["band"], low=labels[0], high=labels[-1])]
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
    role = text.get(decision.decider_role, decision.decider_role)
    if process.decider_disclosure == "name":
        who = text["by_name"].format(name=decision.decider_name, role=role)
    else:
        team = text["team"].format(team=decision.team) if decision.team else ""
        who = text["by_role"].format(role=role, team=team)
    return Section(
        text["human_h"],
        [
            text["human"],
            who,
            text[decision.outcome],
            text["follows"] if decision.follows_score else text["departs"],
            text["reason"].format(rationale=decision.rationale),
            text["date"].format(date=_date(decision.decided_at, lang)),
        ],
    )


def _data_section(case: Case, text: dict[str, str], lang: Lang) -> Section:
    until = case.created_at + timedelta(days=case.process.retention_days)
    lines = [text["retention"].format(date=_date(until, lang))]
    if case.process.lawful_basis:
        lines.append(text["basis"].format(basis=case.process.lawful_basis))
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
