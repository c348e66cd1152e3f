#!/usr/bin/env bash
# Installs python-fido2 into /opt/fauxkey-mds-venv for tests/metadata_python_fido2.rs, which
# has python-fido2's MDS3 code parse fauxkey's metadata statements and verify attestations
# against them. Idempotent; needs python3 with venv (Debian: python3-venv).
set -euo pipefail
VENV=/opt/fauxkey-mds-venv
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import fido2.mds3' >/dev/null 2>&1; then
    "$VENV/bin/pip" install -q --disable-pip-version-check 'fido2>=2.2,<3'
fi
"$VENV/bin/python" -c 'import fido2.mds3'
