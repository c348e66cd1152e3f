"""pytest fixtures for testing a relying party against `fauxkey serve`.

`fauxkey` yields a small client for one server: the one at $FAUXKEY_URL (its token in
$FAUXKEY_TOKEN) if set, else a fresh `fauxkey serve` started from $FAUXKEY_BIN (default:
`fauxkey` on PATH) and stopped after the test session. Every test starts from a reset server.
"""

import os
import shutil
import subprocess

import pytest
import requests


class Fauxkey:
    """The calls an RP test makes: the WebAuthn API as JSON, plus the control plane."""

    def __init__(self, base_url, token):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        # The per-run token goes with every call (the control plane refuses calls without it).
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _post(self, path, body):
        return self.http.post(f"{self.base_url}{path}", json=body, timeout=30)

    def create(self, origin, options_json):
        """navigator.credentials.create(): options as WebAuthn L3 JSON in, RegistrationResponseJSON out."""
        return self._post("/webauthn/create", {"origin": origin, "options": options_json})

    def get(self, origin, options_json):
        """navigator.credentials.get(): options as L3 JSON in, AuthenticationResponseJSON out."""
        return self._post("/webauthn/get", {"origin": origin, "options": options_json})

    def inject_fault(self, fault, count=1):
        """Make the next `count` responses carry `fault` (e.g. "bad-signature")."""
        self._post("/_fauxkey/faults", {"fault": fault, "count": count}).raise_for_status()

    def reset(self):
        # No body: the route takes none.
        self.http.post(f"{self.base_url}/_fauxkey/reset", timeout=30).raise_for_status()


@pytest.fixture(scope="session")
def fauxkey_server():
    url = os.environ.get("FAUXKEY_URL")
    if url:
        yield url, os.environ.get("FAUXKEY_TOKEN", "")
        return
    binary = os.environ.get("FAUXKEY_BIN") or shutil.which("fauxkey")
    if not binary:
        pytest.fail("set FAUXKEY_URL to a running `fauxkey serve`, or FAUXKEY_BIN / PATH to the fauxkey binary")
    proc = subprocess.Popen([binary, "serve"], stdout=subprocess.PIPE, text=True)
    try:
        # stdout: the base URL, then `token: TOKEN`.
        url = proc.stdout.readline().strip()
        token = proc.stdout.readline().strip().removeprefix("token: ")
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def fauxkey(fauxkey_server):
    client = Fauxkey(*fauxkey_server)
    client.reset()
    return client
