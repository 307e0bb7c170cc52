"""Account reporting: camt.060 requests answered with camt.052 intraday reports and camt.053 statements of wallets."""
