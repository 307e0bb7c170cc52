"""Treasury: business days (closing each at its cut-off, with a camt.053 statement of every wallet), the three-way
reconciliation of the RTGS, the ledger and the message journal, and the treasury page's figures."""
