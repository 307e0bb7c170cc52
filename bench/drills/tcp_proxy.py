"""A TCP proxy in front of a server (PostgreSQL) that a test or a fault drill (bench/drill_outage.py) steers, to
stage the database failures the gateway must survive: `forward` (a healthy network), `refuse` (every connection cut
and new ones closed at once: the server is down), `black_hole` (connections are accepted and bytes go in, but nothing
comes back: a hung server or a network that drops packets)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

Mode = Literal["forward", "refuse", "black_hole"]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._mode: Mode = "forward"
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:`port` (0: any free port); `self.port` says which."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        self._cut_all()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """`refuse` cuts every open connection too; `black_hole` silences open ones from now on; leaving
        `black_hole` cuts the connections it silenced, as a network partition would have broken them."""
        if mode == "refuse" or self._mode == "black_hole":
            self._cut_all()
        self._mode = mode

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._mode == "refuse":
            client_writer.transport.abort()
            return
        self._writers.add(client_writer)
        if self._mode == "black_hole":
            self._spawn(self._swallow(client_reader))
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.add(server_writer)
        self._spawn(self._pipe(client_reader, server_writer))
        self._spawn(self._pipe(server_reader, client_writer))

    def _spawn(self, coroutine) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coroutine)
        self._pipes.add(task)
        task.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy bytes while forwarding; once the mode turns to black_hole, swallow them instead."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if self._mode == "black_hole":
                    continue
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass
