"""Image reference parsing."""

from __future__ import annotations

import pytest

from gate.reference import parse_reference

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("alpine", "docker.io", "library/alpine", None, None),
        ("alpine:3.19", "docker.io", "library/alpine", "3.19", None),
        ("acme/api:1.2.3", "docker.io", "acme/api", "1.2.3", None),
        ("ghcr.io/acme/api:1.2.3", "ghcr.io", "acme/api", "1.2.3", None),
        (f"ghcr.io/acme/api@{D}", "ghcr.io", "acme/api", None, D),
        (f"ghcr.io/acme/api:1.2.3@{D}", "ghcr.io", "acme/api", "1.2.3", D),
        ("localhost:5000/api:dev", "localhost:5000", "api", "dev", None),
        ("localhost/api", "localhost", "api", None, None),
        ("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", None),
        ("registry:5000/team/app", "registry:5000", "team/app", None, None),
    ],
    ids=lambda v: str(v)[:30],
)
def test_parses_references(text, registry, repository, tag, digest):
    subject = parse_reference(text)
    assert (
        subject.reference,
        subject.registry,
        subject.repository,
        subject.tag,
        subject.digest,
    ) == (
        text,
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    "text", ["", "images/app.tar", "Upper/Case:1", "two words", "api@sha256:xyz", "a:b:c d"]
)
def test_non_references_keep_only_the_text(text):
    subject = parse_reference(text)
    assert subject.repository is None
    assert subject.registry is None
