"""The tamper-evident chain: how a transfer is hashed onto the one before, and what the central bank signs.

hash(n) = SHA-256( hash(n-1) || fixed-width big-endian fields of transfer n || UTF-8 reference ), hash(0) = 32 zero bytes.
The layout is part of the ledger's audit contract: changing it would break `gateway ledger verify` on every ledger
already written, so it is versioned in the signed payload.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

from gateway.domain.ledger import Phase, Transfer, TransferKind

# Stable one-byte codes; never renumber.
kind_codes: dict[TransferKind, int] = {
    TransferKind.PAYMENT: 1,
    TransferKind.RETURN: 2,
    TransferKind.MINT: 3,
    TransferKind.BURN: 4,
    TransferKind.ADJUSTMENT: 5,
}
phase_codes: dict[Phase, int] = {Phase.SINGLE: 1, Phase.PENDING: 2, Phase.POST_PENDING: 3, Phase.VOID_PENDING: 4}

# seq, id, debit account, credit account, amount, kind, phase, pending id, uetr, timeout, created at.
_fields = struct.Struct(">q16sqqqBB16s16sqq")
_no_uuid = bytes(16)
_head_signature_prefix = b"cryptoruble-chain-head:v1\x00"
_head_fields = struct.Struct(">q32s")


def transfer_hash(
    previous_hash: bytes,
    seq: int,
    transfer_id: UUID,
    debit_account_id: int,
    credit_account_id: int,
    amount_kopecks: int,
    kind: TransferKind,
    phase: Phase,
    pending_id: UUID | None,
    uetr: UUID | None,
    timeout_seconds: int,
    created_at_us: int,
    reference: str,
) -> bytes:
    # UUID.int.to_bytes(16, "big") is UUID.bytes without the Python-level property: this runs per transfer.
    packed = _fields.pack(
        seq,
        transfer_id.int.to_bytes(16, "big"),
        debit_account_id,
        credit_account_id,
        amount_kopecks,
        kind_codes[kind],
        phase_codes[phase],
        _no_uuid if pending_id is None else pending_id.int.to_bytes(16, "big"),
        _no_uuid if uetr is None else uetr.int.to_bytes(16, "big"),
        timeout_seconds,
        created_at_us,
    )
    return hashlib.sha256(previous_hash + packed + reference.encode("utf-8")).digest()


def hash_of(previous_hash: bytes, transfer: Transfer) -> bytes:
    """Recompute a stored transfer's hash from its fields, for verification."""
    return transfer_hash(
        previous_hash,
        transfer.seq,
        transfer.id,
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.amount_kopecks,
        transfer.kind,
        transfer.phase,
        transfer.pending_id,
        transfer.uetr,
        transfer.timeout_seconds,
        transfer.created_at_us,
        transfer.reference,
    )


def head_signing_payload(seq: int, head_hash: bytes) -> bytes:
    """The bytes the central bank's Ed25519 key signs for a chain head."""
    assert len(head_hash) == 32
    return _head_signature_prefix + _head_fields.pack(seq, head_hash)
