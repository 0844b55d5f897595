"""The test CA: a server with its certificate is trusted by a client of that CA alone, with
certificate and host-name verification on."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from plutarc_testkit.tls import make_test_ca


async def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, name: str) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname=name
        )
        writer.close()
    finally:
        listener.close()


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "::1"])
async def test_a_client_of_the_ca_trusts_the_server_for_each_name(
    tmp_path: Path, name: str
) -> None:
    ca = make_test_ca(tmp_path)
    await _handshake(ca.server_context(), ca.client_context(), name)
    assert ca.client_context().verify_mode == ssl.CERT_REQUIRED


async def test_other_names_and_other_trust_are_refused(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "one")
    other = make_test_ca(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await _handshake(ca.server_context(), ca.client_context(), "venue.example")
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(ca.server_context(), other.client_context(), "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(ca.server_context(), ssl.create_default_context(), "127.0.0.1")
    assert oct(ca.key_file.stat().st_mode & 0o777) == "0o600"
