"""What the fault drills (bench/drill_*.py) share: a gateway site on a scratch PostgreSQL database, the load of
single payments over mutual TLS, the model, the re-sending, the final checks (common), and the TCP proxy that stages
database outages (tcp_proxy, also used by tests/edge)."""
