"""The HTTP transport: aiohttp handlers, authentication from the TLS client certificate, metrics."""
