"""Checks fauxkey's MDS3-style statements with python-fido2 (an independent library).

Usage:
  mds_verify.py parse STATEMENT.json
      Parses the statement as python-fido2's MetadataStatement; prints its AAGUID (null for a
      U2F statement) and attestation certificate key identifiers.
  mds_verify.py verify STATEMENT.json REGISTRATION.json
      Wraps the statement in a metadata BLOB payload, then asks python-fido2's
      MdsAttestationVerifier whether the registration's attestation chains to one of the
      statement's attestationRootCertificates. Prints {"trusted": bool, "description": ...}.
"""

import hashlib
import json
import sys

from fido2.mds3 import MdsAttestationVerifier, MetadataBlobPayload, MetadataStatement
from fido2.utils import websafe_decode
from fido2.webauthn import AttestationObject


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def entry_for(statement):
    """A BLOB entry: by AAGUID (FIDO2), or by attestation certificate key identifiers (U2F)."""
    entry = {
        "metadataStatement": statement,
        "statusReports": [],
        "timeOfLastStatusChange": "2024-01-01",
    }
    if "aaguid" in statement:
        entry["aaguid"] = statement["aaguid"]
    else:
        entry["attestationCertificateKeyIdentifiers"] = statement[
            "attestationCertificateKeyIdentifiers"
        ]
    return entry


def main():
    mode, statement_path = sys.argv[1], sys.argv[2]
    statement = load(statement_path)
    if mode == "parse":
        parsed = MetadataStatement.from_dict(statement)
        keys = parsed.attestation_certificate_key_identifiers or []
        print(json.dumps({
            "aaguid": str(parsed.aaguid) if parsed.aaguid else None,
            "types": list(parsed.attestation_types),
            "keys": [k.hex() for k in keys],
        }))
        return
    registration = load(sys.argv[3])
    payload = MetadataBlobPayload.from_dict(
        {
            "legalHeader": "fauxkey test",
            "no": 1,
            "nextUpdate": "2099-12-31",
            "entries": [entry_for(statement)],
        }
    )
    verifier = MdsAttestationVerifier(payload)
    response = registration["response"]
    attestation = AttestationObject(websafe_decode(response["attestationObject"]))
    client_data_hash = hashlib.sha256(websafe_decode(response["clientDataJSON"])).digest()
    entry = verifier.find_entry(attestation, client_data_hash)
    print(
        json.dumps(
            {
                "trusted": entry is not None,
                "description": entry.metadata_statement.description if entry else None,
            }
        )
    )


if __name__ == "__main__":
    main()
