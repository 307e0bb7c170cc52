"""`gateway demo`: a scripted business day for someone who has never seen the gateway.

    clock     the demo's clock: yesterday's business day from 10:00 Moscow time, then the real clock
    script    the day as the banks play it: the shipped examples where they fit, three conversions of its own
    report    what the demo shows: the world it sets up, one line per message, the summary after the day closes
    run       the whole of it: ./var made ready, the gateway started in this process, the day played over HTTPS,
              closed, summed up, and the gateway left serving (or not: --no-serve)

Why yesterday: a business day closes only after its cut-off (the demo's is 24:00), and today must stay open for
what a newcomer sends next (`gateway replay` of the examples reports on today). So the demo plays the business day
before today on a clock of its own, returns to the real clock, and closes that day as `gateway day close` would:
its cut-off has really passed.
"""
