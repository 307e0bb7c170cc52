"""The central bank's Ed25519 key, which signs every chain head the ledger commits."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gateway.domain.chain import head_signing_payload
from gateway.domain.ledger import ChainHead
from gateway.ledger.ports import ChainSignature


class KeyFileError(Exception):
    pass


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class ChainSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    def sign(self, head: ChainHead, signed_at_us: int) -> ChainSignature:
        signature = self._private_key.sign(head_signing_payload(head.seq, head.hash))
        return ChainSignature(head.seq, head.hash, signature, self.key_id, signed_at_us)


def signature_is_valid(public_key: Ed25519PublicKey, signature: ChainSignature) -> bool:
    try:
        public_key.verify(signature.signature, head_signing_payload(signature.seq, signature.hash))
    except InvalidSignature:
        return False
    return True


def generate_key_file(path: Path) -> Ed25519PublicKey:
    """Write a new private key (PKCS#8 PEM, mode 0600) and its public key beside it (<path>.pub)."""
    if path.exists():
        raise KeyFileError(f"{path} already exists; refusing to replace the central bank's signing key")
    path.parent.mkdir(parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_key = private_key.public_key()
    public_path(path).write_bytes(
        public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return public_key


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"{path} does not exist: create it with `gateway keys init`") from None
    except ValueError as error:
        raise KeyFileError(f"{path} is not a PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key file, or the public half of a private key file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(
            f"no key at {path}: the central bank's public key (or its signing key file) is needed to verify the"
            " chain; pass --public-key FILE, or create a key with `gateway keys init`"
        ) from None
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise KeyFileError(f"{path} is not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key
