"""Who is on the other end of a request: the participant named by its TLS client certificate.

The certificate chain was verified by the TLS layer against the gateway's client CA; here the BIC is read from it
(gateway.security.certs.bic_from_certificate) and must belong to a known participant. In the loopback development
mode there is no TLS and nobody is authenticated: the message's own AppHdr/Fr stands, and the mailbox is read with
?participant=BIC.
"""

from __future__ import annotations

import functools

from aiohttp import web

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.http.keys import gateway_key
from gateway.security.certs import bic_from_certificate


def authenticated_bic(request: web.Request) -> str | None:
    """The canonical BIC of the client certificate, if the connection has one naming a known participant."""
    transport = request.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    bic = _certified_bic(der)
    if bic is None or not is_bic(bic):
        return None
    bic = canonical_bic(bic)
    return bic if request.app[gateway_key].environment.directory.is_known(bic) else None


# Parsing the certificate was 3 % of a single payment's CPU, for every request of a keep-alive connection; the BIC
# is a function of the certificate's bytes alone (the TLS layer verified them), so it is read once per certificate.
_certified_bic = functools.lru_cache(maxsize=bounds.client_certificates_cached_max)(bic_from_certificate)


def development_bic(request: web.Request) -> str | None:
    text = request.query.get("participant", "")
    return canonical_bic(text) if is_bic(text) else None
