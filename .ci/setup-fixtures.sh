#!/usr/bin/env bash
# Tools for tests/fixtures_consumers.rs: the README's Python (py_webauthn) and Node
# (SimpleWebAuthn) snippets run against a generated fixture corpus.
# Idempotent; installs into .ci/venv (shared with other setup scripts; never deleted) and
# .ci/node. Needs python3 (with venv) and node/npm on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

PY_WEBAUTHN=3.0.1
SIMPLEWEBAUTHN=14.0.3

if ! command -v python3 >/dev/null || ! python3 -c 'import venv' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3 python3-venv
fi
[ -x .ci/venv/bin/python ] || python3 -m venv .ci/venv
if ! .ci/venv/bin/python -c "import webauthn, sys; sys.exit(webauthn.__version__ != '$PY_WEBAUTHN')" 2>/dev/null; then
  .ci/venv/bin/pip install -q --disable-pip-version-check "webauthn==$PY_WEBAUTHN"
fi

if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm
fi
if [ ! -f ".ci/node/node_modules/@simplewebauthn/server/package.json" ] ||
   ! grep -q "\"version\": \"$SIMPLEWEBAUTHN\"" .ci/node/node_modules/@simplewebauthn/server/package.json; then
  mkdir -p .ci/node
  npm install --prefix .ci/node --no-audit --no-fund --silent "@simplewebauthn/server@$SIMPLEWEBAUTHN"
fi
