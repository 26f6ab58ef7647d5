"""The result of a verification: a JSON-ready dict, a plain summary, an HTML report.

The HTML report reuses the audit report's stylesheet and number formatting
(:mod:`waarborg.report.i18n`: a decimal comma and thousands point in Dutch); its own
fixed text, in English and Dutch, is in :data:`TEXT`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jinja2

from waarborg.audit.result import estimate_text
from waarborg.report import i18n
from waarborg.report.i18n import N_, texts, tr

TEXT: dict[str, str] = {
    "col_id": N_("case"),
    "col_reference_band": N_("band by the spec"),
    "col_observed_band": N_("band by the implementation"),
    "col_reference_probability": N_("probability by the spec"),
    "col_observed_probability": N_("probability by the implementation"),
    "title": N_("Does the implementation match its specification?"),
    "spec": N_("spec"),
    "compared": N_("cases compared"),
    "verdict": N_("Verdict"),
    "agrees": N_("Every output agrees with the specification."),
    "disagrees": N_("The implementation disagrees with its specification."),
    "causes": N_("Likely causes"),
    "causes_intro": N_(
        "Each cause was recovered from the outputs and tested by re-scoring the cases with it"
        " built in; the share is of the disagreeing outputs (case and outcome) it explains, "
        "net of the agreeing outputs it would break."
    ),
    "no_cause": N_("No simple fault explains the disagreements."),
    "explains": N_("explains"),
    "unexplained": N_("unexplained"),
    "matching": N_("Matching"),
    "only_cases": N_("Only in the cases file"),
    "only_observed": N_("Only in the observed file"),
    "disagree": N_("cases disagree"),
    "band_differs": N_("Different band"),
    "too_high": N_("too high"),
    "too_low": N_("too low"),
    "matrix": N_("Band by the specification (rows) against the implementation (columns)"),
    "probabilities": N_("Probability differences"),
    "column": N_("output"),
    "beyond": N_("beyond tolerance"),
    "max": N_("largest"),
    "median": N_("median (beyond tol.)"),
    "up_to": N_("up to"),
    "above": N_("above"),
    "histogram": N_("Absolute differences (implementation − specification)"),
    "worst": N_("Largest differences"),
    "data": N_("data"),
    "ci": N_("95% CI"),
    "band_changed": N_("band changed"),
    "no_bands": N_("no bands compared"),
    "tolerance": N_("tolerance"),
    "rounded": N_("The observed probabilities are rounded to {step}: use a tolerance of {tol}."),
    "equivalent": N_("gives the same outputs as"),
}


class VerifyResult:
    """What :func:`waarborg.verify` found.

    ``agrees`` is true when every matched case agrees within the tolerance and every id
    is in both files; ``exit_code`` is then 0, else 1 (the CLI's convention).

    Examples
    --------
    >>> from waarborg.synth import synthesize
    >>> from waarborg.verify import verify, demo_faulty_implementation
    >>> cases = synthesize("oxrec-style", 1000, seed=1)
    >>> result = verify("oxrec-style", cases, demo_faulty_implementation(cases))
    >>> result.exit_code, result["diagnosis"][0]["fault"]
    (1, 'variant_swapped')
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    @property
    def agrees(self) -> bool:
        """Whether the deployed outputs agree with the spec for every case."""
        cases = self._data["cases"]
        unmatched = cases["only_in_cases"]["n"] + cases["only_in_observed"]["n"]
        wrong = sum(o["disagreement"]["k"] for o in self._data["outcomes"].values())
        return unmatched == 0 and wrong == 0

    @property
    def exit_code(self) -> int:
        """0 when everything agrees, 1 when disagreements were found."""
        return 0 if self.agrees else 1

    def to_dict(self) -> dict[str, Any]:
        """The result as plain Python objects (a copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON (see ``docs/verify.md``)."""
        return json.dumps(self._data, indent=indent, ensure_ascii=False, allow_nan=False)

    def summary(self, lang: str = "en") -> str:
        """Plain-text summary in ``lang``: the band headline, the diagnosis, then the details."""
        d, w = self._data, texts(_SUMMARY, i18n.check_lang(lang))
        inst, cases = d["instrument"], d["cases"]

        def count(n: int) -> str:
            return i18n.fmt_count(n, lang)

        def pct(x: float) -> str:
            return i18n.fmt_number(100 * x, lang, 1)

        lines = [headline(d, lang)]
        unexplained = d.get("unexplained") or {}
        if d["diagnosis"]:
            lines.append(w["diagnosis"])
            key = "detail_nl" if lang == "nl" else "detail"
            lines += [
                "  " + w["explains"].format(share=pct(f["explains_share"]), detail=f[key])
                for f in d["diagnosis"]
            ]
            if unexplained.get("unexplained_outputs"):
                lines.append("  " + w["unexplained"].format(share=pct(unexplained["share"])))
        rounding = d.get("rounding")
        if rounding and not rounding["tolerance_covers_it"]:
            message = rounding["message"]
            if lang != "en":
                message = tr(TEXT["rounded"], lang).format(
                    step=i18n.fmt_number(rounding["step"], lang, rounding["decimals"]),
                    tol=i18n.fmt_number(rounding["step"] / 2, lang, rounding["decimals"] + 1),
                )
            tolerance = i18n.fmt_number(unexplained.get("diagnosis_tolerance", 0), lang, None)
            lines.append(w["rounding_note"].format(message=message, tol=tolerance))
        elif rounding:
            step = i18n.fmt_number(rounding["step"], lang, None)
            lines.append(w["rounded_to"].format(step=step))
        lines += [
            w["head"].format(
                id=inst["id"],
                version=inst["version"],
                hash=inst["spec_hash"][:12],
                tol=i18n.fmt_number(d["tolerance"], lang, None)
                if d["tolerance"] >= 1e-4
                else f"{d['tolerance']:g}",
            ),
            w["matched"].format(
                n=count(cases["matched"]),
                cases=count(cases["only_in_cases"]["n"]),
                observed=count(cases["only_in_observed"]["n"]),
            ),
        ]
        for name, outcome in d["outcomes"].items():
            lines += _outcome_lines(name, outcome, lang, w)
        lines.append(w["agrees"] if self.agrees else w["disagrees"])
        return "\n".join(lines)

    def to_html(self, lang: str = "en") -> str:
        """A self-contained HTML report in ``en`` or ``nl``: diagnosis first, then figures."""
        lang = i18n.check_lang(lang)
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PackageLoader("waarborg.verify", "templates"),
                    jinja2.PackageLoader("waarborg.report", "templates"),
                ]
            ),
            autoescape=True,
        )
        env.filters["count"] = lambda n: i18n.fmt_count(n, lang)
        env.filters["num"] = lambda x, digits=4: i18n.fmt_number(x, lang, digits)
        env.filters["short"] = lambda x: f"{x:g}".replace(".", "," if lang == "nl" else ".")
        env.filters["pct"] = lambda x: i18n.fmt_number(None if x is None else 100 * x, lang, 1)
        text = texts(TEXT, lang)
        env.filters["estimate"] = lambda share: _share_text(share, text["ci"], lang)
        rounding = self._data.get("rounding") or {}
        rounded = (
            text["rounded"].format(
                step=i18n.fmt_number(rounding["step"], lang, rounding["decimals"]),
                tol=i18n.fmt_number(rounding["step"] / 2, lang, rounding["decimals"] + 1),
            )
            if rounding
            else ""
        )
        return env.get_template("verify.html.j2").render(
            r=self._data,
            lang=lang,
            agrees=self.agrees,
            t=text,
            headline=headline(self._data, lang),
            rounded=rounded,
        )


#: The plain-text summary's words (English; the Dutch is in the ``reports`` catalog).
_SUMMARY = {
    "diagnosis": N_("diagnosis (most likely first):"),
    "explains": N_("share of the disagreeing outputs ({share}%): {detail}"),
    "unexplained": N_("unexplained: share of the disagreeing outputs ({share}%)"),
    "rounding_note": N_("note: {message} (the diagnosis above used {tol})"),
    "rounded_to": N_("note: observed probabilities are rounded to {step}"),
    "head": N_("waarborg verify: {id} {version} (spec {hash}); tolerance {tol}"),
    "matched": N_(
        "cases matched: {n}; only in the cases file: {cases}; only in the observed file: {observed}"
    ),
    "disagree": N_("{name}: {k} of {n} cases disagree ({share})"),
    "no_cases": N_("{name}: no matched cases"),
    "ci": N_("95% CI"),
    "band_differs": N_("band differs for {k} ({share}%): too high {high}, too low {low}"),
    "beyond": N_(
        "{column}: {k} beyond the tolerance (too high {high}, too low {low}); largest "
        "difference {max}"
    ),
    "agrees": N_("verdict: AGREES with the spec"),
    "disagrees": N_("verdict: DISAGREES"),
}


def _share_text(share: dict[str, Any], ci_words: str, lang: str) -> str:
    """``12.3%, 95% CI 11.0–13.6%``: a share and its interval, never collapsed to a point."""
    low, high = (None if x is None else 100 * x for x in share["ci"])
    value, ci = estimate_text(100 * share["value"], low, high, lang, digits=1)
    return f"{value}%, {ci_words} {ci}%"


def headline(data: dict[str, Any], lang: str) -> str:
    """``band changed: any 21.5%, violent 5.9%``: per outcome, the share in another band."""
    shares = data.get("headline", {}).get("band_changed", {})
    word = tr(TEXT["band_changed"], lang)
    if not shares:
        return f"{word}: {tr(TEXT['no_bands'], lang)}"
    parts = [f"{name} {i18n.fmt_number(100 * share, lang, 1)}%" for name, share in shares.items()]
    return f"{word}: " + ", ".join(parts)


def _outcome_lines(name: str, outcome: dict[str, Any], lang: str, w: dict[str, str]) -> list[str]:
    dis = outcome["disagreement"]

    def count(n: int) -> str:
        return i18n.fmt_count(n, lang)

    if dis["n"]:
        share = _share_text(dis, w["ci"], lang)
        first = w["disagree"].format(name=name, k=count(dis["k"]), n=count(dis["n"]), share=share)
    else:
        first = w["no_cases"].format(name=name)
    lines = [first]
    if "direction" in outcome and outcome["band_disagreement"]["n"]:
        dr, bd = outcome["direction"], outcome["band_disagreement"]
        lines.append(
            "  "
            + w["band_differs"].format(
                k=count(bd["k"]),
                share=i18n.fmt_number(100 * bd["value"], lang, 1),
                high=count(dr["observed_higher"]),
                low=count(dr["observed_lower"]),
            )
        )
    for column, diff in outcome["probabilities"].items():
        if diff.get("beyond_tolerance"):
            lines.append(
                "  "
                + w["beyond"].format(
                    column=column,
                    k=count(diff["beyond_tolerance"]),
                    high=count(diff["observed_higher"]),
                    low=count(diff["observed_lower"]),
                    max=i18n.fmt_number(diff["max_abs_difference"], lang, 4),
                )
            )
    return lines
