"""Implementations of the gateway's ports (installed as `gateway_adapters`)."""
