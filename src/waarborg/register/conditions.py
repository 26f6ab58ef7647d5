"""The data protection authority's five conditions for automated risk selection, checked
from evidence.

Each condition gets a status (``met``, ``not_met`` or ``unknown``), the evidence behind it
and what is missing, in English and Dutch. The checks are defined precisely in
``docs/conditions.md``. This module is pure: it takes an :class:`Evidence` (plain data
that the service gathers from its database and log, or anyone else from theirs) and a
date, and never reads a database itself.

Examples
--------
>>> from datetime import UTC, date, datetime
>>> evidence = Evidence(process="p", process_created=datetime(2026, 1, 1, tzinfo=UTC))
>>> report = check_conditions(evidence, date(2026, 6, 1))
>>> [c.status for c in report.conditions]
['not_met', 'not_met', 'unknown', 'met', 'unknown']
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from waarborg.register.audits import cases
from waarborg.register.revalidation import RevalidationStatus

Status = Literal["met", "not_met", "unknown"]
MAX_FAST_SHARE = 0.2
"""Above this share of decisions under the rubber-stamp threshold, condition 3 is not met."""
MIN_DECISIONS = 30
"""Below this many decisions, the time to decide is too thin to judge condition 3 met."""


class CriterionEvidence(BaseModel):
    """A success criterion of the instrument as an audit judged it (met / not met / unknown).

    A criterion against a baseline (``hit_rate_gain_over_baseline``) speaks to
    necessity — does the instrument add anything to a simpler, less intrusive means —
    every other criterion to effectiveness.
    """

    metric: str
    status: Status
    text_en: str
    text_nl: str

    @property
    def necessity(self) -> bool:
        """Whether the criterion compares with a simpler alternative."""
        return self.metric == "hit_rate_gain_over_baseline"


class AuditEvidence(BaseModel):
    """A recorded audit: when, what kind, what it found, and the recorded justification."""

    kind: Literal["pre_deployment", "periodic"]
    recorded_at: datetime
    n: int | None = None
    disparities_tested: int = 0
    significant_en: list[str] = Field(default_factory=list)
    significant_nl: list[str] = Field(default_factory=list)
    justification: str | None = None
    criteria: list[CriterionEvidence] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        result: Mapping[str, Any],
        kind: Literal["pre_deployment", "periodic"],
        recorded_at: datetime,
        justification: str | None = None,
    ) -> AuditEvidence:
        """From an audit result (``AuditResult.to_dict()`` or its JSON)."""
        significant = [v for v in result.get("verdicts", []) if v.get("significant")]
        return cls(
            kind=kind,
            recorded_at=recorded_at,
            n=cases(result),
            disparities_tested=len(result.get("disparities", [])),
            significant_en=[v["text_en"] for v in significant],
            significant_nl=[v["text_nl"] for v in significant],
            justification=justification or None,
            criteria=[
                CriterionEvidence(
                    metric=c["metric"],
                    status=c["status"],
                    text_en=c["text_en"],
                    text_nl=c["text_nl"],
                )
                for c in result.get("criteria") or []
            ],
        )


class DecisionEvidence(BaseModel):
    """Who decided, how fast, how often against the score."""

    decisions: int = 0
    by_humans: int = 0
    with_rationale: int = 0
    overrides: int = 0
    """Departures from the score, among the decisions it guided (all but ``drawn``)."""
    drawn: int = 0
    """Checks that came from the random draw (a drawn case its band did not select,
    selected): not departures."""
    fast: int = 0
    rubber_stamp_seconds: float = 30.0
    median_seconds: float | None = None


class AccessEvidence(BaseModel):
    """What the audit log and the database say about purpose binding and retention."""

    chain_intact: bool = True
    chain_problem: str | None = None
    personal_data_reads: int = 0
    outside_process: int = 0
    refused: int = 0
    expired_live_cases: int = 0
    retention_deleted: int = 0


class NoticeEvidence(BaseModel):
    """Decided cases, and how many of them had a notice produced."""

    decided: int = 0
    with_notice: int = 0


class Evidence(BaseModel):
    """Everything the five checks look at, for one registered process."""

    process: str
    process_created: datetime
    retest_interval_days: int = 365
    audits: list[AuditEvidence] = Field(default_factory=list)
    decisions: DecisionEvidence = Field(default_factory=DecisionEvidence)
    access: AccessEvidence = Field(default_factory=AccessEvidence)
    notices: NoticeEvidence = Field(default_factory=NoticeEvidence)
    revalidation: RevalidationStatus | None = None


class Condition(BaseModel):
    """One condition's status with its evidence and what is missing."""

    number: int
    title_en: str
    title_nl: str
    status: Status
    evidence_en: list[str] = Field(default_factory=list)
    evidence_nl: list[str] = Field(default_factory=list)
    missing_en: list[str] = Field(default_factory=list)
    missing_nl: list[str] = Field(default_factory=list)


class ConditionsReport(BaseModel):
    """The five conditions for one process on one date, and warnings beside them."""

    process: str
    date: date
    conditions: list[Condition]
    warnings_en: list[str] = Field(default_factory=list)
    warnings_nl: list[str] = Field(default_factory=list)

    @property
    def all_met(self) -> bool:
        """Every condition is met."""
        return all(c.status == "met" for c in self.conditions)

    def summary(self, lang: Literal["en", "nl"] = "en") -> str:
        """The report as lines of text."""
        words = {"en": ("met", "NOT MET", "unknown"), "nl": ("voldaan", "NIET VOLDAAN", "onbekend")}
        label = dict(zip(("met", "not_met", "unknown"), words[lang], strict=True))
        lines = [f"{self.process} — {self.date}"]
        for c in self.conditions:
            title = c.title_en if lang == "en" else c.title_nl
            lines.append(f"{c.number}. {title}: {label[c.status]}")
            lines += [f"   - {e}" for e in (c.evidence_en if lang == "en" else c.evidence_nl)]
            missing = c.missing_en if lang == "en" else c.missing_nl
            lines += [f"   ! {m}" for m in missing]
        warnings = self.warnings_en if lang == "en" else self.warnings_nl
        return "\n".join([*lines, *(f"warning: {w}" for w in warnings)])


TITLES = [
    (
        "Discrimination examined and prevented before deployment",
        "Discriminatie vooraf onderzocht en voorkomen",
    ),
    ("Tested for discrimination periodically", "Periodiek getoetst op discriminatie"),
    (
        "Legal effects only after meaningful human intervention",
        "Rechtsgevolgen alleen na betekenisvolle menselijke tussenkomst",
    ),
    ("No other significant effects on the person", "Geen andere aanmerkelijke gevolgen"),
    (
        "The person can know a risk selection played a part",
        "De betrokkene kan weten dat een risicoselectie een rol speelde",
    ),
]


def check_conditions(evidence: Evidence, today: date) -> ConditionsReport:
    """Check the five conditions from ``evidence`` on ``today``."""
    checks = [_pre_deployment, _periodic, _human, _no_other_effects, _notices]
    conditions = []
    for number, (check, (en, nl)) in enumerate(zip(checks, TITLES, strict=True), start=1):
        condition = Condition(number=number, title_en=en, title_nl=nl, status="unknown")
        check(evidence, today, condition)
        conditions.append(condition)
    report = ConditionsReport(process=evidence.process, date=today, conditions=conditions)
    if evidence.revalidation is not None and not evidence.revalidation.ok:
        report.warnings_en += [f"revalidation: {b}" for b in evidence.revalidation.breaches]
        report.warnings_nl += [f"hervalidatie: {b}" for b in evidence.revalidation.breaches_nl]
    return report


def _add(items: tuple[list[str], list[str]], en: str, nl: str) -> None:
    items[0].append(en)
    items[1].append(nl)


def _evidence(c: Condition) -> tuple[list[str], list[str]]:
    return c.evidence_en, c.evidence_nl


def _missing(c: Condition) -> tuple[list[str], list[str]]:
    return c.missing_en, c.missing_nl


def _unjustified(audit: AuditEvidence) -> bool:
    return bool(audit.significant_en) and not audit.justification


def _describe_audit(audit: AuditEvidence, c: Condition) -> None:
    day = audit.recorded_at.date()
    _add(
        _evidence(c),
        f"{audit.kind.replace('_', '-')} audit of {day} (n = {audit.n}): "
        f"{audit.disparities_tested} disparities tested, {len(audit.significant_en)} significant",
        f"audit ({'vooraf' if audit.kind == 'pre_deployment' else 'periodiek'}) van {day} "
        f"(n = {audit.n}): {audit.disparities_tested} verschillen getoetst, "
        f"{len(audit.significant_nl)} significant",
    )
    for en, nl in zip(audit.significant_en, audit.significant_nl, strict=True):
        _add(_evidence(c), en, nl)
    if audit.justification:
        _add(
            _evidence(c),
            f"justification: {audit.justification}",
            f"rechtvaardiging: {audit.justification}",
        )
    for criterion in audit.criteria:
        en, nl = (
            ("necessity", "noodzaak") if criterion.necessity else ("effectiveness", "effectiviteit")
        )
        _add(_evidence(c), f"{en}: {criterion.text_en}", f"{nl}: {criterion.text_nl}")


def _weigh_criteria(audit: AuditEvidence, c: Condition) -> None:
    """The selection's justification rests on the instrument doing what it is for.

    A success criterion judged not met makes the condition not met; one still unknown
    (its interval straddles the threshold) leaves a condition that would be met unknown.
    Audits without criteria (person instruments need none) change nothing.
    """
    for criterion in audit.criteria:
        what_en, what_nl = (
            ("necessity", "noodzaak") if criterion.necessity else ("effectiveness", "effectiviteit")
        )
        if criterion.status == "not_met":
            c.status = "not_met"
            _add(
                _missing(c),
                f"{what_en} shown by the instrument's own success criterion ({criterion.metric}), "
                "which the audit judged not met",
                f"{what_nl} aangetoond met het eigen succescriterium van het instrument "
                f"({criterion.metric}), dat volgens de audit niet gehaald is",
            )
        elif criterion.status == "unknown":
            if c.status == "met":
                c.status = "unknown"
            _add(
                _missing(c),
                f"{what_en}: the audit could not tell whether success criterion "
                f"{criterion.metric} is met (its interval straddles the threshold)",
                f"{what_nl}: de audit kon niet vaststellen of succescriterium "
                f"{criterion.metric} gehaald is (het interval omvat de drempel)",
            )


def _pre_deployment(evidence: Evidence, today: date, c: Condition) -> None:
    audits = [a for a in evidence.audits if a.kind == "pre_deployment"]
    if not audits:
        c.status = "not_met"
        _add(
            _missing(c), "no pre-deployment audit is recorded", "er is geen audit vooraf vastgelegd"
        )
        return
    audit = audits[-1]
    _describe_audit(audit, c)
    c.status = "met"
    if audit.disparities_tested == 0:
        c.status = "not_met"
        _add(
            _missing(c),
            "the pre-deployment audit tested no group disparities",
            "de audit vooraf toetste geen verschillen tussen groepen",
        )
    if _unjustified(audit):
        c.status = "not_met"
        _add(
            _missing(c),
            "a justification for the remaining significant disparities",
            "een rechtvaardiging voor de overgebleven significante verschillen",
        )
    _weigh_criteria(audit, c)


def _periodic(evidence: Evidence, today: date, c: Condition) -> None:
    interval = evidence.retest_interval_days
    _add(_evidence(c), f"re-test interval: {interval} days", f"toetsinterval: {interval} dagen")
    if not evidence.audits:
        c.status = "not_met"
        _add(_missing(c), "no audit is recorded", "er is geen audit vastgelegd")
        return
    latest = max(evidence.audits, key=lambda a: a.recorded_at)
    age = (today - latest.recorded_at.date()).days
    _describe_audit(latest, c)
    first_due = (today - evidence.process_created.date()).days < interval
    if age > interval:
        c.status = "not_met"
        _add(
            _missing(c),
            f"a re-test: the latest audit is {age} days old, more than {interval}",
            f"een nieuwe toets: de laatste audit is {age} dagen oud, meer dan {interval}",
        )
    elif latest.kind == "pre_deployment" and not first_due:
        c.status = "not_met"
        _add(
            _missing(c),
            "a periodic re-test after deployment",
            "een periodieke toets na ingebruikname",
        )
    elif _unjustified(latest):
        c.status = "not_met"
        _add(
            _missing(c),
            "a justification for the significant disparities of the latest test",
            "een rechtvaardiging voor de significante verschillen van de laatste toets",
        )
    else:
        c.status = "met"
    _weigh_criteria(latest, c)


def _human(evidence: Evidence, today: date, c: Condition) -> None:
    d = evidence.decisions
    if d.decisions == 0:
        _add(_missing(c), "no decisions yet", "nog geen besluiten")
        return
    fast_share = d.fast / d.decisions
    median = "–" if d.median_seconds is None else f"{d.median_seconds:.0f} s"
    guided = d.decisions - d.drawn
    departing = f"{d.overrides / guided:.0%}" if guided else "–"
    _add(
        _evidence(c),
        f"{d.decisions} decisions, {d.by_humans} by a logged-in person with a rationale "
        f"({d.with_rationale}); {d.overrides} of the {guided} the score guided depart from "
        f"it ({departing}); {d.drawn} checked because drawn at random (not departures); "
        f"median time to decide {median}; "
        f"{d.fast} ({fast_share:.0%}) under {d.rubber_stamp_seconds:g} s",
        f"{d.decisions} besluiten, {d.by_humans} door een ingelogde persoon met motivering "
        f"({d.with_rationale}); {d.overrides} van de {guided} waarbij de score leidde, wijken "
        f"ervan af ({departing}); {d.drawn} gecontroleerd omdat ze aselect getrokken zijn "
        f"(geen afwijkingen); mediane beslistijd {median}; "
        f"{d.fast} ({fast_share:.0%}) sneller dan {d.rubber_stamp_seconds:g} s",
    )
    c.status = "met"
    if d.by_humans < d.decisions or d.with_rationale < d.decisions:
        c.status = "not_met"
        _add(
            _missing(c),
            "a person and a rationale behind every decision",
            "een persoon en een motivering achter elk besluit",
        )
    if d.decisions < MIN_DECISIONS:
        if c.status == "met":
            c.status = "unknown"
        _add(
            _missing(c),
            f"at least {MIN_DECISIONS} decisions to judge the time taken to decide "
            f"(there are {d.decisions})",
            f"minstens {MIN_DECISIONS} besluiten om de beslistijd te beoordelen "
            f"(er zijn er {d.decisions})",
        )
    elif fast_share > MAX_FAST_SHARE:
        c.status = "not_met"
        _add(
            _missing(c),
            f"time to decide: {fast_share:.0%} of decisions are faster than "
            f"{d.rubber_stamp_seconds:g} s (at most {MAX_FAST_SHARE:.0%}): "
            "a rubber-stamping sign",
            f"beslistijd: {fast_share:.0%} van de besluiten is sneller dan "
            f"{d.rubber_stamp_seconds:g} s (hoogstens {MAX_FAST_SHARE:.0%}): "
            "een teken van afstempelen",
        )


def _no_other_effects(evidence: Evidence, today: date, c: Condition) -> None:
    a = evidence.access
    if not a.chain_intact:
        _add(
            _missing(c),
            f"an intact audit log ({a.chain_problem})",
            f"een intact logboek ({a.chain_problem})",
        )
        return
    _add(
        _evidence(c),
        f"audit log intact; {a.personal_data_reads} reads of personal data, "
        f"{a.outside_process} outside the process; {a.refused} attempts refused; "
        f"{a.retention_deleted} cases deleted at the end of their retention; "
        f"{a.expired_live_cases} cases kept past it",
        f"logboek intact; {a.personal_data_reads} keer persoonsgegevens ingezien, "
        f"{a.outside_process} keer buiten het proces; {a.refused} pogingen geweigerd; "
        f"{a.retention_deleted} zaken verwijderd na de bewaartermijn; "
        f"{a.expired_live_cases} zaken langer bewaard",
    )
    c.status = "met"
    if a.outside_process:
        c.status = "not_met"
        _add(
            _missing(c),
            "no reads of scores outside their process",
            "geen inzage van scores buiten hun proces",
        )
    if a.expired_live_cases:
        c.status = "not_met"
        _add(
            _missing(c),
            "deletion of the cases past their retention period (run retention)",
            "verwijdering van de zaken na hun bewaartermijn (draai retention)",
        )


def _notices(evidence: Evidence, today: date, c: Condition) -> None:
    n = evidence.notices
    if n.decided == 0:
        _add(_missing(c), "no decisions yet", "nog geen besluiten")
        return
    _add(
        _evidence(c),
        f"{n.with_notice} of {n.decided} decisions have a notice",
        f"{n.with_notice} van {n.decided} besluiten hebben een bericht",
    )
    c.status = "met" if n.with_notice == n.decided else "not_met"
    if n.with_notice < n.decided:
        _add(
            _missing(c),
            f"a notice for {n.decided - n.with_notice} decisions",
            f"een bericht bij {n.decided - n.with_notice} besluiten",
        )
