#!/usr/bin/env python3
"""Validates a CycloneDX 1.6 JSON document with CycloneDX's own Python
library (cyclonedx-python-lib, strict JSON-schema validation), not
Tollgate's code, and checks the fields BSI TR-03183-2 asks of each
component.

usage: validate_cyclonedx.py SBOM.json
Prints "valid N components"; exits 1 with the validator's error otherwise.
"""
import json
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def main() -> int:
    text = open(sys.argv[1], encoding="utf-8").read()
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        print(f"invalid CycloneDX 1.6: {error}")
        return 1
    bom = json.loads(text)
    refs = {d["ref"] for d in bom.get("dependencies", [])}
    for c in bom.get("components", []):
        for field in ("supplier", "name", "version", "hashes"):
            if not c.get(field):
                print(f"component {c.get('name')} lacks {field} (TR-03183-2)")
                return 1
        names = [p["name"] for p in c.get("properties", [])]
        for flag in ("bsi:component:executable", "bsi:component:archive", "bsi:component:structured"):
            if names.count(flag) != 1:
                print(f"component {c.get('name')} must carry {flag} exactly once")
                return 1
        if c["bom-ref"] not in refs:
            print(f"component {c.get('name')} has no dependencies entry")
            return 1
    if not bom.get("metadata", {}).get("timestamp"):
        print("no metadata.timestamp")
        return 1
    print("valid", len(bom.get("components", [])), "components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
