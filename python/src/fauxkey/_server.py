"""The ``fauxkey serve`` process and its HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

Json = Dict[str, Any]

_EXE = "fauxkey.exe" if sys.platform == "win32" else "fauxkey"

# The server is on loopback: never send its token through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FauxkeyError(Exception):
    """A request the server refused: ``name`` is the DOMException name a browser would reject
    with (``NotAllowedError``, ``SecurityError``, ``InvalidStateError``, ...), ``message`` the
    server's explanation, ``status`` the HTTP status."""

    def __init__(self, name: str, message: str, status: int) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status


def binary_path() -> str:
    """The ``fauxkey`` binary: ``$FAUXKEY_BIN``, else the one this package installed into the
    environment's scripts directory, else ``fauxkey`` on PATH."""
    explicit = os.environ.get("FAUXKEY_BIN")
    if explicit:
        return explicit
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if scheme_dir:
            candidate = Path(scheme_dir) / _EXE
            if candidate.is_file():
                return str(candidate)
    found = shutil.which("fauxkey")
    if found:
        return found
    raise FileNotFoundError(
        "the fauxkey binary was not found: install the fauxkey wheel, or set FAUXKEY_BIN"
    )


class Server:
    """A ``fauxkey serve`` process on a free loopback port, in memory unless ``vault`` is given.

    ``allow_key_export=True`` lets ``credentials()`` list the passkeys (with their private keys:
    the server refuses that otherwise); ``allow_origins`` are web origins whose pages may call the
    server directly through ``/shim.js``.

    Use it as a context manager (``with fauxkey.Server() as server:``) or call ``start()`` and
    ``stop()``. Every request carries the server's per-run token. The WebAuthn methods take the
    RP's options JSON (a dict, exactly as the RP server sends it) and return the browser's
    response JSON (a dict); a refused ceremony raises ``FauxkeyError``.
    """

    def __init__(
        self,
        profile: Optional[str] = None,
        seed: Optional[int] = None,
        vault: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        allow_key_export: bool = False,
        allow_origins: Sequence[str] = (),
        binary: Optional[str] = None,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        startup_timeout: float = 30.0,
        request_timeout: float = 60.0,
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.vault = vault
        self.allow_key_export = allow_key_export
        self.allow_origins = list(allow_origins)
        self.binary = binary
        self.extra_args = list(args)
        self.env = dict(env) if env is not None else None
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._dir: Optional[tempfile.TemporaryDirectory[str]] = None
        self._url: Optional[str] = None
        self._token: Optional[str] = None

    # ---- the process ----------------------------------------------------------------------

    def start(self) -> "Server":
        """Starts the server and waits until it listens."""
        if self._process is not None:
            return self
        binary = self.binary or binary_path()
        self._dir = tempfile.TemporaryDirectory(prefix="fauxkey-")
        url_file = Path(self._dir.name) / "url"
        token_file = Path(self._dir.name) / "token"
        stderr_path = Path(self._dir.name) / "stderr"
        command = [
            binary,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--url-file",
            str(url_file),
            "--token-file",
            str(token_file),
        ]
        if self.profile is not None:
            command += ["--profile", str(self.profile)]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        if self.vault is not None:
            command += ["--vault", os.fspath(self.vault)]
        if self.allow_key_export:
            command.append("--allow-key-export")
        for origin in self.allow_origins:
            command += ["--allow-origin", origin]
        command += self.extra_args
        env = dict(os.environ if self.env is None else self.env)
        with open(stderr_path, "wb") as stderr:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
        deadline = time.monotonic() + self.startup_timeout
        # The token file is written before the url file: once the url file exists, both are there.
        while not url_file.exists():
            code = self._process.poll()
            if code is not None:
                error = stderr_path.read_text(errors="replace").strip()
                self._cleanup()
                raise RuntimeError(f"fauxkey serve exited with status {code}: {error}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"fauxkey serve did not listen within {self.startup_timeout} s")
            time.sleep(0.01)
        self._url = url_file.read_text().strip()
        self._token = token_file.read_text().strip() if token_file.exists() else None
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stops the server: SIGTERM, then a kill after ``grace`` seconds."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._process = None
        self._url = None
        self._token = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``."""
        if self._url is None:
            raise RuntimeError("the server is not running; call start() or use `with`")
        return self._url

    @property
    def token(self) -> Optional[str]:
        """The per-run token sent as ``Authorization: Bearer``."""
        return self._token

    # ---- HTTP -----------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One call to the server: the parsed JSON answer (None for 204), or FauxkeyError."""
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=self.request_timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw)
                name, message = parsed["name"], parsed["message"]
            except (ValueError, KeyError, TypeError):
                name, message = "UnknownError", raw.decode(errors="replace")
            raise FauxkeyError(name, message, error.code) from None
        if status == 204 or not raw:
            return None
        return json.loads(raw)

    # ---- navigator.credentials and PublicKeyCredential ------------------------------------

    def _ceremony(
        self,
        kind: str,
        origin: str,
        options: Json,
        top_origin: Optional[str],
        authenticator_id: Optional[str],
    ) -> Json:
        body: Json = {"origin": origin, "options": options}
        if top_origin is not None:
            body["topOrigin"] = top_origin
        if authenticator_id is not None:
            body["authenticatorId"] = authenticator_id
        result: Json = self.request("POST", f"/webauthn/{kind}", body)
        return result

    def create(
        self,
        origin: str,
        options: Json,
        *,
        top_origin: Optional[str] = None,
        authenticator_id: Optional[str] = None,
    ) -> Json:
        """``navigator.credentials.create()``: creation options JSON in, RegistrationResponseJSON out."""
        return self._ceremony("create", origin, options, top_origin, authenticator_id)

    def get(
        self,
        origin: str,
        options: Json,
        *,
        top_origin: Optional[str] = None,
        authenticator_id: Optional[str] = None,
    ) -> Json:
        """``navigator.credentials.get()``: request options JSON in, AuthenticationResponseJSON out."""
        return self._ceremony("get", origin, options, top_origin, authenticator_id)

    def signal_unknown_credential(self, origin: str, rp_id: str, credential_id: str) -> None:
        """``PublicKeyCredential.signalUnknownCredential``: the RP no longer knows this credential."""
        self.request(
            "POST",
            "/webauthn/signal/unknown-credential",
            {"origin": origin, "options": {"rpId": rp_id, "credentialId": credential_id}},
        )

    def signal_all_accepted_credentials(
        self, origin: str, rp_id: str, user_id: str, all_accepted_credential_ids: Sequence[str]
    ) -> None:
        """``PublicKeyCredential.signalAllAcceptedCredentials``: the user's full list of credentials."""
        self.request(
            "POST",
            "/webauthn/signal/all-accepted",
            {
                "origin": origin,
                "options": {
                    "rpId": rp_id,
                    "userId": user_id,
                    "allAcceptedCredentialIds": list(all_accepted_credential_ids),
                },
            },
        )

    def signal_current_user_details(
        self, origin: str, rp_id: str, user_id: str, name: str, display_name: str
    ) -> None:
        """``PublicKeyCredential.signalCurrentUserDetails``: the user's current names."""
        self.request(
            "POST",
            "/webauthn/signal/user-details",
            {
                "origin": origin,
                "options": {"rpId": rp_id, "userId": user_id, "name": name, "displayName": display_name},
            },
        )

    # ---- conditional mediation (autofill) --------------------------------------------------

    def get_conditional(
        self, origin: str, options: Json, *, authenticator_id: Optional[str] = None
    ) -> str:
        """``navigator.credentials.get({mediation: "conditional"})``: the request stays pending
        (as a browser's autofill does); returns its id for the ``conditional_*`` calls."""
        body: Json = {"origin": origin, "options": options, "mediation": "conditional"}
        if authenticator_id is not None:
            body["authenticatorId"] = authenticator_id
        result: Json = self.request("POST", "/webauthn/get", body)
        pending: str = result["pending"]
        return pending

    def conditional_result(self, pending_id: str, wait_ms: int = 0) -> Optional[Json]:
        """What the page's promise gives once the request has ended: the
        AuthenticationResponseJSON (an error raises FauxkeyError); None while it is still
        pending after ``wait_ms`` (at most 20000)."""
        result: Optional[Json] = self.request(
            "POST", f"/webauthn/conditional/{pending_id}?waitMs={int(wait_ms)}", {}
        )
        return result

    def conditional_requests(self) -> List[Json]:
        """The pending conditional requests, oldest first, each with the passkeys the autofill
        UI offers (``offers``: ``credentialId``, ``userName``, ``userDisplayName``, ``userHandle``)."""
        result: List[Json] = self.request("GET", "/_fauxkey/conditional")
        return result

    def conditional_pick(
        self, pending_id: str, index: Optional[int] = None, *, credential_id: Optional[str] = None
    ) -> Json:
        """The user picks offer ``index`` (from 0) or ``credential_id``: returns what the page
        gets (a ceremony error raises FauxkeyError)."""
        if (index is None) == (credential_id is None):
            raise TypeError("conditional_pick() needs index or credential_id, not both")
        body: Json = {"index": index} if index is not None else {"credentialId": credential_id}
        result: Json = self.request("POST", f"/_fauxkey/conditional/{pending_id}/pick", body)
        return result

    def conditional_dismiss(self, pending_id: str) -> None:
        """The user closes the autofill UI; the request stays pending."""
        self.request("POST", f"/_fauxkey/conditional/{pending_id}/dismiss")

    def conditional_abort(self, pending_id: str) -> None:
        """As if the page's AbortSignal fired: the page gets AbortError."""
        self.request("POST", f"/_fauxkey/conditional/{pending_id}/abort")

    def conditional_timeout(self, pending_id: str) -> None:
        """The request's time runs out now: the page gets NotAllowedError."""
        self.request("POST", f"/_fauxkey/conditional/{pending_id}/timeout")

    def password_sign_in(self, rp_id: str, user_name: str, authenticator_id: str = "default") -> None:
        """Record that the user signed in to ``rp_id`` as ``user_name`` with a password, so one
        conditional create (``create_conditional``) for that account upgrades it to a passkey."""
        self.request(
            "POST",
            f"/_fauxkey/authenticators/{authenticator_id}/password-sign-in",
            {"rpId": rp_id, "userName": user_name},
        )

    def create_conditional(
        self, origin: str, options: Json, *, authenticator_id: Optional[str] = None
    ) -> Json:
        """``navigator.credentials.create({mediation: "conditional"})``: the automatic passkey
        upgrade; NotAllowedError unless ``password_sign_in`` was recorded for that user."""
        body: Json = {"origin": origin, "options": options, "mediation": "conditional"}
        if authenticator_id is not None:
            body["authenticatorId"] = authenticator_id
        result: Json = self.request("POST", "/webauthn/create", body)
        return result

    def capabilities(self) -> Dict[str, bool]:
        """``PublicKeyCredential.getClientCapabilities()``."""
        result: Dict[str, bool] = self.request("GET", "/webauthn/capabilities")
        return result

    # ---- the control plane ----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: added authenticators removed, faults cleared, the default
        authenticator's options restored and, in memory, its passkeys gone."""
        self.request("POST", "/_fauxkey/reset")

    def inject_fault(self, name: str, responses: int = 1) -> None:
        """Make the next ``responses`` responses carry the fault ``name`` (``bad-signature``,
        ``up-cleared``, ``uv-cleared``, ``counter-backwards``, ``wrong-rp-id-hash``,
        ``bs-without-be``, ``wrong-type``, ``wrong-challenge``, ``wrong-origin``)."""
        self.request("POST", "/_fauxkey/faults", {"fault": name, "count": responses})

    def credentials(self, authenticator_id: str = "default") -> List[Json]:
        """The authenticator's credentials in the WebDriver shape (``credentialId``, ``rpId``,
        ``userHandle``, ``signCount``, ``isResidentCredential``, ``privateKey``); needs
        ``allow_key_export=True`` (the pytest fixture's servers have it)."""
        result: List[Json] = self.request("GET", f"/_fauxkey/authenticators/{authenticator_id}/credentials")
        return result

    def events(self) -> List[Json]:
        """The signal log: what signals did to the passkeys."""
        result: List[Json] = self.request("GET", "/_fauxkey/events")
        return result

    def set_user(
        self,
        presence: Optional[bool] = None,
        verification: Optional[bool] = None,
        authenticator_id: str = "default",
    ) -> None:
        """What the emulated user does from now on: ``presence=False`` refuses every ceremony
        (NotAllowedError), ``verification=False`` fails user verification."""
        body: Json = {}
        if presence is not None:
            body["isUserConsenting"] = presence
        if verification is not None:
            body["isUserVerified"] = verification
        if not body:
            raise TypeError("set_user() needs presence=, verification= or both")
        self.request("POST", f"/_fauxkey/authenticators/{authenticator_id}/uv", body)
