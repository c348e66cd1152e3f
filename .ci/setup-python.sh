#!/usr/bin/env bash
# Creates the Python venv the python-fido2 interop test uses (.ci/venv) and installs pinned
# packages into it. Idempotent: an existing venv is kept (other setup scripts may share it);
# pip only installs what is missing or at another version.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x venv/bin/python ]; then
  if ! python3 -m venv venv >/dev/null 2>&1; then
    apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv venv
  fi
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check \
  "fido2==2.2.1" "cryptography==50.0.2" "cffi==2.1.1" "pycparser==3.12"
