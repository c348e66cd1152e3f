#!/usr/bin/env bash
# Creates the Python venv the python-fido2 interop test (tests/ctaphid_python.rs) uses, at
# .ci/venv, and installs pinned packages into it. Idempotent: an existing venv is kept (other
# setup scripts may share it) and pip only installs what is missing or at another version.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x venv/bin/python ]; then
  if ! command -v python3 >/dev/null || ! python3 -m venv venv >/dev/null 2>&1; then
    rm -rf venv # a half-made venv from the failed attempt above, never a working one
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3 python3-venv >/dev/null
    python3 -m venv venv
  fi
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check \
  "fido2==2.2.1" "cryptography==50.0.2" "cffi==2.1.1" "pycparser==3.12"
