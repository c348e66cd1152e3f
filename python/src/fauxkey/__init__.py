"""fauxkey for Python: emulated passkeys for relying-party tests.

``fauxkey.Server`` starts the bundled ``fauxkey serve`` binary on a free loopback port and talks
to it over HTTP (the standard library's ``urllib``; no runtime dependencies). Installing the
package also registers a pytest plugin with a ``fauxkey`` fixture (see ``fauxkey.pytest_plugin``).
"""

from ._server import FauxkeyError, Server, binary_path

__all__ = ["FauxkeyError", "Server", "binary_path"]
