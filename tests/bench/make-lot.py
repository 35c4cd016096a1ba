#!/usr/bin/env python3
"""Makes a benchmark lot for tests/bench/lot-floor.sh: N blobs of 64 KiB with
detached CMS signatures (SHA-256, ECDSA P-256, signed attributes, the
intermediate carried), signed either by the corpus's one Acme signer or by N
distinct signer certificates issued under the corpus's Acme intermediate
(codeSigning, valid 2026-01-01..2028-01-01). Python `cryptography` builds
everything in one process (OpenSSL underneath); a shell loop of `openssl`
commands would take minutes for 2,000 certificates.

usage: make-lot.py FIXTURES OUTDIR N one|distinct
"""
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

fx, out, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
load_key = lambda p: serialization.load_pem_private_key(open(p, "rb").read(), None)
load_cert = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
int_key, int_cert = load_key(f"{fx}/keys/acme-int.key"), load_cert(f"{fx}/certs/acme-int.pem")
one_key, one_cert = load_key(f"{fx}/keys/acme-signer-p256.key"), load_cert(f"{fx}/certs/acme-signer-p256.pem")

def signer(i):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Chips"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"Acme Lot Signer {i}")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(int_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2028, 1, 1, tzinfo=datetime.timezone.utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(int_key.public_key()), critical=False)
            .sign(int_key, hashes.SHA256()))
    return key, cert

with open(f"{out}/manifest.csv", "w") as manifest:
    manifest.write("blob,signature,vendor,component,version\n")
    for i in range(n):
        key, cert = (one_key, one_cert) if mode == "one" else signer(i)
        blob = os.urandom(65536)
        sig = (pkcs7.PKCS7SignatureBuilder().set_data(blob).add_signer(cert, key, hashes.SHA256())
               .add_certificate(int_cert)
               .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.DetachedSignature]))
        open(f"{out}/b{i:05}.bin", "wb").write(blob)
        open(f"{out}/b{i:05}.bin.p7s", "wb").write(sig)
        manifest.write(f"b{i:05}.bin,b{i:05}.bin.p7s,acme,acme-wifi-fw,1.5.0\n")
