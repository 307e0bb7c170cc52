"""The outbox relay: pushes each message in a push participant's mailbox to its webhook, in mailbox order.

At least once: a message is marked delivered only after the webhook answered 2xx, so a crash between the two sends
it again, and the bank recognises the duplicate by its BizMsgIdr. A failure is retried with exponential back-off
(capped); the mailbox keeps every message readable with GET /v1/messages all the while. One relay per process;
two processes may both push a message, which at-least-once allows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import aiohttp

from gateway import bounds
from gateway.domain.journal import MailboxItem

log = logging.getLogger(__name__)


class Outbox(Protocol):
    async def undelivered(self, recipients: Sequence[str], now_us: int, limit: int) -> list[MailboxItem]: ...

    async def delivery_attempted(self, seq: int, delivered_at_us: int | None, next_attempt_at_us: int | None) -> None: ...


def backoff_seconds(attempts: int) -> float:
    """Delay before the next try after `attempts` failed ones: 1 s, 2 s, 4 s ... up to 5 minutes."""
    assert attempts >= 1
    return min(bounds.delivery_backoff_seconds_first * 2 ** min(attempts - 1, 30), bounds.delivery_backoff_seconds_max)


class Relay:
    def __init__(
        self,
        outbox: Outbox,
        webhooks: Mapping[str, str],  # participant BIC -> webhook URL
        clock_us: Callable[[], int],
        session: aiohttp.ClientSession,
    ) -> None:
        self._outbox = outbox
        self._webhooks = dict(webhooks)
        self._clock_us = clock_us
        self._session = session
        self.delivered = 0

    async def run(self) -> None:
        while True:
            try:
                sent = await self.pass_once()
            except Exception:  # the database may be away: the next pass tries again
                log.exception("outbox relay pass failed")
                sent = 0
            if not sent:
                await asyncio.sleep(bounds.relay_idle_seconds)

    async def pass_once(self) -> int:
        """Push what is due. Returns how many messages were attempted."""
        items = await self._outbox.undelivered(list(self._webhooks), self._clock_us(), bounds.relay_batch_messages_max)
        blocked: set[str] = set()  # a recipient whose earlier message failed: keep its order, try it next pass
        for item in items:
            recipient = item.message.receiver_bic
            assert recipient is not None and recipient in self._webhooks
            if recipient in blocked:
                continue
            if await self._push(self._webhooks[recipient], item):
                await self._outbox.delivery_attempted(item.seq, self._clock_us(), None)
                self.delivered += 1
            else:
                blocked.add(recipient)
                retry_us = self._clock_us() + int(backoff_seconds(item.delivery_attempts + 1) * 1_000_000)
                await self._outbox.delivery_attempted(item.seq, None, retry_us)
        return len(items)

    async def _push(self, url: str, item: MailboxItem) -> bool:
        headers = {
            "Content-Type": "application/xml; charset=utf-8",
            "X-Gateway-Mailbox-Seq": str(item.seq),
            "X-Gateway-Message-Type": item.message.message_type or "",
        }
        try:
            async with self._session.post(
                url, data=item.message.payload, headers=headers,
                timeout=aiohttp.ClientTimeout(total=bounds.delivery_timeout_seconds),
            ) as response:
                if 200 <= response.status < 300:
                    return True
                log.warning("webhook %s answered %d to mailbox seq %d", url, response.status, item.seq)
                return False
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("webhook %s unreachable for mailbox seq %d: %s", url, item.seq, error)
            return False
