"""The pytest plugin, registered through the ``pytest11`` entry point: installing the package is
all it takes.

Fixtures:

- ``fauxkey``: a ``fauxkey.Server``, reset before each test. One server per session and
  (profile, seed): a test that needs another profile or seed marks itself with
  ``@pytest.mark.fauxkey(profile="yubikey-5", seed=7)`` and gets a server started with those.
- ``fauxkey_server_factory``: the session's servers by (profile, seed), for fixtures of your own.

Options: ``--fauxkey-bin PATH`` (else ``$FAUXKEY_BIN``, else the bundled binary).
"""

from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

import pytest

from ._server import Server

_Key = Tuple[Optional[str], Optional[int]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fauxkey")
    group.addoption(
        "--fauxkey-bin",
        action="store",
        default=None,
        metavar="PATH",
        help="the fauxkey binary to run (default: $FAUXKEY_BIN, else the one the wheel installed)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fauxkey(profile=None, seed=None): run this test against a fauxkey server with this "
        "provider profile and seed",
    )


class ServerFactory:
    """Starts one server per (profile, seed) on first use; stops them all at the end."""

    def __init__(self, binary: Optional[str]) -> None:
        self._binary = binary
        self._servers: Dict[_Key, Server] = {}

    def __call__(self, profile: Optional[str] = None, seed: Optional[int] = None) -> Server:
        key = (profile, seed)
        server = self._servers.get(key)
        if server is None:
            # Key export is on: a test may list its passkeys (the server is loopback-only and
            # every request needs the per-run token).
            server = Server(profile=profile, seed=seed, binary=self._binary, allow_key_export=True).start()
            self._servers[key] = server
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def fauxkey_server_factory(pytestconfig: pytest.Config) -> Iterator[ServerFactory]:
    factory = ServerFactory(pytestconfig.getoption("--fauxkey-bin"))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def fauxkey(request: pytest.FixtureRequest, fauxkey_server_factory: ServerFactory) -> Server:
    """A running fauxkey server, reset for this test."""
    marker = request.node.get_closest_marker("fauxkey")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    server = fauxkey_server_factory(profile=kwargs.get("profile"), seed=kwargs.get("seed"))
    server.reset()
    return server
