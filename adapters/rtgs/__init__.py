"""The central bank's fiat RTGS: an embedded simulator and an ISO 20022-over-HTTP client."""
