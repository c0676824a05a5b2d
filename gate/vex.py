"""VEX: statements from VEX documents, applied to the merged vulnerabilities.

VEX adds no findings: it annotates. Each statement says, for one vulnerability and some
products, what its author concluded (``not_affected``, ``affected``, ``fixed``,
``under_investigation``). After the scanners' findings are merged, every vulnerability that
a statement applies to gets ``vex`` set from the latest such statement; a vulnerability no
statement applies to is left as it is. Nothing is removed: policies decide what a
``not_affected`` means.

A statement applies to a vulnerability when both of these hold:

1. **Identity.** The statement's vulnerability id or one of its aliases equals the
   vulnerability's id or one of its aliases, ignoring case, counting only ids of that same
   vulnerability (:func:`gate.identifiers.identity_keys`): never an advisory (a statement
   about ``RHSA-2024:1234`` or ``DSA-5417-1`` applies to nothing, since an advisory covers
   many CVEs, unless its aliases name exactly one CVE: then it is about that CVE), and
   never when the statement and the vulnerability name different CVEs.
2. **Product.** One of its products names the vulnerable package, or names the image
   being gated and, when the statement lists subcomponents, one subcomponent names the
   package (subcomponents narrow image products only; a package product matches by itself).

A product or subcomponent *names the package* when it is a package URL with the package's
type, namespace and name (compared without case; PyPI names PEP 503-normalised) and either
no version or the package's version. Qualifiers are ignored, except that a deb/rpm
``epoch`` qualifier is part of the version (``pkg:deb/debian/zlib1g@1.2.13?epoch=1`` is
version ``1:1.2.13``, as is ``pkg:deb/debian/zlib1g@1:1.2.13``) and an epoch of 0 is no
epoch. A package the scanners gave no package URL is compared by type (when known), name
(``namespace/name`` for names that carry their namespace, like npm scopes and Go module
paths) and version.

A product *names the image* when it is:

* a digest ``sha256:…`` equal to the image's manifest digest or image id;
* an image reference, read as Docker does (``nginx`` is ``docker.io/library/nginx``), with
  the image's registry and repository;
* a ``pkg:oci/<name>`` package URL whose ``repository_url`` qualifier gives the image's
  registry and repository (a ``repository_url`` naming only a registry, as vexctl writes,
  is completed with ``<name>``) or, with no ``repository_url``, whose name is the last
  segment of the image's repository.

Two refinements keep a statement about another build of the image from applying: when the
reference or package URL pins a digest and the image's digests are known, the digest alone
decides; and a tag (the reference's tag or the ``tag`` qualifier) must equal the image's
tag when both are known.

Order: the statements that apply to a vulnerability are ranked by timestamp, then by
``order``, then by their position in the list given; the highest ranked (the latest) wins.
A statement without a timestamp (or with one that is not RFC 3339) ranks before every
timestamped one, since it cannot be shown to be newer than anything.

Cost: statements are indexed by upper-cased id and aliases, so each vulnerability only
looks at the statements about its own ids; the work is linear in vulnerabilities plus
statements (times the few statements per id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

from gate.document import Package, Subject, VexAssessment, VexStatus, Vulnerability
from gate.identifiers import id_kind, identity_keys, named_cve
from gate.identity import ImageIdentity


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


@dataclass(frozen=True)
class PackageUrl:
    """The parts of a package URL that identify a package (percent-decoded)."""

    type: str
    namespace: str
    name: str
    version: str | None
    qualifiers: dict[str, str]


def parse_purl(value: str) -> PackageUrl | None:
    """Split ``pkg:type/namespace/name@version?qualifiers#subpath``; None if it is not one."""
    text = value.strip()
    if text[:4].lower() != "pkg:":
        return None
    rest = text[4:].lstrip("/").split("#", 1)[0]
    rest, _, query = rest.partition("?")
    qualifiers = {}
    for pair in query.split("&") if query else ():
        key, _, item = pair.partition("=")
        if key:
            qualifiers[key.lower()] = unquote(item)
    # The version follows the last '@' after the last '/': an unencoded npm scope
    # (pkg:npm/@angular/core@1.0) carries an '@' of its own.
    at_sign = rest.rfind("@")
    version = None
    if at_sign > rest.rfind("/"):
        rest, version = rest[:at_sign], unquote(rest[at_sign + 1 :]) or None
    parts = [unquote(part) for part in rest.strip("/").split("/")]
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        return None
    return PackageUrl(
        type=parts[0].lower(),
        namespace="/".join(parts[1:-1]),
        name=parts[-1],
        version=version,
        qualifiers=qualifiers,
    )


_EPOCH_TYPES = frozenset({"deb", "rpm"})


def _version(version: str | None, package_type: str | None, epoch: str | None) -> str | None:
    """Normalise a version for comparison: the epoch is part of it, epoch 0 is none."""
    if not version:
        return None
    if epoch and package_type in _EPOCH_TYPES and ":" not in version:
        version = f"{epoch}:{version}"
    return version[2:] if version.startswith("0:") else version


@dataclass(frozen=True)
class _PackageId:
    """A package as VEX matching compares it; ``namespace`` None means not known."""

    type: str | None
    namespace: str | None
    name: str
    version: str | None

    def named_by(self, product: _PackageId) -> bool:
        """Return True when ``product`` (from a package URL) names this package."""
        if self.type and product.type and self.type != product.type:
            return False
        if product.version not in (None, self.version):
            return False
        if self.namespace is not None:
            return self.namespace == product.namespace and self.name == product.name
        # Without a package URL, ecosystems that spell the namespace into the name (npm
        # scopes, Go module paths) are compared whole.
        return self.name in (product.name, f"{product.namespace}/{product.name}")


def _name(package_type: str | None, name: str) -> str:
    # gate.merge applies VEX, so importing it at the top would be circular.
    from gate.merge import package_name_key

    return package_name_key(package_type, name).lower()


def _purl_id(purl: PackageUrl) -> _PackageId:
    return _PackageId(
        type=purl.type,
        namespace=purl.namespace.lower(),
        name=_name(purl.type, purl.name),
        version=_version(purl.version, purl.type, purl.qualifiers.get("epoch")),
    )


def _package_id(package: Package) -> _PackageId:
    purl = parse_purl(package.purl) if package.purl else None
    if purl is not None:
        return _purl_id(purl)
    kind = package.type.lower() if package.type else None
    return _PackageId(kind, None, _name(kind, package.name), _version(package.version, kind, None))


def _package_products(values: tuple[str, ...]) -> tuple[_PackageId, ...]:
    """The package URLs among ``values`` (``pkg:oci`` names images, not packages)."""
    purls = (parse_purl(value) for value in values)
    return tuple(_purl_id(purl) for purl in purls if purl is not None and purl.type != "oci")


_FRACTION = re.compile(r"\.(\d+)")


def _instant(stamp: str | None) -> tuple[int, int] | None:
    """Seconds since the epoch and nanoseconds of an RFC 3339 time; None if it is not one."""
    if not stamp:
        return None
    nanoseconds = 0
    match = _FRACTION.search(stamp)
    if match:
        nanoseconds = int(match.group(1)[:9].ljust(9, "0"))
        stamp = stamp[: match.start()] + stamp[match.end() :]
    try:
        moment = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()), nanoseconds


@dataclass(frozen=True)
class _Rule:
    """A statement prepared for matching against packages of one image."""

    statement: VexStatement
    rank: tuple[bool, tuple[int, int], tuple[int, ...], int]
    packages: tuple[_PackageId, ...]
    names_image: bool
    subcomponents: tuple[_PackageId, ...]

    def applies(self, package: _PackageId) -> bool:
        """Return True when the statement covers ``package`` (its ids are already known equal)."""
        if any(package.named_by(product) for product in self.packages):
            return True
        if not self.names_image:
            return False
        if not self.statement.subcomponents:
            return True
        return any(package.named_by(part) for part in self.subcomponents)


def _rule(statement: VexStatement, position: int, image: ImageIdentity) -> _Rule:
    instant = _instant(statement.timestamp)
    return _Rule(
        statement=statement,
        rank=(instant is not None, instant or (0, 0), statement.order, position),
        packages=_package_products(statement.products),
        names_image=any(image.named_by(product) for product in statement.products),
        subcomponents=_package_products(statement.subcomponents),
    )


def _assessment(statement: VexStatement) -> VexAssessment:
    return VexAssessment(
        status=statement.status,
        justification=statement.justification,
        impact_statement=statement.impact_statement,
        action_statement=statement.action_statement,
        timestamp=statement.timestamp,
        input=statement.source,
        document_id=statement.document_id,
        author=statement.author,
    )


def apply_vex(
    vulnerabilities: list[Vulnerability], statements: list[VexStatement], subject: Subject
) -> list[Vulnerability]:
    """Return ``vulnerabilities`` with ``vex`` set from the latest matching statement.

    The result is a new list in the same order; a vulnerability a statement applies to is a
    copy with ``vex`` set, any other is returned as given. The inputs are not modified.
    """
    image = ImageIdentity.of(subject)
    index: dict[str, list[tuple[_Rule, str | None]]] = {}
    for position, statement in enumerate(statements):
        rule = _rule(statement, position, image)
        if not rule.packages and not rule.names_image:
            continue  # names neither a package nor this image: can apply to nothing here
        # Named by an advisory, a statement counts by the one CVE its aliases give, if any:
        # an advisory covers many CVEs, so by itself it says nothing about any one of them.
        keys = [
            key
            for key in identity_keys(statement.vulnerability, statement.aliases)
            if id_kind(key) != "advisory"
        ]
        named = named_cve(keys)
        for key in keys:
            index.setdefault(key, []).append((rule, named))
    if not index:
        return list(vulnerabilities)
    result = []
    for vuln in vulnerabilities:
        keys = identity_keys(vuln.id, vuln.aliases)
        own = named_cve(keys)
        candidates = {
            rule.rank: rule
            for key in keys
            for rule, named in index.get(key, ())
            if named is None or own is None or named == own
        }
        best = None
        if candidates:
            package = _package_id(vuln.package)
            applying = (rule for rule in candidates.values() if rule.applies(package))
            best = max(applying, key=lambda rule: rule.rank, default=None)
        result.append(
            vuln if best is None else vuln.model_copy(update={"vex": _assessment(best.statement)})
        )
    return result
