#!/usr/bin/env bash
# Installs what the package end-to-end tests (tests/packages_e2e.rs) need on a fresh Debian
# machine, pinned:
# - WebKitGTK's WebDriver and MiniBrowser (webkit2gtk-driver) and a virtual X server (xvfb);
# - a venv at .ci/venv-packages with maturin, which builds the Python wheel;
# - a wheelhouse at .ci/wheelhouse with pytest and py_webauthn (`webauthn`) and their
#   dependencies, so the test's fresh venv installs offline;
# - the npm cache for tests/packages/node's pinned packages (npm ci there), so the test's fresh
#   directory installs them offline next to the packed fauxkey tarballs.
# Chromium, Firefox ESR and python3-venv come from setup-browser.sh. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb xauth)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .ci/venv-packages/bin/python ]; then
  python3 -m venv .ci/venv-packages
fi
.ci/venv-packages/bin/pip install --quiet --disable-pip-version-check "maturin==1.9.6"
.ci/venv-packages/bin/pip download --quiet --disable-pip-version-check --only-binary=:all: \
  -d .ci/wheelhouse "pytest==9.2.0" "webauthn==3.0.1"

dir=tests/packages/node
stamp="$dir/node_modules/.fauxkey-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$dir/package-lock.json" "$stamp"
fi
