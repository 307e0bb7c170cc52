"""What the fault drills (bench/drill_*.py) share: a gateway site on a scratch PostgreSQL database, the load of
single payments over mutual TLS, the model, the re-sending and the final checks (common); the serve process's
children as the workers drill watches them (processes); the TCP proxy that stages database outages (tcp_proxy, also
used by tests/edge)."""
