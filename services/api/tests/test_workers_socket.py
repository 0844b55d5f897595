"""With PLUTARC_WORKERS > 1, connections the workers accept send at once (TCP_NODELAY): without it,
every keep-alive response waited about 40 ms for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from plutarc_api.main import tcp_listener


async def test_connections_accepted_from_the_workers_socket_have_nodelay() -> None:
    config = uvicorn.Config(
        "plutarc_api.main:worker_app", factory=True, workers=2, host="127.0.0.1", port=0
    )
    listener = tcp_listener(config)
    assert listener.proto == socket.IPPROTO_TCP
    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Accepted(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            nodelay.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Accepted, sock=listener)
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        assert await asyncio.wait_for(nodelay, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
