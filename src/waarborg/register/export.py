"""An algorithm-register entry from what waarborg already holds.

The texts are written in Dutch at B1 level (short sentences, everyday words) from three
sources: the instrument's spec (how it works, which data, which data rules), the
registered process (purpose, retention, the human decision) and the latest audit (how
well it predicts, and what the discrimination tests found). What only the owner can say
comes from the owner file (:mod:`waarborg.register.owner`). The result is validated
against the publication standard (:mod:`waarborg.register.standard`): a text that is too
long, a value that is not permitted or a missing field is an error naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape as _escape
from typing import Any

from waarborg.areas.criteria import SuccessCriterion
from waarborg.audit.result import estimate_text
from waarborg.instruments.spec import (
    Band,
    InstrumentSpec,
    Predictor,
    level_title_in,
    spec_hash,
    title_in,
    unit_in,
)
from waarborg.register.audits import cases, day
from waarborg.register.owner import Owner
from waarborg.register.standard import RegisterEntry, build_entry
from waarborg.report.i18n import fmt_number

MODEL_NL = {
    "logistic": "logistische regressie: een gewogen som van de kenmerken geeft een kans",
    "cox": "een Cox-model (overlevingsmodel): een gewogen som van de kenmerken geeft de kans "
    "dat de uitkomst binnen een bepaalde tijd gebeurt",
    "points": "een puntensysteem: elk kenmerk geeft punten, en de som bepaalt de categorie",
    "tree": "beslisregels: vaste regels, in een vaste volgorde, bepalen de categorie",
    "domain_sum": "een optelling van risicofactoren en beschermende factoren per levensgebied",
    "poisson": "een Poisson-regressie: een gewogen som van de kenmerken geeft het verwachte "
    "aantal incidenten",
}
METRIC_NL = {
    "hit_rate": "trefkans",
    "pai": "PAI",
    "pei": "PEI",
    "auc": "AUC",
    "hit_rate_gain_over_baseline": "winst in trefkans",
}
TOP_VERDICTS = 3


@dataclass(frozen=True)
class ProcessFacts:
    """What the process registry says about the use of an instrument (no personal data).

    Parameters
    ----------
    name
        The process's name (becomes the entry's name).
    purpose
        What the instrument is used for here, in the owner's words.
    retention_days
        After how many days scores and decisions are deleted.
    register_ref
        The entry's id in the register, if it has one (``source_id``).
    """

    name: str
    purpose: str
    retention_days: int | None = None
    register_ref: str | None = None


def register_entry(
    spec: InstrumentSpec,
    owner: Owner,
    process: ProcessFacts | None = None,
    audit: Mapping[str, Any] | None = None,
) -> RegisterEntry:
    """The register entry of an instrument, or of its use in a process.

    Parameters
    ----------
    spec
        The instrument's spec.
    owner
        The owner's texts and choices (:func:`waarborg.register.owner.load_owner`).
    process
        The registered process, if the entry is about one use of the instrument.
    audit
        The latest audit result (``AuditResult`` or its JSON), for the risks field.

    Raises
    ------
    WaarborgError
        Naming the field that is too long, missing or not permitted.

    Examples
    --------
    >>> from waarborg import load_instrument
    >>> from waarborg.register.owner import DEMO_OWNER, load_owner
    >>> entry = register_entry(load_instrument("ritax-style").spec, load_owner(DEMO_OWNER))
    >>> entry.standard_version, entry.lang
    ('1.0', 'nld')
    """
    purpose = process.purpose if process else (spec.purpose_nl or spec.purpose)
    fields: dict[str, Any] = {
        "name": process.name if process else title_in(spec, "nl"),
        "description_short": _short(spec, owner, purpose),
        "organization": owner.organization,
        "category": owner.category,
        "status": owner.status,
        "begin_date": owner.begin_date,
        "contact_email": owner.contact_email,
        "website": owner.website,
        "publication_category": owner.publication_category,
        "goal": _goal(spec, purpose),
        "proportionality": owner.proportionality,
        "human_intervention": _human(process),
        "risks": _risks(spec, audit),
        "lawful_basis": owner.lawful_basis,
        "lawful_basis_grouping": owner.lawful_basis_links,
        "process_index_url": owner.process_index_url,
        "impacttoetsen_grouping": owner.impact_assessments,
        "impacttoetsen": owner.impact_assessments_note,
        "source_data": _source_data(spec),
        "source_data_grouping": owner.source_data_links,
        "methods_and_models": _methods(spec),
        "provider": owner.provider,
        "publiccode": owner.publiccode,
        "source_id": (process.register_ref if process else None) or f"{spec.id}@{spec.version}",
        "tags": owner.tags or f"risico-inschatting, risicoselectie, {spec.id}",
    }
    where = f"register entry of {process.name if process else spec.id}"
    return build_entry({k: v for k, v in fields.items() if v is not None}, where)


def escape(text: str) -> str:
    """Text made safe inside the entry's HTML (quotes stay readable)."""
    return _escape(text, quote=False)


def _p(*sentences: str) -> str:
    return "<p>" + " ".join(sentences) + "</p>"


def _ul(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _short(spec: InstrumentSpec, owner: Owner, purpose: str) -> str:
    if spec.is_area:
        return (
            f"{owner.organization} gebruikt een voorspelling per gebied "
            f"({title_in(spec, 'nl')}). Het instrument {_selection_nl(spec)}. Het "
            "beoordeelt geen personen. Het doel en de meetbare criteria staan bij 'Doel'."
        )
    return (
        f"{owner.organization} gebruikt een risico-instrument ({title_in(spec, 'nl')}). "
        "Doel: "
        f"{purpose.rstrip('.')}. Het instrument geeft een risicocategorie. Een medewerker "
        "beslist altijd zelf."
    )


def _goal(spec: InstrumentSpec, purpose: str) -> str:
    """Purpose, the spec's goal and success criteria, and what the output means.

    When everything does not fit in the standard's limit for the field, the last criteria
    give way to a line saying how many more the specification holds.
    """
    shown = len(spec.goal.success_criteria) if spec.goal else 0
    text = _goal_text(spec, purpose, shown)
    while len(text) > field_limit("goal") and shown > 0:
        shown -= 1
        text = _goal_text(spec, purpose, shown)
    return text


def field_limit(name: str) -> int:
    """The most characters the publication standard allows in the entry's field ``name``."""
    schema = RegisterEntry.model_json_schema()["properties"][name]
    options = schema.get("anyOf", [schema])
    return min(int(o["maxLength"]) for o in options if "maxLength" in o)


def _goal_text(spec: InstrumentSpec, purpose: str, shown: int) -> str:
    text = _p(f"Doel: {escape(purpose)}")
    if spec.goal is not None:
        text += _p(f"Wat het moet bereiken: {escape(spec.goal.statement_nl)}")
        criteria = spec.goal.success_criteria
        if criteria:
            items = [_criterion(c) for c in criteria[:shown]]
            if shown < len(criteria):
                items.append(f"en nog {len(criteria) - shown} criteria: zie de specificatie")
            text += _p("Wanneer het werkt (meetbare criteria):") + _ul(items)
    if spec.is_area:
        return text + _p(
            f"Voor welk gebied: {escape(spec.population_nl or spec.population)}",
            f"Het instrument {_selection_nl(spec)}.",
            "Een gekozen vak is geen verdenking van wie daar woont of komt.",
        )
    labels = "; ".join(
        f"{_outcome_nl(spec, name)}: {', '.join(_band_titles_nl(band))}"
        for name, band in spec.bands.items()
    )
    return text + _p(
        f"Voor wie: {escape(spec.population_nl or spec.population)}",
        "Het instrument schat het risico voor een persoon en geeft een categorie "
        f"({escape(labels)}).",
        "Een medewerker gebruikt die categorie bij zijn besluit;",
        "de categorie is zelf geen besluit.",
    )


def _outcome_nl(spec: InstrumentSpec, name: str) -> str:
    """The Dutch title of the outcome called ``name``."""
    return title_in(next(o for o in spec.outcomes if o.name == name), "nl")


def _band_titles_nl(band: Band) -> list[str]:
    """The Dutch titles of a band's labels."""
    return [level_title_in(band, x, "nl") for x in band.labels]


def _criterion(criterion: SuccessCriterion) -> str:
    """One success criterion: its Dutch text and the measure behind it."""
    measure = f"{METRIC_NL[criterion.metric]} {criterion.op} {_nl_short(criterion.value)}"
    if criterion.baseline:
        measure += f", vergeleken met {BASELINE_NL[criterion.baseline]}"
    return escape(f"{criterion.description_nl} ({measure})")


INCIDENT_NL = {
    "burglary": "woninginbraak",
    "street_robbery": "straatroof",
    "pickpocketing": "zakkenrollerij",
    "vehicle_crime": "voertuigcriminaliteit",
}
BASELINE_NL = {
    "last_period": "de brandhaarden van de vorige periode",
    "long_run": "de brandhaarden over lange tijd",
    "random": "willekeurige vakken",
}


def _selection_nl(spec: InstrumentSpec) -> str:
    """How an area instrument selects, in Dutch: 'kiest elke periode ...'."""
    area = spec.area
    assert area is not None
    rule = area.selection
    size = area.grid.cell_size if area.grid else None
    cells = f"vakken van {_nl_short(size)} bij {_nl_short(size)} meter" if size else "gebieden"
    if rule.top_share is not None:
        which = f"de {_nl_short(100 * rule.top_share)}% {cells} met de hoogste verwachting"
    else:
        which = f"de {cells} met een verwachting van minstens {_nl_short(rule.threshold or 0)}"
    return f"kiest elke periode van {area.period.days} dagen {which}"


def _human(process: ProcessFacts | None) -> str:
    text = _p(
        "Het algoritme neemt zelf geen besluit.",
        "Een medewerker opent de zaak, ziet de score, de categorie en de belangrijkste factoren, "
        "en beslist dan zelf.",
        "De medewerker schrijft op waarom. Wijkt het besluit af van de score, dan staat ook "
        "dat erbij, met de reden.",
        "Elk besluit wordt vastgelegd: wie, wanneer en waarom.",
    ) + _p(
        "Toezichthouders zien hoe vaak medewerkers afwijken van de score en hoe snel zij "
        "beslissen. Een heel snel besluit is een signaal dat iemand de score alleen "
        "overneemt.",
        "De betrokkene krijgt bij een besluit een bericht dat een risico-inschatting is "
        "gebruikt, welke, en hoe hij bezwaar kan maken.",
    )
    if process is not None and process.retention_days:
        text += _p(
            f"Scores en besluiten worden na {process.retention_days} dagen verwijderd.",
            "Een score mag alleen binnen dit proces worden gebruikt.",
        )
    return text


def _risks(spec: InstrumentSpec, audit: Mapping[str, Any] | None) -> str:
    parts = [
        _p(
            "Risico's: het instrument kan groepen ongelijk behandelen, ook via kenmerken die "
            "samenhangen met herkomst of inkomen, en de voorspellende waarde kan in de tijd "
            "afnemen."
        )
    ]
    if audit is None:
        parts.append(
            _p("Er is nog geen audit op voorspellende waarde en discriminatie vastgelegd.")
        )
    else:
        parts.append(_audit_summary(audit))
    if spec.data_rules is not None:
        parts.append(_p(_rules_sentence(spec)))
    if spec.is_area:
        parts.append(
            _p(
                "Bij een voorspelling per gebied: in gekozen vakken is meer politie, dus worden "
                "daar meer mensen staande gehouden zonder concrete verdenking. Wijken met veel "
                "bewoners met een migratieachtergrond kunnen vaker gekozen worden. Incidenten die "
                "de politie zelf ontdekt, volgen waar de politie was; een model dat daarop leert, "
                "kan zichzelf versterken."
            )
        )
    parts.append(
        _p(
            "Beheersing: de organisatie toetst het instrument vooraf en daarna periodiek op "
            "discriminatie en voorspellende waarde, controleert of de uitvoering precies de "
            "specificatie volgt, en legt elke inzage van persoonsgegevens vast."
        )
    )
    return "".join(parts)


def _audit_summary(audit: Mapping[str, Any]) -> str:
    created = day(audit)
    auc = audit.get("validity", {}).get("auc")
    n = cases(audit)
    lines = [f"Laatste audit: {created or 'datum onbekend'}, {n if n is not None else '?'} zaken."]
    if auc and auc.get("value") is not None:
        value, ci = estimate_text(auc["value"], *auc["ci"], "nl", sep=" tot ")
        lines.append(
            f"Voorspellende waarde (AUC): {value} (95%-betrouwbaarheidsinterval {ci}); "
            "0,5 is gokken, 1 is perfect."
        )
    significant = [v for v in audit.get("verdicts", []) if v.get("significant")]
    if significant:
        lines.append("Gevonden verschillen tussen groepen:")
        return _p(*lines) + _ul([escape(v["text_nl"]) for v in significant[:TOP_VERDICTS]])
    lines.append("De audit vond geen significante verschillen tussen groepen.")
    return _p(*lines)


def _nl(value: float) -> str:
    return fmt_number(value, "nl")


def _nl_short(value: float) -> str:
    """A number with a decimal comma and no trailing zeros (3 %, 0,2, 125)."""
    return fmt_number(value, "nl", None)


def _rules_sentence(spec: InstrumentSpec) -> str:
    rules = spec.data_rules
    assert rules is not None
    sentences = ["Regels voor gegevens:"]
    if rules.exclude_dispositions:
        kinds = ", ".join(rules.exclude_dispositions)
        sentences.append(f"registraties met afloop {kinds} tellen niet mee.")
    if rules.lookback_years:
        sentences.append(f"Registraties ouder dan {rules.lookback_years:g} jaar tellen niet mee.")
    return " ".join(sentences)


def _source_data(spec: InstrumentSpec) -> str:
    if spec.is_area:
        return _area_source_data(spec)
    items = []
    for p in [*spec.case_fields, *spec.predictors]:
        unit = unit_in(p, "nl") if isinstance(p, Predictor) else None
        items.append(escape(f"{title_in(p, 'nl')} ({unit})" if unit else title_in(p, "nl")))
    text = _p("Het instrument gebruikt deze gegevens over de persoon:") + _ul(items)
    if spec.data_rules is not None:
        text += _p(escape(_rules_sentence(spec)))
    return text


def _area_source_data(spec: InstrumentSpec) -> str:
    area = spec.area
    assert area is not None
    sources = {"reported": "gemeld door burgers", "discovered": "ontdekt door de politie"}
    used = ", ".join(sources[s] for s in area.incidents.sources)
    text = _p(
        "Het instrument gebruikt geregistreerde incidenten per vak en per periode "
        f"({escape(', '.join(INCIDENT_NL.get(t, t) for t in area.incidents.types))}; bron: "
        f"{used}) en vaste kenmerken van "
        "vakken. Het gebruikt geen gegevens over personen:"
    ) + _ul([escape(title_in(p, "nl")) for p in spec.predictors])
    if area.incidents.uses_discovered:
        text += _p(
            "Let op: door de politie ontdekte incidenten hangen af van waar de politie was. "
            "Zo kan het instrument zichzelf versterken."
        )
    return text


def _methods(spec: InstrumentSpec) -> str:
    model = spec.model
    parts = [
        _p(
            f"Het model is {MODEL_NL[model.kind]}.",
            f"Het gebruikt {len(spec.predictors)} kenmerken.",
            "Het is niet zelflerend: de gewichten en grenzen staan vast in een specificatie met "
            f"versie {escape(spec.version)} en inhoudshash {spec_hash(spec)[:12]}.",
        )
    ]
    if model.variants:
        field = next(f for f in spec.case_fields if f.name == model.variant_field)
        names = ", ".join(level_title_in(field, v, "nl") for v in model.variants)
        parts.append(
            _p(
                f"Er is een aparte formule per groep ({escape(names)}), gekozen met het gegeven "
                f"'{escape(title_in(field, 'nl'))}'."
            )
        )
    if spec.is_area:
        parts.append(_p(f"Selectie: het instrument {_selection_nl(spec)}."))
    cuts = [
        f"{escape(_outcome_nl(spec, name))}: grenzen {', '.join(map(_nl, band.cutoffs))} op de "
        f"{'kans' if band.quantity == 'probability' else 'score'}"
        for name, band in spec.bands.items()
    ]
    if cuts:
        parts.append(_p("Categorieën:") + _ul(cuts))
    if spec.provenance.parameters == "illustrative":
        parts.append(_p("Let op: de getallen in deze specificatie zijn illustratief."))
    return "".join(parts)
