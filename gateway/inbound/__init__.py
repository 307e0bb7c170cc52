"""The one inbound path: a bank's message in, its answer out.

    transport (gateway.http) -> Inbound.receive (gateway.inbound.path): intake, AppHdr checks, refusals
    -> the flow registered for the command's type:
         pacs.008 / pacs.009 / pacs.004   gateway.settlement.payments (future-dated ones: settlement.warehouse)
         camt.056 / camt.029              gateway.settlement.investigations
         pacs.028                         gateway.settlement.status
         camt.050                         gateway.conversion.service
         camt.060                         gateway.reporting.service
    -> ledger and journal in one transaction (gateway.ledger.batcher) -> the answer (gateway.messages.answers)
"""
