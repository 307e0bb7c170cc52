"""The Rtgs port (gateway.conversion.ports) over ISO 20022 and HTTP: the gateway's side of docs/rtgs-protocol.md.

HttpRtgs holds one aiohttp ClientSession for its life: open it with `await rtgs.open()` or `async with rtgs:` and
close it with `await rtgs.close()` (or by leaving the block). Calling the port while closed is a programmer's error.

Every call is one POST of one request, bounded by the configured total timeout. What the port's callers see:
- the answer, read and checked (gateway_adapters.rtgs.wire);
- RtgsUnavailable for a connection refused or lost, a timeout, an HTTP 5xx (or 408/429), or an answer that is not the
  valid answer expected: the outcome is unknown, and the caller retries with the same request id;
- RtgsProtocolError (a ValueError) for any other HTTP 4xx, with the admi.002's code and text when there is one: the
  RTGS refused the request itself, which retrying cannot change;
- ValueError, before anything is sent, for arguments no request can carry (amounts that are not positive kopecks,
  references no camt.050 can carry, a period that ends before it begins), as the embedded simulator does.
"""

from __future__ import annotations

import ssl
import uuid
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
from gateway_adapters.rtgs import wire
from gateway_adapters.rtgs.references import recorded
from gateway_adapters.rtgs.wire import RtgsProtocolError

from gateway import bounds
from gateway.config import Config
from gateway.conversion.ports import (
    FiatBalance,
    FiatReferences,
    FiatStatement,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.messages.rejections import excerpt

__all__ = ["HttpRtgs", "RtgsProtocolError"]

answer_bytes_max = bounds.message_bytes_max  # an answer is one message, bounded as every message the gateway reads
retryable_client_statuses = frozenset({408, 429})  # the RTGS timed out or is shedding load: the outcome is unknown
messages_path = "/v1/messages"


class HttpRtgs:
    """Implements gateway.conversion.ports.Rtgs against an RTGS that speaks docs/rtgs-protocol.md."""

    def __init__(
        self,
        url: str,
        gateway_bic: str,
        rtgs_bic: str,
        reserve_account: str,
        timeout_ms: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`url` is the RTGS's base URL; an https one needs `ssl_context` (the gateway's client certificate and the CA
        that signed the RTGS's), an http one must not have one."""
        assert url.startswith(("http://", "https://")), url
        assert (ssl_context is not None) == url.startswith("https://"), "https with an ssl context, http without"
        assert 0 < timeout_ms, timeout_ms
        self._endpoint = url.rstrip("/") + messages_path
        self._parties = wire.Parties(gateway_bic=gateway_bic, rtgs_bic=rtgs_bic)
        self._reserve_account = reserve_account
        self._timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(cls, config: Config, tls_dir: Path | None = None) -> HttpRtgs:
        """The client config.rtgs describes. An https URL uses the central bank's client certificate from `tls_dir`
        (default: http.tls_dir), as `gateway certs init` writes it: ca.pem, <BIC>.pem and <BIC>.key."""
        from gateway.security.certs import client_ssl_context

        url = config.rtgs.url
        if url is None:
            raise ValueError("rtgs.url is not configured")
        bic = config.central_bank.bic
        ssl_context = None
        if url.startswith("https://"):
            directory = config.http.tls_dir if tls_dir is None else tls_dir
            ssl_context = client_ssl_context(directory / "ca.pem", directory / f"{bic}.pem", directory / f"{bic}.key")
        reserve_account = config.central_bank.reserve_rtgs_account
        return cls(url, bic, config.rtgs.bic, reserve_account, config.rtgs.timeout_ms, ssl_context)

    async def open(self) -> None:
        assert self._session is None, "HttpRtgs is open already"
        connector = aiohttp.TCPConnector(
            ssl=True if self._ssl_context is None else self._ssl_context,  # plain http: unused
            limit=bounds.rtgs_connections_max,
            limit_per_host=bounds.rtgs_connections_max,
            force_close=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # the protocol has no cookies
            trust_env=False,  # no proxy from the environment between the central bank and its RTGS
            auto_decompress=False,
            raise_for_status=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    # --- the port --------------------------------------------------------------------------------------------------

    @property
    def reserve_account(self) -> str:
        return self._reserve_account

    async def balance(self, account: str) -> FiatBalance | None:
        request = wire.balance_request(self._parties, account, wire.now_utc())
        return wire.read_balance(self._parties, request, account, await self._exchange(request))

    async def reserve(
        self, hold_id: uuid.UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        _check_amount(amount_kopecks)
        references = recorded(references)
        request = wire.reserve_request(self._parties, hold_id, account, amount_kopecks, references, wire.now_utc())
        return await self._movement(request)

    async def commit(self, request_id: uuid.UUID, hold_id: uuid.UUID) -> RtgsOutcome:
        request = wire.commit_request(self._parties, request_id, hold_id, self._reserve_account, wire.now_utc())
        return await self._movement(request)

    async def release(self, request_id: uuid.UUID, hold_id: uuid.UUID) -> RtgsOutcome:
        return await self._movement(wire.release_request(self._parties, request_id, hold_id, wire.now_utc()))

    async def credit_from_reserve(
        self, request_id: uuid.UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        _check_amount(amount_kopecks)
        references = recorded(references)
        now = wire.now_utc()
        request = wire.credit_request(
            self._parties, request_id, self._reserve_account, account, amount_kopecks, references, now
        )
        return await self._movement(request)

    async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
        """Asked page by page (bounds.rtgs_statement_page_entries_max entries each), each from the entry after the last."""
        if to_date < from_date:
            raise ValueError(f"statement period {from_date}..{to_date} ends before it begins")
        pages: list[wire.StatementPage] = []
        from_entry_id = None
        while len(pages) < bounds.rtgs_statement_pages_max:
            request = wire.statement_request(self._parties, account, from_date, to_date, from_entry_id, wire.now_utc())
            data = await self._exchange(request)
            page = wire.read_statement_page(self._parties, request, account, from_date, to_date, not pages, data)
            if page is None:
                return None
            pages.append(page)
            if page.last:
                return wire.joined_statement(account, from_date, to_date, pages)
            if not page.entries:
                raise RtgsUnavailable("the RTGS's answer is not a valid answer: a page before the last lists no entry")
            from_entry_id = page.entries[-1].entry_id + 1
        raise RtgsUnavailable(f"the RTGS's statement of {account} runs past {bounds.rtgs_statement_pages_max} pages")

    # --- one exchange ----------------------------------------------------------------------------------------------

    async def _movement(self, request: wire.Request) -> RtgsOutcome:
        return wire.read_outcome(self._parties, request, await self._exchange(request))

    async def _exchange(self, request: wire.Request) -> bytes:
        """POST one request; the answer's bytes on HTTP 200, else the exception its status calls for."""
        session = self._session
        assert session is not None, "HttpRtgs is used between open() and close() only"
        try:
            async with session.post(
                self._endpoint,
                data=request.payload,
                headers={"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"},
                allow_redirects=False,  # a redirect would be a misconfiguration; never follow one with a payment
            ) as response:
                status = response.status
                data = await _bounded_body(response)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise RtgsUnavailable(f"no answer from the RTGS at {self._endpoint}: {error!r}") from error
        if status == 200:
            return data
        if status >= 500 or status in retryable_client_statuses:
            raise RtgsUnavailable(f"the RTGS at {self._endpoint} answered HTTP {status}")
        if 400 <= status < 500:
            reject = wire.read_reject(data)
            text = f"{excerpt(data.decode('utf-8', 'replace'))} (no admi.002)" if reject is None else wire.reject_text(reject)
            raise RtgsProtocolError(status, text)
        raise RtgsUnavailable(f"the RTGS at {self._endpoint} answered HTTP {status}, not 200")


async def _bounded_body(response: aiohttp.ClientResponse) -> bytes:
    if response.content_length is not None and response.content_length > answer_bytes_max:
        raise RtgsUnavailable(f"the RTGS's answer of {response.content_length} bytes is over {answer_bytes_max}")
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(bounds.rtgs_answer_chunk_bytes):
        size += len(chunk)
        if size > answer_bytes_max:
            raise RtgsUnavailable(f"the RTGS's answer is over {answer_bytes_max} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_amount(amount_kopecks: object) -> None:
    if type(amount_kopecks) is not int:  # not a bool, a float or a Decimal: the caller converted to kopecks
        raise ValueError(f"amount {amount_kopecks!r} is not whole kopecks")
    if not 0 < amount_kopecks <= bounds.transfer_amount_kopecks_max:
        raise ValueError(f"amount {amount_kopecks} kopecks is out of range")
