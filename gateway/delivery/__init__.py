"""Outbound delivery: pushing mailbox messages to banks' webhooks."""
