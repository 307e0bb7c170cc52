"""Participants and their accounts: loaded from config at start-up and changed by operators through the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config import Config, ParticipantConfig
from gateway.domain.ledger import AccountKind, AccountStatus
from gateway.ledger.ports import NewAccount, Participant, RegistryStore

issuance_account_name = "issuance"
reserve_account_name = "reserve"


def account_code(bic: str, name: str) -> str:
    return f"{bic}/{name}"


def wallet_accounts(participant: ParticipantConfig, wallets: Sequence[str]) -> list[NewAccount]:
    return [
        NewAccount(
            code=account_code(participant.bic, wallet),
            kind=AccountKind.WALLET,
            owner_bic=participant.bic,
            transfer_max_kopecks=participant.transfer_max_kopecks,
            balance_max_kopecks=participant.balance_max_kopecks,
        )
        for wallet in wallets
    ]


async def bootstrap(store: RegistryStore, existing_codes: set[str], config: Config) -> list[str]:
    """Create what the config names and the database lacks: the chain head, the central bank with its issuance and
    reserve accounts, each participant and each wallet. Never changes or removes what exists (the database is the
    record of suspensions and additions made since). Returns a line per thing created."""
    created: list[str] = []
    await store.ensure_head(config.central_bank.emission_cap_kopecks)
    known = {p.bic for p in await store.participants()}
    cb = config.central_bank
    if cb.bic not in known:
        await store.add_participant(
            Participant(cb.bic, cb.name, "central_bank", None, cb.reserve_rtgs_account, AccountStatus.ACTIVE),
            [
                NewAccount(account_code(cb.bic, issuance_account_name), AccountKind.ISSUANCE, cb.bic, None, None),
                NewAccount(account_code(cb.bic, reserve_account_name), AccountKind.RESERVE, cb.bic, None, None),
            ],
        )
        created.append(f"central bank {cb.bic} with its issuance and reserve accounts")
    for participant in config.participants:
        if participant.bic not in known:
            await store.add_participant(
                Participant(
                    participant.bic,
                    participant.name,
                    "bank",
                    participant.clearing_code,
                    participant.rtgs_account,
                    AccountStatus.ACTIVE,
                ),
                wallet_accounts(participant, participant.wallets),
            )
            created.append(f"participant {participant.bic} with wallets {', '.join(participant.wallets)}")
            continue
        missing = [w for w in participant.wallets if account_code(participant.bic, w) not in existing_codes]
        if missing:
            await store.add_accounts(wallet_accounts(participant, missing))
            created.append(f"wallets {', '.join(missing)} of {participant.bic}")
    return created
