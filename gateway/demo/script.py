"""The demo's business day as the banks play it, one message after another, over HTTPS with each bank's client
certificate: the shipped examples (gateway/examples/) where they fit, sent in the envelope and checked against the
answer their manifest expects, and three conversions of the demo's own (gateway/demo/messages/) so that every bank
starts the day with cryptoroubles. One placeholder filler fills them all, as `gateway replay` fills a folder: the
return, the status request and the cancellation name the payment they refer to by the same values.

What the day does to the wallets, worked out by hand (the demo's test holds the gateway to it):

    Sberbank   main     +250,000.00 mint  -120,000.00 pays VTB  +120,000.00 returned  -250,000.00 bulk  =       0.00
               clients  +400,000.00 mint                                                               =  400,000.00
    VTB        main   +1,000,000.00 mint  +120,000.00 -120,000.00 returned  +75,000.00 bulk
                                          -75,000.00 lent to Alfa-Bank                                 = 1,000,000.00
    Alfa-Bank  main     +600,000.00 mint  +175,000.00 bulk  +75,000.00 lent  -250,000.00 burn          =  600,000.00

Supply 2,000,000.00 = the fiat in the central bank's reserve account; the two mistakes move nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from gateway.replay.examples import examples_dir
from gateway.replay.plan import Entry, Expectation, make_plan

demo_messages_dir = Path(__file__).resolve().parent / "messages"
_minted = Expectation(http_status=200, answer="camt.025.001.05", status="ACSC")


class Source(enum.Enum):
    EXAMPLE = "example"  # a shipped example: envelope and expected answer from gateway/examples/replay.toml
    DEMO = "demo"  # one of the demo's own messages


@dataclass(frozen=True, slots=True)
class Step:
    at: time  # when in the demo's day it is sent, Moscow time
    source: Source
    name: str  # the file under its folder, e.g. "pacs.008-single.xml"
    what: str  # what the sender does, as the demo's line says it

    def entry(self, manifest: Mapping[str, Entry]) -> Entry:
        """The file to send, with how to send it and what it should get."""
        if self.source is Source.EXAMPLE:
            return manifest[self.name]
        return Entry(self.name, demo_messages_dir / self.name, None, None, False, _minted, None)


day_steps: tuple[Step, ...] = (
    # The morning: every bank converts fiat roubles into cryptoroubles for the day's payments.
    Step(time(9, 0), Source.EXAMPLE, "camt.050-mint.xml", "converts 250,000.00 fiat roubles into SABRRUMMXXX/main"),
    Step(time(9, 5), Source.DEMO, "camt.050-mint-sber-clients.xml",
         "converts 400,000.00 fiat roubles into SABRRUMMXXX/clients"),
    Step(time(9, 10), Source.DEMO, "camt.050-mint-vtb.xml", "converts 1,000,000.00 fiat roubles into VTBRRUMMXXX/main"),
    Step(time(9, 15), Source.DEMO, "camt.050-mint-alfa.xml", "converts 600,000.00 fiat roubles into ALFARUMMXXX/main"),
    # A payment, its status, a request to cancel it, and its return.
    Step(time(10, 30), Source.EXAMPLE, "pacs.008-single.xml", "pays 120,000.00 for a client to a client of VTB"),
    Step(time(10, 45), Source.EXAMPLE, "pacs.028.xml", "asks that payment's status (in a SWIFT SAA DataPDU)"),
    Step(time(11, 0), Source.EXAMPLE, "camt.056.xml", "asks to cancel it: settled already, so VTB is asked"),
    Step(time(11, 40), Source.EXAMPLE, "pacs.004.xml", "returns the 120,000.00 (FOCR: after a cancellation)"),
    Step(time(11, 45), Source.EXAMPLE, "camt.029.xml", "answers the request: cancelled, funds returned"),
    # The afternoon: a bulk payment, a bank-to-bank transfer, and two messages refused with their reasons.
    Step(time(13, 15), Source.EXAMPLE, "pacs.008-multi.xml", "pays 250,000.00 to clients of VTB and Alfa-Bank"),
    Step(time(14, 0), Source.EXAMPLE, "pacs.009.xml", "lends 75,000.00 of its own to Alfa-Bank (bank to bank)"),
    Step(time(15, 20), Source.EXAMPLE, "invalid/insufficient-funds.xml",
         "pays 90,000,000,000.00: far more than it holds"),
    Step(time(15, 35), Source.EXAMPLE, "invalid/amount-format.xml", "pays 1000.005: a kopeck is the smallest amount"),
    # The end of the day: cryptoroubles back into fiat, and a report.
    Step(time(17, 30), Source.EXAMPLE, "camt.050-burn.xml", "converts 250,000.00 cryptoroubles back into fiat roubles"),
    Step(time(17, 50), Source.EXAMPLE, "camt.060.xml", "asks an intraday report (camt.052) of SABRRUMMXXX/main"),
)


def day_entries() -> list[tuple[Step, Entry]]:
    """Every step with its file. Raises gateway.replay.plan.PlanError if the examples' manifest cannot be read."""
    manifest = {entry.relative: entry for entry in make_plan(examples_dir).entries}
    return [(step, step.entry(manifest)) for step in day_steps]
