"""Fixtures shared by the end-to-end tests (helpers to import live in collector_process.py)."""
import pytest

from enrich_https_server import HttpsServer, make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A private test CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    return make_certs(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def server(certs):
    """A loopback HTTPS server with that certificate; tests register the responses."""
    s = HttpsServer(certs[1], certs[2])
    yield s
    s.close()
