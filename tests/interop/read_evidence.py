#!/usr/bin/env python3
"""Reads a Tollgate CRA evidence pack with Python's zipfile (not Tollgate's
code): checks every file the manifest lists is there with its SHA-256 and
size, and writes manifest.json and manifest.sig out for OpenSSL.

usage: read_evidence.py PACK.zip OUTDIR
Prints "pack N files" and the file names; exits 1 on any mismatch.
"""
import hashlib
import json
import os
import sys
import zipfile


def main() -> int:
    z = zipfile.ZipFile(sys.argv[1])
    names = z.namelist()
    folder = names[0].split("/")[0]
    files = {n.split("/", 1)[1]: z.read(n) for n in names}
    manifest = json.loads(files["manifest.json"])
    if manifest.get("format") != "tollgate-cra-evidence":
        print("not a Tollgate CRA evidence pack")
        return 1
    for f in manifest["files"]:
        data = files.get(f["name"])
        if data is None:
            print(f"missing {f['name']}")
            return 1
        if hashlib.sha256(data).hexdigest() != f["sha256"] or len(data) != f["size"]:
            print(f"{f['name']}: digest or size differs from the manifest")
            return 1
    listed = {f["name"] for f in manifest["files"]} | {"manifest.json", "manifest.sig"}
    if set(files) != listed:
        print(f"files not in the manifest: {sorted(set(files) - listed)}")
        return 1
    out = sys.argv[2]
    for n in ("manifest.json", "manifest.sig", "summary.html", "sbom.cdx.json", "registry-certificate.pem"):
        open(os.path.join(out, n), "wb").write(files[n])
    print("pack", len(files), "files in", folder)
    print("\n".join(sorted(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
