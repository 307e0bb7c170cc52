"""Message files for integration testers: placeholders filled at use (fill), the shipped examples (examples),
other envelopes for one message (envelopes), and `gateway replay` (run), which sends a folder of message files to a
gateway over mutual TLS, collects the answers and the mailbox messages they caused, and records them as golden files
or compares them with recorded ones (goldens, canonical).

This module and `commands` import nothing heavy: `gateway --help` loads them to list the commands.
"""
