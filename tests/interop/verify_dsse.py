#!/usr/bin/env python3
"""Verifies a Tollgate DSSE envelope with securesystemslib (the library
in-toto uses), independently of Tollgate's own code.

usage: verify_dsse.py KEY_OR_CERT.pem ENVELOPE.json

The key id is computed here (SHA-256 of the key's SubjectPublicKeyInfo),
the signature checked with securesystemslib's ecdsa-sha2-nistp256 scheme,
and the payload must be an in-toto Statement v1 with a SLSA VSA v1
predicate, or Tollgate's release predicate
(https://tollgate.dev/attestation/release/v1) whose components are all
subjects. Prints the statement's verificationResult and subject digest;
exits 1 when anything does not verify.
"""
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def main() -> int:
    pem = open(sys.argv[1], "rb").read()
    if b"CERTIFICATE" in pem:
        public = x509.load_pem_x509_certificate(pem).public_key()
    else:
        public = serialization.load_pem_public_key(pem)
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keyid = hashlib.sha256(spki).hexdigest()
    key = SSlibKey.from_crypto(public, keyid=keyid, scheme="ecdsa-sha2-nistp256")
    envelope = Envelope.from_dict(json.load(open(sys.argv[2])))
    try:
        envelope.verify([key], 1)
    except Exception as e:  # securesystemslib raises VerificationError
        print(f"DSSE verification failed: {e}")
        return 1
    if envelope.payload_type != "application/vnd.in-toto+json":
        print(f"unexpected payload type {envelope.payload_type}")
        return 1
    statement = json.loads(envelope.payload)
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        print("not an in-toto Statement v1")
        return 1
    if statement.get("predicateType") == "https://tollgate.dev/attestation/release/v1":
        # A release attestation: every component named with its digest,
        # and each listed as a subject.
        p = statement["predicate"]
        for field in ("product", "release", "verifier", "time_verified", "components"):
            if field not in p:
                print(f"the release attestation lacks {field}")
                return 1
        digests = {s["digest"]["sha256"] for s in statement["subject"]}
        for c in p["components"]:
            for field in ("stage", "component", "vendor", "version", "version_source", "sha256", "signer", "verified_at"):
                if field not in c:
                    print(f"a component lacks {field}")
                    return 1
            if c["sha256"] not in digests:
                print(f"component {c['component']} is not a subject")
                return 1
        print("RELEASE", p["product"], p["release"], len(p["components"]), p["verifier"]["id"])
        return 0
    if statement.get("predicateType") != "https://slsa.dev/verification_summary/v1":
        print("not a SLSA VSA v1")
        return 1
    p = statement["predicate"]
    for field in ("verifier", "timeVerified", "resourceUri", "policy", "verificationResult", "verifiedLevels"):
        if field not in p:
            print(f"the VSA lacks {field}")
            return 1
    print(p["verificationResult"], statement["subject"][0]["digest"]["sha256"], p["verifier"]["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
