"""The result of a verification: a JSON-ready dict, a plain summary, an HTML report."""

from __future__ import annotations

import copy
import json
from typing import Any

import jinja2


class VerifyResult:
    """What :func:`waarborg.verify` found.

    ``agrees`` is true when every matched case agrees within the tolerance and every id
    is in both files; ``exit_code`` is then 0, else 1 (the CLI's convention).
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
        """Plain-text summary: matching, disagreement per outcome, the diagnosis."""
        d = self._data
        inst = d["instrument"]
        lines = [
            f"waarborg verify: {inst['id']} {inst['version']} (spec {inst['spec_hash'][:12]})",
            f"cases matched: {d['cases']['matched']:,}; only in the cases file: "
            f"{d['cases']['only_in_cases']['n']:,}; only in the observed file: "
            f"{d['cases']['only_in_observed']['n']:,}",
        ]
        for name, outcome in d["outcomes"].items():
            dis = outcome["disagreement"]
            lines.append(
                f"{name}: {dis['k']:,} of {dis['n']:,} cases disagree ({100 * dis['value']:.1f}%, "
                f"95% CI {100 * dis['ci'][0]:.1f}–{100 * dis['ci'][1]:.1f}%)"
            )
            if "direction" in outcome:
                dr, bd = outcome["direction"], outcome["band_disagreement"]
                lines.append(
                    f"  band differs for {bd['k']:,} ({100 * bd['value']:.1f}%): too high "
                    f"{dr['observed_higher']:,}, too low {dr['observed_lower']:,}"
                )
        if d["diagnosis"]:
            lines.append("diagnosis (most likely first):")
            lines += [
                f"  {100 * f['explains_share']:.1f}% of the disagreeing cases: {f['detail']}"
                for f in d["diagnosis"]
            ]
        lines.append("verdict: " + ("AGREES with the spec" if self.agrees else "DISAGREES"))
        return "\n".join(lines)

    def to_html(self, lang: str = "en") -> str:
        """A self-contained HTML report (diagnosis first, then the band matrices)."""
        if lang not in ("en", "nl"):
            raise ValueError("lang must be 'en' or 'nl'")
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PackageLoader("waarborg.verify", "templates"),
                    jinja2.PackageLoader("waarborg.report", "templates"),
                ]
            ),
            autoescape=True,
        )
        return env.get_template("verify.html.j2").render(
            r=self._data, lang=lang, agrees=self.agrees
        )
