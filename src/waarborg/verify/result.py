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

    def summary(self) -> str:
        """Plain-text summary: the band headline, the diagnosis, then the details."""
        d = self._data
        inst, cases = d["instrument"], d["cases"]
        lines = [headline(d, "en")]
        if d["diagnosis"]:
            lines.append("diagnosis (most likely first):")
            lines += [
                f"  {100 * f['explains_share']:.1f}% of the disagreeing outputs: {f['detail']}"
                for f in d["diagnosis"]
            ]
        elif any(o["disagreement"]["k"] for o in d["outcomes"].values()):
            lines.append("diagnosis: no simple fault explains the disagreements")
        unexplained = d.get("unexplained", {})
        if d["diagnosis"] and unexplained.get("unexplained_outputs"):
            lines.append(
                f"  unexplained: {100 * unexplained['share']:.1f}% of the disagreeing outputs"
            )
        rounding = d.get("rounding")
        if rounding and not rounding["tolerance_covers_it"]:
            lines.append(
                f"note: {rounding['message']} (the diagnosis above used "
                f"{unexplained.get('diagnosis_tolerance', 0):.3g})"
            )
        elif rounding:
            lines.append(f"note: observed probabilities are rounded to {rounding['step']:g}")
        lines += [
            f"waarborg verify: {inst['id']} {inst['version']} (spec {inst['spec_hash'][:12]}); "
            f"tolerance {d['tolerance']:g}",
            f"cases matched: {cases['matched']:,}; only in the cases file: "
            f"{cases['only_in_cases']['n']:,}; only in the observed file: "
            f"{cases['only_in_observed']['n']:,}",
        ]
        for name, outcome in d["outcomes"].items():
            lines += _outcome_lines(name, outcome)
        lines.append("verdict: " + ("AGREES with the spec" if self.agrees else "DISAGREES"))
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


def _outcome_lines(name: str, outcome: dict[str, Any]) -> list[str]:
    dis = outcome["disagreement"]
    lines = [
        f"{name}: {dis['k']:,} of {dis['n']:,} cases disagree ({_share_text(dis, '95% CI', 'en')})"
        if dis["n"]
        else f"{name}: no matched cases"
    ]
    if "direction" in outcome and outcome["band_disagreement"]["n"]:
        dr, bd = outcome["direction"], outcome["band_disagreement"]
        lines.append(
            f"  band differs for {bd['k']:,} ({100 * bd['value']:.1f}%): too high "
            f"{dr['observed_higher']:,}, too low {dr['observed_lower']:,}"
        )
    for column, diff in outcome["probabilities"].items():
        if diff.get("beyond_tolerance"):
            lines.append(
                f"  {column}: {diff['beyond_tolerance']:,} beyond the tolerance (too high "
                f"{diff['observed_higher']:,}, too low {diff['observed_lower']:,}); largest "
                f"difference {diff['max_abs_difference']:.4f}"
            )
    return lines
