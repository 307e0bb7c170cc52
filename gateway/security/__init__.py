"""Transport security: the development PKI for mutual TLS, the TLS contexts of server and clients, and the BIC a
client certificate authenticates (certs.py)."""
