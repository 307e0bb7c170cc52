"""A gateway process that receives one camt.050 and kills itself (SIGKILL, as `kill -9` would) right after a named
step of the conversion saga: the crash the restart tests recover from.

    python -m tests.conversion.crash_child CONFIG STEP MESSAGE_FILE...

Every message but the last is received in full first (to fund a wallet before a burn, say). It builds the gateway exactly as `gateway serve` does
(running_gateway), with one difference: the saga's after-step observer sends SIGKILL to this process when STEP is reached. It exits 3 if the
step never came (the test then knows its kill point is wrong)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from gateway.config import load_config
from gateway.runtime import running_gateway


def kill_at(step: str):  # type: ignore[no-untyped-def]
    def after_step(reached: str) -> None:
        if reached == step:
            os.kill(os.getpid(), signal.SIGKILL)

    return after_step


async def main(config_path: Path, step: str, messages: list[bytes]) -> int:
    config = load_config(config_path, environ={})
    async with running_gateway(config, upgrade=True, after_conversion_step=kill_at(step)) as gateway:
        for message in messages:
            await gateway.inbound.receive(message, None)
    return 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), sys.argv[2], [Path(name).read_bytes() for name in sys.argv[3:]])))
