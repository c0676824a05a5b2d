"""cosign key-based image signatures, as ``cosign download signature`` prints one.

``{"Base64Signature": …, "Payload": <base64 of the simple-signing payload>, "Cert": …}``:
the payload names the signed manifest digest; the core verifies the signature against the
trusted keys and compares the digest with the gated image (``signature-required``).
Keyless signatures (a certificate instead of a key) are recorded but never verified here.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

from gate.inputs import InputFile
from gate.sources.base import Fragment, SignatureClaim, fail


class CosignSignatureSource:
    """One cosign signature: its payload and base64 signature."""

    format: ClassVar[str] = "cosign-signature"
    expected_shape: ClassVar[str] = '"Base64Signature" and "Payload" (cosign download signature)'

    def matches(self, data: Any) -> bool:
        """The two keys cosign writes for every signature."""
        return isinstance(data, dict) and "Base64Signature" in data and "Payload" in data

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Decode the payload; the signature itself is checked by the core."""
        signature, payload = data.get("Base64Signature"), data.get("Payload")
        if not isinstance(signature, str) or not signature:
            raise fail(source, "Base64Signature", "expected the base64 signature")
        if not isinstance(payload, str):
            raise fail(source, "Payload", "expected the base64 payload")
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise fail(source, "Payload", "not base64") from exc
        return Fragment(
            format=self.format,
            tool="cosign",
            signatures=[SignatureClaim(payload=raw, signature=signature)],
        )
