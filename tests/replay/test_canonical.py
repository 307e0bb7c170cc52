"""Canonical goldens keep identity without keeping values: a generated id is a token numbered by first appearance
(the same id, the same token), placeholder values are named again, dates are relative to the run's day, report
balances relative to their opening; and comparing two goldens names each differing element by its path."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.replay.canonical import Canonicaliser
from gateway.replay.client import Answer, MailboxMessage
from gateway.replay.goldens import compare, golden_tree, reread

today = date(2026, 12, 5)
values = {
    "{{id:pay}}": "pay-ABCDEFGHJK",
    "{{uuid:pay}}": "3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b",
    "{{now}}": "2026-12-05T10:00:00+03:00",
    "{{today}}": "2026-12-05",
    "{{time}}": "10:00:00.250000+03:00",
}
transfer_a, transfer_b = "0f" * 16, "1e" * 16
gateway_id = "CR" + "ab" * 16


def canonical(xml: str, canonicaliser: Canonicaliser | None = None) -> str:
    tree = (canonicaliser or Canonicaliser(values, today)).element(xml.encode())
    assert tree is not None
    return etree.tostring(tree, encoding="unicode")


def test_generated_ids_are_numbered_by_first_appearance_and_keep_their_identity() -> None:
    xml = (
        f'<R xmlns="urn:x"><MsgId>{gateway_id}</MsgId><A>{transfer_b}</A><B>{transfer_a}</B><C>{transfer_b}</C>'
        f"<D>ref {transfer_a} again</D></R>"
    )
    assert canonical(xml) == (
        '<R xmlns="urn:x"><MsgId>{{gateway-id#1}}</MsgId><A>{{transfer#1}}</A><B>{{transfer#2}}</B>'
        "<C>{{transfer#1}}</C><D>ref {{transfer#2}} again</D></R>"
    )


def test_numbering_runs_across_the_messages_of_one_run() -> None:
    canonicaliser = Canonicaliser(values, today)
    assert canonical(f"<A>{transfer_a}</A>", canonicaliser) == "<A>{{transfer#1}}</A>"
    assert canonical(f"<A>{transfer_b}</A>", canonicaliser) == "<A>{{transfer#2}}</A>"
    assert canonical(f"<A>{transfer_a}</A>", canonicaliser) == "<A>{{transfer#1}}</A>"


def test_placeholder_values_are_named_again_even_inside_texts() -> None:
    xml = (
        f"<R><Id>{values['{{id:pay}}']}</Id><U>{values['{{uuid:pay}}']}</U>"
        f"<T>UETR {values['{{uuid:pay}}']} was already used</T><Tm>{values['{{time}}']}</Tm></R>"
    )
    assert canonical(xml) == (
        "<R><Id>{{id:pay}}</Id><U>{{uuid:pay}}</U><T>UETR {{uuid:pay}} was already used</T><Tm>{{time}}</Tm></R>"
    )


def test_dates_are_relative_to_the_run_and_date_times_are_volatile() -> None:
    xml = (
        "<R><D>2026-12-05</D><D>2026-12-04</D><D>2027-01-05</D><D>1999-01-01</D>"
        "<T>2026-12-05T10:00:00+03:00</T><T>2026-12-05T10:00:07+03:00</T><X>settles 2026-12-08</X></R>"
    )
    assert canonical(xml) == (
        "<R><D>{{today}}</D><D>{{today-1}}</D><D>{{today+31}}</D><D>1999-01-01</D>"
        "<T>{{date-time}}</T><T>{{date-time}}</T><X>settles {{today+3}}</X></R>"
    )


def test_uuids_nobody_filled_are_numbered_too() -> None:
    other = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    assert canonical(f"<R><U>{other}</U><V>{other}</V></R>") == (
        "<R><U>{{generated-uuid#1}}</U><V>{{generated-uuid#1}}</V></R>"
    )


def test_report_balances_are_relative_to_the_opening_balance_and_entries_stay() -> None:
    def report(opening: str, side: str, closing: str) -> str:
        return (
            '<Rpt xmlns="urn:r">'
            f"<Bal><Tp>OPBD</Tp><Amt Ccy=\"RUB\">{opening}</Amt><CdtDbtInd>{side}</CdtDbtInd></Bal>"
            f"<Bal><Tp>ITBD</Tp><Amt Ccy=\"RUB\">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>"
            '<Ntry><Amt Ccy="RUB">250000.50</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Rpt>'
        )

    fresh = canonical(report("0.00", "CRDT", "250000.50"))
    assert fresh == (
        '<Rpt xmlns="urn:r"><Bal><Tp>OPBD</Tp><Amt Ccy="RUB">{{opening}}</Amt>'
        "<CdtDbtInd>{{balance-side}}</CdtDbtInd></Bal>"
        '<Bal><Tp>ITBD</Tp><Amt Ccy="RUB">{{opening+250000.50}}</Amt><CdtDbtInd>{{balance-side}}</CdtDbtInd></Bal>'
        '<Ntry><Amt Ccy="RUB">250000.50</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Rpt>'
    )
    assert canonical(report("100.00", "DBIT", "249900.50")) == fresh, "the same movement from another opening"
    assert canonical(report("0.00", "CRDT", "250000.49")) != fresh, "a kopeck more or less is a difference"


def test_namespaces_are_written_as_default_namespaces_whatever_the_prefixes() -> None:
    prefixed = '<e:Envelope xmlns:e="urn:e"><h:AppHdr xmlns:h="urn:h"><h:Id>1</h:Id></h:AppHdr></e:Envelope>'
    plain = '<Envelope xmlns="urn:e">\n  <AppHdr xmlns="urn:h"><Id>1</Id></AppHdr>\n</Envelope>'
    assert canonical(prefixed) == canonical(plain)


def test_an_app_hdr_signature_is_left_out_and_nothing_else() -> None:
    """Sgntr is new on every run: a signed and an unsigned answer compare equal, and a Sgntr outside an AppHdr (a
    Document's own element of that name) is compared as any other element."""
    signature = '<Sgntr><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">x</ds:Signature></Sgntr>'
    unsigned = '<Envelope xmlns="urn:e"><AppHdr xmlns="urn:h"><Id>1</Id></AppHdr><Doc><Sgntr>y</Sgntr></Doc></Envelope>'
    signed = unsigned.replace("<Id>1</Id>", "<Id>1</Id>" + signature)
    assert canonical(signed) == canonical(unsigned)
    assert "<Sgntr>y</Sgntr>" in canonical(unsigned)


def golden(answer_xml: str, mailbox: list[tuple[str, str]] = ()) -> etree._Element:  # type: ignore[assignment]
    canonicaliser = Canonicaliser(values, today)
    answer = Answer(200, "accepted", "application/xml", answer_xml.encode())
    messages = [MailboxMessage(bank, seq, "pacs.008.001.08", xml.encode()) for seq, (bank, xml) in enumerate(mailbox)]
    return reread(golden_tree(canonicaliser, "f.xml", "SABRRUMMXXX", answer, messages))


def test_the_same_goldens_compare_equal() -> None:
    answer = "<Doc><Sts>ACSC</Sts><Ref>" + transfer_a + "</Ref></Doc>"
    assert compare(golden(answer), golden(answer)) == []


def test_a_changed_value_is_named_by_its_path_with_both_values() -> None:
    expected = golden("<Doc><Tx><Sts>ACSC</Sts></Tx><Tx><Sts>ACSC</Sts></Tx></Doc>")
    got = golden("<Doc><Tx><Sts>ACSC</Sts></Tx><Tx><Sts>RJCT</Sts></Tx></Doc>")
    [difference] = compare(expected, got)
    assert (difference.section, difference.path, difference.expected, difference.got) == (
        "answer", "/Doc/Tx[2]/Sts", "'ACSC'", "'RJCT'"
    )


def test_an_element_more_or_less_is_one_difference_not_a_cascade() -> None:
    expected = golden("<Doc><A>1</A><B>2</B><C>3</C></Doc>")
    got = golden("<Doc><A>1</A><X>9</X><B>2</B><C>3</C></Doc>")
    [difference] = compare(expected, got)
    assert (difference.path, difference.expected) == ("/Doc/X", "(none)")
    assert difference.got == "<X>9</X>"
    [missing] = compare(got, expected)
    assert (missing.path, missing.got) == ("/Doc/X", "(none)")


def test_a_mailbox_message_more_or_less_is_named() -> None:
    answer = "<Doc/>"
    expected = golden(answer, [("VTBRRUMMXXX", "<P>1</P>")])
    got = golden(answer, [("VTBRRUMMXXX", "<P>1</P>"), ("ALFARUMMXXX", "<P>2</P>")])
    [difference] = compare(expected, got)
    assert difference.section == "mailbox 1 (ALFARUMMXXX pacs.008.001.08)"
    assert (difference.expected, difference.got) == ("(none)", "this message")
