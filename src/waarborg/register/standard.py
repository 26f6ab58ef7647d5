"""The algorithm register's publication standard 1.0, as a pydantic model.

The Dutch algorithm register (algoritmes.overheid.nl) publishes one record per algorithm
in the fields of its publication standard. This module is waarborg's own model of
version 1.0: every field with its maximum length, whether it is required, its permitted
values and the HTML tags a text may hold. The tests check it, field by field, against
the ministry's published definition (``algoritmeregister-standard-1.0.json``), so the two
cannot drift apart. The fields ``lars`` and ``publication_dt`` are filled in by the
register itself and are not part of an export.

Examples
--------
>>> entry = RegisterEntry(name="Risicoselectie", description_short="Kort.",
...     organization="Gemeente X", status="In gebruik", contact_email="a@x.nl",
...     publication_category="Impactvolle algoritmes")
>>> entry.lang, entry.standard_version
('nld', '1.0')
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from waarborg.errors import WaarborgError

STANDARD_VERSION = "1.0"
ALLOWED_TAGS = frozenset({"div", "br", "p", "ul", "ol", "li"})
"""The HTML tags the standard allows in its longer text fields."""

CATEGORIES = (
    "Organisatie en bedrijfsvoering",
    "Cultuur en recreatie",
    "Economie",
    "Overheidsfinanciën",
    "Wonen",
    "Internationaal",
    "Migratie en integratie",
    "Natuur en milieu",
    "Onderwijs en wetenschap",
    "Openbare orde en veiligheid",
    "Recht",
    "Ruimte en infrastructuur",
    "Sociale zekerheid",
    "Verkeer",
    "Werk",
    "Zorg en gezondheid",
)
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Status = Literal["In ontwikkeling", "In gebruik", "Buiten gebruik"]
PublicationCategory = Literal[
    "Hoog-risico AI-systeem", "Impactvolle algoritmes", "Overige algoritmes"
]


class _TagCheck(HTMLParser):
    """Collects the tags used in a text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.add(tag)


def _only_allowed_tags(text: str) -> str:
    parser = _TagCheck()
    parser.feed(text)
    other = sorted(parser.tags - ALLOWED_TAGS)
    if other:
        allowed = ", ".join(sorted(ALLOWED_TAGS))
        raise ValueError(f"HTML tag(s) {', '.join(other)} not allowed (allowed: {allowed})")
    return text


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ValueError("write the month as YYYY-MM, e.g. 2023-01")
    return text


def _link(text: str) -> str:
    if not text.startswith("https://"):
        raise ValueError("a link starts with https://")
    return text


def _text(limit: int) -> type[str]:
    """A plain text field of at most ``limit`` characters."""
    return Annotated[str, Field(max_length=limit)]  # type: ignore[return-value]


def _html(limit: int) -> type[str]:
    """A text field of at most ``limit`` characters that may hold the allowed HTML tags."""
    return Annotated[str, Field(max_length=limit), AfterValidator(_only_allowed_tags)]  # type: ignore[return-value]


Month = Annotated[str, Field(max_length=7), AfterValidator(_month)]
Url = Annotated[str, Field(max_length=500), AfterValidator(_link)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LawfulBasisLink(_Strict):
    """A reference to a lawful basis (``lawful_basis_grouping``)."""

    title: _text(100)  # type: ignore[valid-type]
    link: Url


class ImpactAssessmentLink(_Strict):
    """An impact assessment, with a link to its results if public (``impacttoetsen_grouping``)."""

    title: str
    link: Url | None = None


class SourceDataLink(_Strict):
    """A reference to a data source (``source_data_grouping``)."""

    title: _text(500)  # type: ignore[valid-type]
    link: Url


class RegisterEntry(_Strict):
    """One algorithm's record in the register's publication standard 1.0."""

    name: _text(100)  # type: ignore[valid-type]
    description_short: _text(400)  # type: ignore[valid-type]
    organization: _text(100)  # type: ignore[valid-type]
    category: list[Category] = Field(default_factory=list)
    status: Status
    begin_date: Month | None = None
    end_date: Month | None = None
    contact_email: _text(500)  # type: ignore[valid-type]
    website: Url | None = None
    publication_category: PublicationCategory
    url: Url | None = None
    goal: _html(2500) | None = None  # type: ignore[valid-type]
    proportionality: _html(2500) | None = None  # type: ignore[valid-type]
    human_intervention: _html(2500) | None = None  # type: ignore[valid-type]
    risks: _html(2500) | None = None  # type: ignore[valid-type]
    lawful_basis: _html(2500) | None = None  # type: ignore[valid-type]
    lawful_basis_grouping: list[LawfulBasisLink] = Field(default_factory=list)
    process_index_url: Url | None = None
    impacttoetsen_grouping: list[ImpactAssessmentLink] = Field(default_factory=list)
    impacttoetsen: _html(2500) | None = None  # type: ignore[valid-type]
    source_data: _html(2500) | None = None  # type: ignore[valid-type]
    source_data_grouping: list[SourceDataLink] = Field(default_factory=list)
    methods_and_models: _html(5000) | None = None  # type: ignore[valid-type]
    provider: _text(200) | None = None  # type: ignore[valid-type]
    publiccode: Url | None = None
    lang: Literal["nld"] = "nld"
    standard_version: Literal["1.0"] = STANDARD_VERSION
    source_id: _text(100) | None = None  # type: ignore[valid-type]
    tags: _html(2500) | None = None  # type: ignore[valid-type]

    def to_json_dict(self) -> dict[str, object]:
        """The record as the register's JSON: empty optional fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


def build_entry(fields: dict[str, object], source: str = "register entry") -> RegisterEntry:
    """Validate ``fields`` as a register entry; a bad field is an error that names it.

    Raises
    ------
    WaarborgError
        ``<source>: field 'goal': String should have at most 2500 characters (it has 2711)``.
    """
    try:
        return RegisterEntry(**fields)
    except ValidationError as exc:
        problems = [_problem(error, fields) for error in exc.errors()]
        raise WaarborgError(f"{source}: " + "; ".join(problems)) from None


def _problem(error: dict, fields: dict[str, object]) -> str:
    path = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    value = fields.get(str(error["loc"][0])) if error["loc"] else None
    size = f" (it has {len(value)})" if isinstance(value, str) and "at most" in message else ""
    return f"field '{path}': {message}{size}"
