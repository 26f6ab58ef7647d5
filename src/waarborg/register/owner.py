"""What only the owner of an algorithm can say: a small YAML file beside the spec.

The register asks for things no spec, audit or log can know: the lawful basis, why the
use is proportionate, which impact assessments were done (with links), whom to contact,
the policy area. The owner writes them once in a YAML file (an example is in
``docs/examples/owner.yaml``); :func:`load_owner` validates it, and every fault names the
file and the key.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from waarborg.errors import WaarborgError, describe_validation
from waarborg.register.standard import (
    Category,
    ImpactAssessmentLink,
    LawfulBasisLink,
    PublicationCategory,
    SourceDataLink,
    Status,
)

DEMO_OWNER = Path(__file__).parent / "owner-demo.yaml"
"""An illustrative owner file for the bundled instruments (fictitious organisation)."""


class Owner(BaseModel):
    """The owner's part of a register entry (field names in the standard's sense)."""

    model_config = ConfigDict(extra="forbid")

    organization: str = Field(description="Full name of the organisation (TOOI list).")
    contact_email: str = Field(description="E-mail address or https:// website for questions.")
    publication_category: PublicationCategory = "Impactvolle algoritmes"
    status: Status = "In gebruik"
    category: list[Category] = Field(default_factory=list)
    begin_date: str | None = None
    website: str | None = None
    lawful_basis: str | None = None
    lawful_basis_links: list[LawfulBasisLink] = Field(default_factory=list)
    proportionality: str | None = None
    impact_assessments: list[ImpactAssessmentLink] = Field(default_factory=list)
    impact_assessments_note: str | None = None
    source_data_links: list[SourceDataLink] = Field(default_factory=list)
    process_index_url: str | None = None
    provider: str | None = None
    publiccode: str | None = None
    tags: str | None = None
    illustrative: bool = Field(
        False, description="True: a made-up example, never to be published as such."
    )


def load_owner(path: str | Path) -> Owner:
    """Read and validate an owner file.

    Raises
    ------
    WaarborgError
        ``owner.yaml: lawful_basis_links.0.link: a link starts with https://``.

    Examples
    --------
    >>> load_owner(DEMO_OWNER).illustrative
    True
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WaarborgError(f"{path}: cannot read the owner file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise WaarborgError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WaarborgError(f"{path}: an owner file is a mapping of keys to values")
    try:
        return Owner.model_validate(raw)
    except ValidationError as exc:
        raise WaarborgError(describe_validation(str(path), exc)) from None
