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

# XML intake (gateway.messages.safe_xml): every bound is checked while the parser runs, so a hostile message
# costs at most one parse chunk past the bound.
# The whole message as received. Equal to the default HTTP request bound; a message never outgrows its request.
message_bytes_max = 10 * 1024 * 1024

# Bytes handed to libxml2 at a time. The bounds below are checked between chunks, so this is the overshoot.
parse_chunk_bytes = 64 * 1024

# Nesting. The deepest element in the reference corpus is at level 16 (a camt.054 with every optional field).
# libxml2 refuses depth 257 by itself when huge_tree is off; that stays a backstop, this is the bound.
xml_depth_max = 64

# Elements in one message. The largest corpus sample has under 3,000; a 10 MiB statement has about 200,000.
xml_elements_max = 200_000

# Comments and processing instructions together. A real bank camt.053 in the corpus carries 110 comments.
xml_comments_and_pis_max = 1_000

# Local name of one element or attribute. ISO 20022 names are under 40 characters.
xml_name_chars_max = 128

# ISO 20022 uses one attribute (Ccy); xsi:schemaLocation and envelope attributes need a few more.
attributes_per_element_max = 16
namespace_declarations_per_element_max = 16

# One piece of character data: an element's text, a tail, or an attribute value. The longest ISO 20022 text
# types are far shorter; XMLDSig certificates in an AppHdr run to a few thousand base64 characters.
text_chars_max = 65_536

# Untrusted text quoted back in a rejection (a namespace, a libxml2 message) is cut to this length.
rejection_excerpt_chars_max = 100

# Message layer: how much a refusal reports, and how large one message may be in transactions.
schema_rejections_max = 10  # schema errors reported per message: the first ones, the rest add nothing
schema_error_text_chars_max = 300  # libxml2's error text quoted in a rejection
rejections_per_refusal_max = 100  # rejections of one layer returned for one message
transactions_per_message_max = 10_000  # beyond it a message is refused (AM18) rather than settled in parts

# Pages of one wallet's report or statement (camt.052, camt.053), each of at most 2,000 entries
# (gateway.messages.statements.report_entries_max): a longer period is refused, to be asked for in parts.
report_pages_max = 20

# How far ahead of the business date a payment's settlement date may lie (future-dated payments are warehoused).
settlement_days_ahead_max = 30

# Ledger batches in flight at once: one being written, the next being planned meanwhile. Writes are serialised by
# the chain-head lock, so a third would only wait.
batches_in_flight_max = 2

# Messages stay in a bank's mailbox (GET /v1/messages) this long by default; the journal keeps them for good.
mailbox_retention_days_default = 30

# `gateway replay` and the placeholders of message files (gateway/replay/): a client of the gateway, bounded too.
placeholder_days_max = 400  # {{today+N}}, {{today-N}}: a year and a bit either way covers every date a rule allows
replay_files_max = 10_000  # message files in one replay
replay_concurrency_max = 64  # --concurrency: requests in flight at once
replay_request_timeout_ms = 120_000  # one HTTP request, a report of a long period included
replay_mailbox_poll_ms = 250  # how often the mailboxes are read while waiting for them to go quiet
replay_mailbox_quiet_ms = 1_500  # quiet: nothing new in any mailbox for this long
replay_mailbox_wait_ms = 30_000  # the longest wait for quiet after the last answer (a pending conversion's receipt)
replay_mailbox_messages_max = 100_000  # mailbox messages read in one replay, every bank together
replay_cursor_probes_max = 64  # requests to find the end of one mailbox: a binary search over 63-bit cursors
replay_differences_shown_max = 25  # differences printed per file; the rest are counted
replay_quoted_chars_max = 160  # of a value or an element quoted in a difference
replay_piped_width_chars = 160  # the summary table's width when output goes to a file or a CI log, not a terminal
example_summary_chars_max = 100  # an example's description in `gateway example --list`: one terminal line with its name

# Limits an operator may tune under [limits] in the config file (or GATEWAY_LIMITS__<NAME>).
tunable_limits: dict[str, Tunable] = {
    # HTTP transport.
    "request_bytes_max": Tunable(default=10 * 1024 * 1024, minimum=1024, maximum=64 * 1024 * 1024),
    "request_timeout_ms": Tunable(default=30_000, minimum=100, maximum=600_000),
    "shutdown_timeout_ms": Tunable(default=10_000, minimum=0, maximum=120_000),
    # Ledger auto-batcher: one database transaction settles up to batch_transfers_max transfers.
    "batch_transfers_max": Tunable(default=1_000, minimum=1, maximum=10_000),
    "batch_wait_us": Tunable(default=0, minimum=0, maximum=100_000),
    "queue_transfers_max": Tunable(default=100_000, minimum=1, maximum=10_000_000),
    "batch_retries_max": Tunable(default=5, minimum=0, maximum=100),
    # Database.
    "db_pool_connections_max": Tunable(default=8, minimum=1, maximum=256),
    "db_statement_timeout_ms": Tunable(default=10_000, minimum=100, maximum=600_000),
    # Two-phase transfers that nobody posts or voids are voided after this long.
    "pending_timeout_seconds_default": Tunable(default=300, minimum=1, maximum=7 * 24 * 3600),
    "pending_timeout_seconds_max": Tunable(default=24 * 3600, minimum=1, maximum=30 * 24 * 3600),
}
