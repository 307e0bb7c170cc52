"""The settlement service: messages from banks in, ledger transfers and the message journal, answers out."""
