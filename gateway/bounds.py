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
# Client certificates whose BIC the HTTP layer remembers (gateway.http.auth): two per participant, for a rotation.
client_certificates_cached_max = 2 * participants_max

# XML intake (gateway.messages.safe_xml): every bound is checked while the parser runs, so a hostile message
# costs at most one parse chunk past the bound.
# The whole message as received. Equal to the default HTTP request bound; a message never outgrows its request.
message_bytes_max = 10 * 1024 * 1024

# Bytes handed to libxml2 at a time. The bounds below are checked between chunks, so this is the overshoot.
parse_chunk_bytes = 64 * 1024

# Nesting. The deepest element in the reference corpus is at level 16 (a camt.054 with every optional field).
# libxml2 refuses depth 257 by itself when huge_tree is off; that stays a backstop, this is the bound.
xml_depth_max = 64

# Elements in one message. A message at transactions_per_message_max must fit: its transactions get about 1 KiB
# each of message_bytes_max, which real ones fill with up to about 40 elements (27 in a plain pacs.008
# transaction). The largest corpus sample has under 3,000; a 10 MiB statement has about 200,000.
xml_elements_max = 400_000

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

# XML signatures in AppHdr/Sgntr (gateway.messages.signatures). The profile's signature has 24 elements (three
# references with their transforms, one certificate); a larger one is refused on its element count, before its
# parts are read. Exactly three references are signed (KeyInfo, AppHdr, Document): a fourth is refused.
signature_elements_max = 32
signature_references_max = 3
# The DER certificate in KeyInfo. A 4096-bit RSA certificate with its extensions is under 2 KiB.
signature_certificate_bytes_max = 8 * 1024
# RSA keys that may sign, in bits: below 2048 is no longer safe (NIST SP 800-131A); above 4096 would only let a
# sender choose how long each verification takes.
signature_rsa_key_bits_min = 2048
signature_rsa_key_bits_max = 4096
# KeyInfo's Id, which the KeyInfo reference names as "#Id". A UUID with a prefix is under 50 characters.
signature_id_chars_max = 128
# Signing certificates registered for one participant at once: the current one and the next, during a rotation's
# overlap, with room for a key renewed while a rotation is still open.
signing_certificates_per_participant_max = 4

# Message layer: how much a refusal reports, and how large one message may be in transactions.
schema_rejections_max = 10  # schema errors reported per message: the first ones, the rest add nothing
schema_error_text_chars_max = 300  # libxml2's error text quoted in a rejection
rejections_per_refusal_max = 100  # rejections of one layer returned for one message
transactions_per_message_max = 10_000  # beyond it a message is refused (AM18) rather than settled in parts

# Reports the gateway writes (camt.052, camt.053, camt.054) must be ones it could read back: an entry with one
# transaction's details and every field the writer knows is 62 elements and 1.7 kB, so a page of 2,000 (125,000
# elements, 3.3 MB) stays below xml_elements_max and message_bytes_max. A longer period is reported in pages.
report_entries_max = 2_000  # entries in one page of a report, statement or notification
report_transactions_max = 2_000  # transaction details (NtryDtls/TxDtls) in one page, over all its entries
# Pages of one wallet's report or statement: a longer period is refused, to be asked for in parts (40,000 postings).
report_pages_max = 20
# Report requests (RptgReq) in one camt.060: an intraday report and a statement for each wallet a bank may hold.
reporting_requests_per_message_max = 2 * wallets_per_participant_max
# Days one report request may span, FrDt to ToDt (or to today): a month of statements; longer histories are asked
# for month by month, so that no answer outgrows the message bounds.
reporting_period_days_max = 31

# Reasons per transaction an answer spells out; beyond them the sender reads the group status.
status_reasons_per_transaction_max = 10
# AddtlInf lines (Max105Text each) one status reason carries: the reason in words, then the element path.
additional_info_lines_max = 8

# How far ahead of the business date a payment's settlement date may lie (future-dated payments are warehoused).
settlement_days_ahead_max = 30

# Ledger batches in flight at once: one being written, the next being planned meanwhile. Writes are serialised by
# the chain-head lock, so a third would only wait.
batches_in_flight_max = 2

# How often a message whose claims conflicted with the journal is prepared again before the gateway gives up (503).
# A conflict means another copy of it, or of one of its payments, committed in between: the next look-up finds it.
journal_conflict_retries_max = 3

# Background work of a serving process (gateway.runtime.background): how often each runs and how much one pass does.
conversion_resume_seconds = 2.0
conversions_resumed_max = 200  # unfinished conversions one resumer pass drives
pending_sweep_seconds = 1.0
pending_sweep_transfers_max = 1_000  # expired two-phase transfers voided per pass
directory_refresh_seconds = 2.0  # a suspension or a new participant is seen within this
warehouse_sweep_seconds = 5.0
warehouse_sweep_payments_max = 10_000  # warehoused payments released per pass
day_close_check_seconds = 5.0  # how soon after its cut-off a business day closes

# Three-way reconciliation (gateway reconcile): a day's postings are compared in memory, a few hundred bytes each; a
# busier day is refused with a message rather than read half. Earlier days whose breaks are still open are compared
# again by each run (one RTGS statement each): the most recent ones, a month's worth; older ones are listed as open.
reconciliation_postings_max = 2_000_000
reconciliation_days_rechecked_max = 31

# The treasury page and its JSON API (gateway/http/treasury.py, gateway/treasury/figures.py). Figures are recomputed
# at most every treasury_refresh_ms (a tunable limit), however many people poll; the RTGS is asked less often: with
# an RTGS over HTTP each account's balance is a request of its own.
treasury_rtgs_refresh_seconds = 15.0
treasury_rtgs_calls_in_flight_max = 8  # balance requests to the RTGS at once while refreshing 200 banks' accounts
treasury_rows_default = 50  # rows of a list (rejects, pending payments, breaks) when the request names no limit
treasury_rows_max = 500
treasury_series_days_default = 14  # closed business days the chart shows
treasury_series_days_max = 62
treasury_closed_days_cached_max = 256  # closed days' figures kept (a closed day never changes)
treasury_poll_seconds = 5  # how often the page asks for fresh figures

# Holidays one business calendar lists ([business_days] holidays): ten years of a dozen each.
holidays_max = 200

# Messages stay in a bank's mailbox (GET /v1/messages) this long by default; the journal keeps them for good.
mailbox_retention_days_default = 30

# HTTP API.
mailbox_page_max = 500  # messages in one GET /v1/messages page
mailbox_page_default = 100
mailbox_cursor_max = 2**63 - 1  # mailbox sequence numbers are 64-bit
admin_body_bytes_max = 4_096  # a JSON body of the central bank's admin routes
emission_changes_listed_max = 50  # changes of emission controls GET /v1/admin/emission lists
readiness_check_seconds = 2.0  # a readiness probe's database query and RTGS call each answer within this, or fail
ready_queue_high_water_percent = 80  # not ready while the auto-batcher's queue is fuller than this of its maximum
retry_after_seconds = 1
# `gateway serve --workers N`: the supervisor asks a worker's ops socket (readiness, metrics, whether a new one serves
# yet) within worker_ops_timeout_seconds. A worker that dies within worker_stable_seconds of its start dies "early":
# the first early death is replaced at once, each further one in a row waits twice as long as the one before, from
# worker_restart_delay_seconds_first up to worker_restart_delay_seconds_max. Stopping, each worker has
# limits.shutdown_timeout_ms to finish its requests, and worker_stop_grace_seconds more to exit, before SIGKILL.
worker_ops_timeout_seconds = 3.0  # more than readiness_check_seconds: a worker's own 503 comes back, with its reasons
worker_serving_poll_seconds = 0.2
worker_stable_seconds = 10.0
worker_restart_delay_seconds_first = 1.0
worker_restart_delay_seconds_max = 30.0
worker_stop_grace_seconds = 5.0  # what a 503 asks the client to wait before it retries

# Rule contexts cached per directory snapshot, by (date, participant); a fresh snapshot every few seconds empties it.
rule_contexts_cached_max = 4_096

# Ledger batches that failed for a transient reason are retried after this, doubling each time (batch_retries_max).
batch_retry_backoff_seconds_first = 0.05

# SQLite caps bound parameters per statement (999 in older builds): look-ups by many ids go in chunks.
sqlite_ids_per_query_max = 1_000
sqlite_keys_per_query_max = 900

# Push delivery to banks' webhooks (gateway.delivery.relay).
relay_batch_messages_max = 100  # messages read per pass
relay_idle_seconds = 0.5  # pause when nothing is due
delivery_timeout_seconds = 10.0  # one POST to a webhook
delivery_backoff_seconds_first = 1.0  # after a failed push; doubling up to the maximum
delivery_backoff_seconds_max = 300.0

# The RTGS over ISO 20022/HTTP (adapters/rtgs, docs/rtgs-protocol.md).
rtgs_connections_max = 32  # open connections to the RTGS; more concurrent calls queue for one (within their timeout)
rtgs_answer_chunk_bytes = 64 * 1024  # read at a time, so that an oversized answer is dropped within one chunk
rtgs_queries_per_message_max = 16  # reports one camt.060 query asks for (the schema sets no bound)
rtgs_balance_types_per_query_max = 8
rtgs_statement_days_max = 31  # a month of business days; longer periods are asked for month by month
# A statement travels in pages: one camt.053 answers one camt.060 with at most this many entries, and the gateway
# asks for the next page from the entry after the last one it has (RptgSeq/FrSeq). It stops after
# rtgs_statement_pages_max pages: 2 million entries, far beyond a month of one account's conversions, and a bound on
# a misbehaving RTGS that never says "last page".
rtgs_statement_page_entries_max = report_entries_max
rtgs_statement_pages_max = 1_000

# The development PKI (gateway certs init / issue). A leaf never outlives its CA.
development_ca_validity_days = 3650
development_leaf_validity_days = 825
# Certificates start this far in the past, so that a peer whose clock runs a little behind accepts them at once.
certificate_clock_skew_seconds = 300
server_certificate_hosts_max = 64  # names one server certificate carries besides localhost and 127.0.0.1
dns_name_chars_max = 253  # as RFC 1035 bounds a DNS name
organization_name_chars_max = 64  # X.520 ub-organization-name: a longer bank name is cut in a certificate subject

# The deployment's entrypoint (compose/entrypoint.sh, compose/preflight.py): checks before a container starts the gateway.
# How long it waits for PostgreSQL to accept a connection (a server still starting), then exits 3.
startup_database_wait_seconds = 60
startup_database_wait_seconds_max = 600  # the most DATABASE_WAIT_SECONDS may ask for
# A server certificate or client CA that expires within this is started with, and said so, once per start.
certificate_expiry_warning_days = 30
health_timeout_seconds = 3  # the container healthcheck's GET /readyz on the ops port

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

# gateway demo (gateway/demo/).
demo_refusal_words_chars_max = 90  # of the gateway's words for a refusal, on the demo's one line per message
demo_piped_width_chars = 200  # the demo's tables' width when output goes to a file or a CI log, not a terminal

# The HTTP listener's edge (gateway/http/edge.py): what one connection may hold before it sends a request.
# A TLS handshake not finished within this is cut: a real client finishes in a few round trips.
tls_handshake_timeout_ms = 10_000
# Refused connections (a TLS handshake refused or cut, a connection bound reached) are logged with the peer, at most
# once per peer address per interval and at most refusal_log_lines_max lines per interval in all: a flood is counted,
# not written out line by line.
refusal_log_interval_seconds = 60.0
refusal_log_lines_max = 100
# Request line, one header field, and the number of header fields (aiohttp's parser refuses more with a 400). The
# gateway's clients send a dozen short headers; these only bound what a hostile one can make the parser hold.
request_line_bytes_max = 8_190
header_field_bytes_max = 8_190
headers_max = 64
# Connections the kernel queues for accept() while the process is busy (Linux caps it at net.core.somaxconn).
listen_backlog = 1_024
# File descriptors a serving process needs besides its connections: database connections, log and key files.
open_files_besides_connections = 256
# After an answer sent before the body was read (413, 415), the rest of the body is read and dropped for at most
# this long, so that the client reads the answer instead of a connection reset.
lingering_close_ms = 5_000
# Memory freed by closed connections goes back to the operating system (gateway/http/heap.py): checked this often,
# done when at least this many connections closed since the last time. Blocks from the threshold up are mapped on
# their own (glibc's default threshold, but fixed: glibc raises it as blocks are freed, and the heap fragments).
heap_trim_seconds = 2.0
heap_trim_connections_min = 32
heap_mmap_threshold_bytes = 128 * 1024
# Untrusted text from a refused connection or request quoted in a log line (a TLS alert, a parser's complaint).
log_excerpt_chars_max = 200

# Limits an operator may tune under [limits] in the config file (or GATEWAY_LIMITS__<NAME>).
tunable_limits: dict[str, Tunable] = {
    # HTTP transport. A request's headers must arrive within header_timeout_ms of its first byte, its body within
    # body_timeout_ms of its headers; the answer is due request_timeout_ms after that (503 with Retry-After when
    # the gateway could not settle by then). A connection idle between requests is closed after idle_timeout_ms.
    "request_bytes_max": Tunable(default=10 * 1024 * 1024, minimum=1024, maximum=64 * 1024 * 1024),
    "request_timeout_ms": Tunable(default=30_000, minimum=100, maximum=600_000),
    "header_timeout_ms": Tunable(default=10_000, minimum=100, maximum=120_000),
    "body_timeout_ms": Tunable(default=60_000, minimum=100, maximum=600_000),
    "idle_timeout_ms": Tunable(default=75_000, minimum=1_000, maximum=3_600_000),
    "shutdown_timeout_ms": Tunable(default=10_000, minimum=0, maximum=120_000),
    # Connections one gateway process holds at once, TLS handshakes included, and of those how many one client
    # certificate may hold, so that one bank (or one stolen certificate) cannot take them all.
    "connections_max": Tunable(default=1_024, minimum=1, maximum=65_536),
    "connections_per_certificate_max": Tunable(default=128, minimum=1, maximum=65_536),
    # Ledger auto-batcher: one database transaction settles up to batch_transfers_max transfers.
    "batch_transfers_max": Tunable(default=1_000, minimum=1, maximum=10_000),
    "batch_wait_us": Tunable(default=0, minimum=0, maximum=100_000),
    "queue_transfers_max": Tunable(default=100_000, minimum=1, maximum=10_000_000),
    "batch_retries_max": Tunable(default=5, minimum=0, maximum=100),
    # A submission not taken into a batch within this is withdrawn, unsettled, and its caller answered 503.
    "queue_wait_ms": Tunable(default=10_000, minimum=10, maximum=600_000),
    # Database. Every wait on it is bounded: opening a connection, waiting for a pooled one, one statement.
    "db_pool_connections_max": Tunable(default=8, minimum=1, maximum=256),
    "db_connect_timeout_ms": Tunable(default=5_000, minimum=100, maximum=120_000),
    "db_checkout_timeout_ms": Tunable(default=5_000, minimum=10, maximum=120_000),
    "db_statement_timeout_ms": Tunable(default=10_000, minimum=100, maximum=600_000),
    # The treasury page's figures are recomputed at most this often, for every viewer together (0: on each request).
    "treasury_refresh_ms": Tunable(default=2_000, minimum=0, maximum=60_000),
    # Two-phase transfers that nobody posts or voids are voided after this long.
    "pending_timeout_seconds_default": Tunable(default=300, minimum=1, maximum=7 * 24 * 3600),
    "pending_timeout_seconds_max": Tunable(default=24 * 3600, minimum=1, maximum=30 * 24 * 3600),
    # One message in N that the writers build is checked against the gateway's XSD before it leaves the writer
    # (counted per process; 1: every one). Every writer is held to the official XSDs over generated inputs by tests
    # (tests/message_layer), the text writers to their lxml twins byte for byte; the check at run time is a canary,
    # and checking every message cost 4 to 6 % of the CPU (docs/performance.md).
    "outbound_schema_check_every": Tunable(default=100, minimum=1, maximum=1_000_000),
}
