"""Every bound the gateway enforces, in one place, with its unit last in the name.

Fixed bounds are plain constants. Bounds an operator may tune are `Tunable`s: the config loader takes the default
from here and refuses a value outside [minimum, maximum], naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tunable:
    default: int
    minimum: int
    maximum: int


# Money. Kopecks are stored as signed 64-bit integers; an amount or balance beyond this is a programmer error.
kopecks_max = 2**63 - 1
transfer_amount_kopecks_max = 10**17  # 1e15 roubles: far above any real payment, far below the int64 edge

# Identifiers and free text carried on transfers.
reference_chars_max = 140
account_code_chars_max = 64
participant_name_chars_max = 140
wallets_per_participant_max = 16
participants_max = 2_000

# Limits an operator may tune under [limits] in the config file (or GATEWAY_LIMITS__<NAME>).
tunable_limits: dict[str, Tunable] = {
    # HTTP transport.
    "request_bytes_max": Tunable(default=10 * 1024 * 1024, minimum=1024, maximum=64 * 1024 * 1024),
    "request_timeout_ms": Tunable(default=30_000, minimum=100, maximum=600_000),
    "shutdown_timeout_ms": Tunable(default=10_000, minimum=0, maximum=120_000),
    # Ledger auto-batcher: one database transaction settles up to batch_transfers_max transfers.
    "batch_transfers_max": Tunable(default=1_000, minimum=1, maximum=10_000),
    "batch_wait_us": Tunable(default=0, minimum=0, maximum=100_000),
    # Batches in flight at once: the next is planned while the one before is written (more gains nothing, as
    # writes are serialised by the chain-head lock).
    "batch_pipeline_depth": Tunable(default=2, minimum=1, maximum=2),
    "queue_transfers_max": Tunable(default=100_000, minimum=1, maximum=10_000_000),
    "batch_retries_max": Tunable(default=5, minimum=0, maximum=100),
    # Database.
    "db_pool_connections_max": Tunable(default=8, minimum=1, maximum=256),
    "db_statement_timeout_ms": Tunable(default=10_000, minimum=100, maximum=600_000),
    # Two-phase transfers that nobody posts or voids are voided after this long.
    "pending_timeout_seconds_default": Tunable(default=300, minimum=1, maximum=7 * 24 * 3600),
    "pending_timeout_seconds_max": Tunable(default=24 * 3600, minimum=1, maximum=30 * 24 * 3600),
}
