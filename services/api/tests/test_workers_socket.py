"""With PLUTARC_WORKERS > 1, connections the workers accept send at once (TCP_NODELAY) on either
event loop uvicorn may run: without it, every keep-alive response waited about 40 ms for the
client's delayed ACK. Two sockets bound to one port both listen (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import uvloop
from fastapi import FastAPI
from plutarc_api.main import server_config
from plutarc_api.settings import ApiSettings
from plutarc_api.workers import listener

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


async def nodelay_of_accepted(sock: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Accepted(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Accepted, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        found = await asyncio.wait_for(nodelay, 5)
        writer.close()
        return found
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_connections_accepted_from_a_workers_socket_have_nodelay(loop: str) -> None:
    sock = listener("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        assert runner.run(nodelay_of_accepted(sock)) != 0


def test_two_workers_listen_on_one_port() -> None:
    first = listener("127.0.0.1", 0)
    second = listener("127.0.0.1", first.getsockname()[1])
    try:
        first.listen()
        second.listen()
        assert first.getsockname() == second.getsockname()
    finally:
        first.close()
        second.close()


def test_the_api_is_served_on_uvloop_and_httptools() -> None:
    config = server_config(ApiSettings(), FastAPI())
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
