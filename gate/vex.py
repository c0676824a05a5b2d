"""VEX: statements from VEX documents, applied to the merged vulnerabilities.

VEX adds no findings. Each statement says, for one vulnerability and some products, what
its author concluded (not_affected, affected, fixed, under_investigation); the core applies
the statements to matching vulnerabilities after merging, in document time order, so the
latest statement wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.document import Subject, VexStatus, Vulnerability


@dataclass(frozen=True)
class VexStatement:
    """One VEX statement, as every VEX format (OpenVEX, CycloneDX, CSAF) reduces to it.

    ``products`` name what the statement is about: package URLs, image references,
    image digests (``sha256:…``). ``subcomponents`` narrow an image product down to
    packages (package URLs). ``order`` breaks ties between statements with the same
    timestamp (position in the input order, then in the document).
    """

    vulnerability: str
    status: VexStatus
    source: str
    aliases: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    subcomponents: tuple[str, ...] = ()
    justification: str | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    timestamp: str | None = None
    document_id: str | None = None
    author: str | None = None
    order: tuple[int, ...] = field(default=())


def apply_vex(
    vulnerabilities: list[Vulnerability], statements: list[VexStatement], subject: Subject
) -> list[Vulnerability]:
    """Return ``vulnerabilities`` with ``vex`` set from the latest matching statement."""
    raise NotImplementedError("gate.vex.apply_vex is being written")
