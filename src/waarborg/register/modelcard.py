"""The model card: an instrument's technical documentation, in HTML and Markdown.

Purpose, population, structure and variables, data rules, validity and discrimination
results with their intervals (from the audits given), known limitations, the date of the
last validation and when the next is due. Dutch or English. The HTML is self-contained
and uses the audit report's style and plots.

Everything from the spec or the audits is escaped: in HTML by Jinja2's autoescaping (only
the plots, whose text matplotlib escapes, are inserted as markup); in Markdown by
:func:`md_escape`, because a Markdown renderer passes raw HTML (``<script>``, ``<meta>``)
through and turns ``[text](url)`` into links.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from waarborg.audit.result import estimate_text
from waarborg.instruments.spec import (
    Band,
    CaseField,
    InstrumentSpec,
    Predictor,
    level_title_in,
    spec_hash,
    title_in,
    unit_in,
)
from waarborg.register.audits import as_mapping, cases, day
from waarborg.register.revalidation import revalidation_status
from waarborg.report.i18n import N_, fmt_count, fmt_number, texts

Lang = Literal["en", "nl"]

TEXT: dict[str, str] = {
    "title": N_("Model card"),
    "purpose": N_("Purpose"),
    "population": N_("Population"),
    "structure": N_("Structure and variables"),
    "model": N_("Model"),
    "variable": N_("Variable"),
    "type": N_("Type"),
    "allowed": N_("Values"),
    "missing": N_("If missing"),
    "bands": N_("Bands"),
    "cutoffs": N_("cut-offs"),
    "selected": N_("selected"),
    "data_rules": N_("Data rules"),
    "no_rules": N_("No event data rules."),
    "excluded": N_("Records with these dispositions never count"),
    "lookback": N_("Records older than {y:g} years drop out"),
    "validity": N_("Validity and discrimination"),
    "no_audits": N_(
        "No audit results were given: validity and discrimination are not documented here."
    ),
    "audit": N_("Audit"),
    "date": N_("date"),
    "cases": N_("cases"),
    "auc": N_("AUC (95% CI)"),
    "findings": N_("Significant findings of the latest audit"),
    "no_findings": N_("The latest audit found no significant disparities."),
    "limitations": N_("Known limitations"),
    "illustrative": N_(
        "The parameters of this spec are illustrative, not published or estimated values."
    ),
    "range_policy": N_(
        "Unknown inputs under the range policy give a range of bands, not one: {names}."
    ),
    "validation": N_("Validation"),
    "last_validated": N_("Last validated"),
    "next_due": N_("Next validation due"),
    "status": N_("Status"),
    "within": N_("within policy"),
    "unknown": N_("unknown"),
    "sources": N_("Sources"),
    "footer": N_("Spec {id} {version}, content hash {hash}; made on {today} by waarborg."),
    "type_numeric": N_("number"),
    "type_integer": N_("whole number"),
    "type_boolean": N_("yes or no"),
    "type_categorical": N_("category"),
    "type_date": N_("date"),
    "missing_error": N_("error: the value is required"),
    "missing_range": N_("every admissible value is scored"),
    "missing_level": N_("scored as {level}"),
    "quantity_probability": N_("probability"),
    "quantity_score": N_("score"),
    "kind_logistic": N_("logistic regression"),
    "kind_cox": N_("Cox proportional-hazards model"),
    "kind_points": N_("points"),
    "kind_tree": N_("decision rules"),
    "kind_domain_sum": N_("sum per life domain"),
    "kind_poisson": N_("Poisson regression"),
}


def model_card(
    spec: InstrumentSpec,
    audits: Sequence[Any] = (),
    *,
    lang: Lang = "en",
    today: date | None = None,
    format: Literal["html", "md"] = "html",
) -> str:
    """The instrument's model card as HTML or Markdown.

    Parameters
    ----------
    spec
        The instrument's spec.
    audits
        Audit results (``AuditResult`` or JSON), earliest first; the last is the latest.
    lang
        ``"en"`` or ``"nl"``.
    today
        The date the card (and the revalidation status) is for; default today.
    format
        ``"html"`` (self-contained, with plots) or ``"md"``.

    Examples
    --------
    >>> from waarborg import load_instrument
    >>> card = model_card(load_instrument("ritax-style").spec, format="md")
    >>> card.startswith("# Model card: ")
    True
    """
    view = _view(spec, [as_mapping(a) for a in audits], lang, today or date.today())
    if format == "html":
        view["plots"] = _plots(view["latest"], lang)
    template = "modelcard.html.j2" if format == "html" else "modelcard.md.j2"
    return _environment(format).get_template(template).render(**view)


def _view(
    spec: InstrumentSpec, audits: list[Mapping[str, Any]], lang: Lang, today: date
) -> dict[str, Any]:
    t = texts(TEXT, lang)
    status = revalidation_status(spec, audits, today)
    latest = audits[-1] if audits else None
    return {
        "t": t,
        "lang": lang,
        "spec": spec,
        "title": title_in(spec, lang),
        "purpose": (lang == "nl" and spec.purpose_nl) or spec.purpose,
        "population": (lang == "nl" and spec.population_nl) or spec.population,
        "description": spec.description if lang == "en" else "",
        "model_kind": t[f"kind_{spec.model.kind}"],
        "variant_field": _variant_field(spec, lang),
        "variables": [_variable(p, t, lang) for p in [*spec.case_fields, *spec.predictors]],
        "bands": [_band(spec, name, band, t, lang) for name, band in spec.bands.items()],
        "rules": _rules(spec, t),
        "audits": [_audit_row(a, lang) for a in audits],
        "latest": latest,
        "findings": [
            v[f"text_{lang}"] for v in (latest or {}).get("verdicts", []) if v.get("significant")
        ],
        "limitations": _limitations(spec, t, lang),
        "status": status,
        "breaches": status.breaches if lang == "en" else status.breaches_nl,
        "footer": t["footer"].format(
            id=spec.id, version=spec.version, hash=spec_hash(spec)[:12], today=today
        ),
    }


def _variant_field(spec: InstrumentSpec, lang: str) -> str:
    """The case field that chooses the formula, with its levels, as a person reads it."""
    name = spec.model.variant_field
    if not name:
        return ""
    field = next(f for f in spec.case_fields if f.name == name)
    levels = ", ".join(level_title_in(field, v, lang) for v in spec.model.all_variants)
    return f"{title_in(field, lang)}: {levels}"


def _variable(p: CaseField | Predictor, t: dict[str, str], lang: str) -> dict[str, str]:
    values = ", ".join(level_title_in(p, v, lang) for v in p.levels or [])
    if isinstance(p, Predictor) and p.range is not None:
        low, high = (fmt_number(x, lang, None) for x in p.range)
        values = f"{low}–{high}"
        unit = unit_in(p, lang)
        values += f" {unit}" if unit else ""
    if not isinstance(p, Predictor):
        missing = t["missing_error"]
    elif isinstance(p.missing, str):
        missing = t[f"missing_{p.missing}"]
    else:
        missing = t["missing_level"].format(level=level_title_in(p, p.missing.level, lang))
    return {
        "name": p.name,
        "title": title_in(p, lang),
        "type": t[f"type_{p.type}"],
        "allowed": values,
        "missing": missing,
    }


def _band(
    spec: InstrumentSpec, name: str, band: Band, t: dict[str, str], lang: str
) -> dict[str, str]:
    cuts = ", ".join(fmt_number(c, lang, None) for c in band.cutoffs)
    selected = ", ".join(level_title_in(band, x, lang) for x in band.selected_labels)
    quantity = t[f"quantity_{band.quantity}"]
    outcome = next(o for o in spec.outcomes if o.name == name)
    return {
        "outcome": title_in(outcome, lang),
        "labels": ", ".join(level_title_in(band, x, lang) for x in band.labels),
        "text": f"{t['cutoffs']} {cuts} ({quantity}); {t['selected']}: {selected}",
    }


def _rules(spec: InstrumentSpec, t: dict[str, str]) -> list[str]:
    rules = spec.data_rules
    if rules is None:
        return []
    lines = []
    if rules.exclude_dispositions:
        lines.append(f"{t['excluded']}: {', '.join(rules.exclude_dispositions)}")
    if rules.lookback_years:
        lines.append(t["lookback"].format(y=rules.lookback_years))
    return lines


def _audit_row(audit: Mapping[str, Any], lang: str) -> dict[str, Any]:
    auc = audit.get("validity", {}).get("auc") or {}
    ci = auc.get("ci") or [None, None]
    shown = (
        estimate_text(auc["value"], *ci, lang, digits=3) if auc.get("value") is not None else None
    )
    return {
        "date": day(audit),
        "n": fmt_count(cases(audit), lang),
        "auc": "–" if shown is None else f"{shown[0]} ({shown[1]})",
    }


def _limitations(spec: InstrumentSpec, t: dict[str, str], lang: str) -> list[str]:
    lines = []
    if spec.provenance.parameters == "illustrative":
        lines.append(t["illustrative"])
    if spec.provenance.notes and lang == "en":  # the spec's notes are written in English
        lines.append(spec.provenance.notes)
    ranged = [title_in(p, lang) for p in spec.predictors if p.missing == "range"]
    if ranged:
        lines.append(t["range_policy"].format(names=", ".join(ranged)))
    return lines


def _plots(latest: Mapping[str, Any] | None, lang: str) -> list[Markup]:
    """ROC and calibration of the latest audit, as inline SVG (the audit report's plots)."""
    if not latest or "validity" not in latest:
        return []
    from waarborg.report.plots import calibration_svg, roc_svg

    validity = latest["validity"]
    plots = []
    if validity.get("roc"):
        plots.append(roc_svg(validity["roc"], lang, latest.get("groups")))
    if validity.get("calibration") or validity.get("calibration_deciles"):
        plots.append(calibration_svg(latest, lang))
    return [Markup(svg) for svg in plots]  # matplotlib escapes the text in them


_MD_SPECIAL = re.compile(r"([\\`\[\]|])")


def md_escape(value: Any) -> str:
    r"""``value`` as Markdown text that renders as itself, never as HTML or a link.

    ``&``, ``<`` and ``>`` become character references (raw HTML and autolinks are gone;
    the reader still sees the characters); backslash, backtick, brackets and the table's
    ``|`` are backslash-escaped. Markup made here (:class:`markupsafe.Markup`) is kept.

    Examples
    --------
    >>> print(md_escape("<script>alert(1)</script> [x](javascript:y) a|b"))
    &lt;script&gt;alert(1)&lt;/script&gt; \[x\](javascript:y) a\|b
    """
    if isinstance(value, Markup):
        return str(value)
    text = _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_code(value: Any) -> Markup:
    """A code span holding ``value`` literally (fenced by more backticks than it has).

    Raw HTML is not read inside a code span; only a table's ``|`` needs its backslash.
    """
    text = str(value).replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


_WEB_URL = re.compile(r"https?://[^\s<>`\\\"']+", re.IGNORECASE)


def is_web_url(value: Any) -> bool:
    """Whether ``value`` is a plain http(s) URL: the only kind of source made a link.

    Examples
    --------
    >>> is_web_url("https://example.org/a"), is_web_url("javascript:alert(1)")
    (True, False)
    """
    return isinstance(value, str) and _WEB_URL.fullmatch(value) is not None


def _md_link(value: Any) -> Markup | str:
    """An autolink for a plain http(s) URL; anything else as escaped text."""
    return Markup(f"<{value}>") if is_web_url(value) else md_escape(value)


@functools.cache
def _environment(format: str = "html") -> jinja2.Environment:
    """Templates of the model card, and the audit report's stylesheet.

    HTML is autoescaped; Markdown is escaped by :func:`md_escape` (``finalize``).
    """
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("waarborg.register", "templates"),
            jinja2.PackageLoader("waarborg.report", "templates"),
        ]
    )
    options: dict[str, Any] = {"autoescape": True}
    if format == "md":
        options = {"autoescape": False, "finalize": md_escape}
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )
    env.filters["code"] = _md_code
    env.filters["link"] = _md_link
    env.tests["web_url"] = is_web_url
    return env
