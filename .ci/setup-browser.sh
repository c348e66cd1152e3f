#!/usr/bin/env bash
# Installs what the browser end-to-end tests and the examples need on a fresh Debian machine:
# Debian's Chromium and Firefox ESR (headless, driven by playwright-core and puppeteer-core),
# the pinned npm packages of tests/browser, examples/node and examples/playwright, and a Python
# venv at .ci/venv with the pinned packages of examples/python. Idempotent: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
# Debian's python3 can only make a venv with ensurepip, which python3-venv provides.
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v node >/dev/null 2>&1 || { echo "setup-browser: node >= 20 and npm are required" >&2; exit 1; }

for dir in tests/browser examples/node examples/playwright; do
  if [ -f "$dir/package-lock.json" ]; then
    # npm ci reinstalls from scratch; skip it when the lockfile has not changed since last time.
    stamp="$dir/node_modules/.fauxkey-lock"
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      cp "$dir/package-lock.json" "$stamp"
    fi
  fi
done

# The venv is shared with other setup scripts: create it only if missing, never delete it.
if [ ! -x .ci/venv/bin/python ]; then
  python3 -m venv .ci/venv
fi
.ci/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements.txt
