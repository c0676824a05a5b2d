"""Registry commands: ``gate promote``, ``gate verdicts``, ``gate verify-verdict``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from gate.cli import (
    ConfigCommand,
    _options,
    debug_option,
    evaluation_options,
    evaluation_settings,
    input_options,
    registry_option_list,
    report_verdict,
    signing_key,
)
from gate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from gate.document import PreviousVerdict
    from gate.promote import Outcome


@click.command("promote", cls=ConfigCommand)
@input_options
@evaluation_options
@click.option(
    "--to",
    "destinations",
    multiple=True,
    metavar="TAG",
    help="Destination: a tag in the image's repository, or registry://HOST/REPO:TAG in "
    "another repository or registry (repeatable, at least one).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Move destination tags that point at another digest (recorded in the verdict).",
)
@click.option("--dry-run", is_flag=True, help="Evaluate and plan, but write nothing.")
def promote_command(
    inputs: tuple[str, ...],
    destinations: tuple[str, ...],
    force: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    """Gate the image --image REF read from its registry, and tag its digest on a pass.

    \b
    REF: registry://HOST[:PORT]/REPO[:TAG][@DIGEST] (or HOST/REPO:TAG). FILE... are
    reports about it, as for `gate check`. On a pass, every --to tag gets the same
    manifest (read back to check); on a fail, or with no verdict, no tag changes. The
    verdict is attached to the digest either way (signed with --sign-key). A --to tag that
    points at another digest is not moved (exit 1) unless it floats (latest, 1, 1.2) or
    --force is given.
    """
    from gate.observe import RunObserver
    from gate.promote import promote

    image = options["image"]
    if not image:
        raise UsageError("--image is required: the image to promote (registry://HOST/REPO:TAG)")
    if not destinations:
        raise UsageError("--to is required: the tag(s) to promote the image to")
    if options["advisory"]:
        raise UsageError(
            "--advisory does not apply to promote: a failing image is never tagged",
            hint="report-only rollouts use gate check --advisory",
        )
    settings = evaluation_settings(inputs, {**options, "image": None})
    key = signing_key(options["sign_key"])
    observer = RunObserver.from_options(options)
    observer.open()
    with observer.observing(settings) as phases:
        outcome = promote(
            settings, image, destinations, force=force, dry_run=dry_run, sign_key=key, phases=phases
        )
        observer.record(outcome.verdict, phases, settings)
    report_verdict(outcome.verdict, options, promotion_lines(outcome))
    sys.exit(int(outcome.exit_code))


def promotion_lines(outcome: Outcome) -> str:
    """What the promotion did, in words: the digest and every tag written or refused."""
    verdict = outcome.verdict
    record = verdict.promotion
    assert record is not None  # promote always records
    short = record.digest
    lines: list[str] = []
    if verdict.decision != "pass":
        lines.append(f"not promoted: the gate failed for {short}; no tag changed")
    elif record.refused:
        lines.append(f"not promoted: {short}; no tag changed")
        lines += [
            f"refused: {change.tag} points at {change.previous_digest} (an immutable tag; "
            "--force moves it)"
            for change in record.refused
        ]
    elif record.dry_run:
        lines.append(f"dry run: would promote {short} to " + ", ".join(c.tag for c in record.to))
    else:
        lines.append(f"promoted {short} to " + ", ".join(record.written))
        lines += [f"forced: {c.tag} pointed at {c.previous_digest}" for c in record.forced]
    if outcome.attached:
        lines.append("verdict attached: " + ", ".join(outcome.attached))
    return "\n".join(lines)


@click.command("verdicts")
@click.argument("reference", metavar="REF")
@click.option(
    "--trust-key",
    "trust_keys",
    multiple=True,
    metavar="FILE",
    help="Public key (PEM) to check the verdicts' signatures with (repeatable).",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@lambda command: _options(command, registry_option_list())
@debug_option
def verdicts_command(
    reference: str,
    trust_keys: tuple[str, ...],
    output_format: str,
    registry_ca: str | None,
    insecure_registries: tuple[str, ...],
    platform: str | None,
) -> None:
    """List the verdicts attached to the image REF (registry://HOST/REPO[:TAG][@DIGEST]).

    Each with its stage, decision, time, policy digest and signer; with --trust-key, whether
    its signature verifies.
    """
    from gate.promote import image_ref
    from gate.registry.image import client_for, resolve_image
    from gate.registry.options import RegistryOptions
    from gate.registry.verdicts import attached_verdicts
    from gate.signing import load_trusted_keys

    trusted = load_trusted_keys(list(trust_keys)) if trust_keys else []
    ref = image_ref(reference)
    options = RegistryOptions(
        ca_file=registry_ca, insecure_hosts=frozenset(h.lower() for h in insecure_registries)
    )
    client = client_for(ref, options)
    image = resolve_image(client, ref, platform)
    found = attached_verdicts(client, image, trusted)
    if output_format == "json":
        document = {
            "image": str(image.ref),
            "digests": image.digests,
            "verdicts": [v.model_dump(mode="json") for v in found],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(verdict_table(str(image.ref), found))


def verdict_table(image: str, verdicts: list[PreviousVerdict]) -> str:
    """The verdicts as aligned text, newest last."""
    from gate.output import printable

    if not verdicts:
        return f"{image}: no verdicts attached"
    rows = [("evaluated at", "stage", "decision", "signature", "signer", "policy", "this image")]
    for v in verdicts:
        rows.append(
            (
                v.evaluated_at or "?",
                v.stage or "?",
                v.decision or "?",
                v.signature,
                (v.signer or "-")[:19],
                (v.policy_digest or "-")[:19],
                "yes" if v.about_subject else "no",
            )
        )
    widths = [max(len(printable(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [f"{image}: {len(verdicts)} verdict(s)"]
    for row in rows:
        lines.append("  ".join(printable(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


@click.command("verify-verdict")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--trust-key",
    "trust_keys",
    multiple=True,
    required=True,
    metavar="FILE",
    help="Public key (PEM) the verdict must be signed with (repeatable).",
)
@click.option("--digest", metavar="sha256:HEX", help="The image digest the verdict must be about.")
@debug_option
def verify_verdict_command(
    files: tuple[str, ...], trust_keys: tuple[str, ...], digest: str | None
) -> None:
    """Check signed verdicts (DSSE envelopes gate wrote): exit 0 when every FILE is signed by
    a trusted key (and about --digest), 1 when one is not, 3 when one cannot be read."""
    from gate.document import Subject
    from gate.identity import normal_digest
    from gate.output import printable
    from gate.promotion import judge
    from gate.run import read_fragment
    from gate.signing import load_trusted_keys

    trusted = load_trusted_keys(list(trust_keys))
    if digest is not None and normal_digest(digest) is None:
        raise UsageError(f"--digest {digest!r} is not a digest (sha256:<64 hex>)")
    all_good = True
    for given in files:
        source, fragment = read_fragment(given, "gate-verdict")
        promotion, _ = judge(
            [fragment], [source.path], Subject(digest=digest), trusted, enforced=False
        )
        for verdict in promotion.verdicts:
            good = verdict.signature == "verified" and (digest is None or verdict.about_subject)
            all_good = all_good and good
            about = ", ".join(verdict.subject_digests) or "no image"
            click.echo(
                printable(
                    f"{source.path}: {'OK' if good else 'NOT VERIFIED'}: {verdict.signature_reason}"
                    f"; stage {verdict.stage}, decision {verdict.decision}, about {about}"
                )
            )
    sys.exit(int(ExitCode.PASSED if all_good else ExitCode.FAILED))
