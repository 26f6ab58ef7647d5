"""Audit reports: a self-contained HTML page with inline SVG plots, in English or Dutch.

>>> from waarborg.report import render
>>> html = render(result_dict, lang="nl")  # doctest: +SKIP
"""

from waarborg.report.html import render

__all__ = ["render"]
