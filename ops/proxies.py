"""The client's address and scheme behind the proxies we trust.

Behind Pushpin and HAProxy every connection comes from 127.0.0.1. Each proxy
appends the address it was connected from to X-Forwarded-For; only a peer in
TRUSTED_PROXIES (addresses or networks) is believed:

- Peer not trusted: the peer is the client; X-Forwarded-For and
  X-Forwarded-Proto are ignored (anyone can send them).
- Peer trusted: X-Forwarded-For is walked from the right, skipping trusted
  hops; the first address that is not a trusted proxy is the client. An
  entry that is not an address stops the walk at the hop that added it.
  X-Forwarded-Proto (http or https, the last one given) becomes the scheme.

Invariant: a client can choose the address we record for it only by
connecting from that address. `ForwardedClient` rewrites the ASGI scope's
`client` and `scheme` before anything else sees them, so Django's REMOTE_ADDR,
django-axes, the streams, the presence view, the API keys' "last used from"
and the access log agree. Standard library only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(items: Iterable[str]) -> list[Network]:
    """ "10.0.0.5", "10.0.0.0/24", "::1" …; ValueError names a bad one."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or a network") from None
    return networks


def parse_address(raw: str) -> Address | None:
    """An X-Forwarded-For entry: "203.0.113.7", "203.0.113.7:5123",
    "2001:db8::1", "[2001:db8::1]:5123"; None for anything else."""
    text = raw.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None, trusted: list[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: list[str], trusted: list[Network]) -> str | None:
    """The client's address for a connection from `peer` carrying these
    X-Forwarded-For header values (in order)."""
    current = parse_address(peer) if peer else None
    if not is_trusted(current, trusted):
        return peer
    hops = [entry for value in forwarded_for for entry in value.split(",") if entry.strip()]
    for entry in reversed(hops):
        address = parse_address(entry)
        if address is None:
            break  # garbage: the hop that passed it on is as far as we can vouch
        current = address
        if not is_trusted(address, trusted):
            break
    return str(current)


def forwarded_scheme(values: list[str], default: str) -> str:
    for value in reversed(values):
        scheme = value.split(",")[-1].strip().lower()
        if scheme in ("http", "https"):
            return scheme
    return default


class ForwardedClient:
    """ASGI middleware: `scope["client"]` and `scope["scheme"]` as the
    proxies we trust say. Outermost, so everything below sees the result."""

    def __init__(self, app, trusted: list[Network]):
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.trusted:
            peer = (scope.get("client") or (None, None))[0]
            if is_trusted(parse_address(peer) if peer else None, self.trusted):
                forwarded, proto = [], []
                for name, value in scope.get("headers", ()):
                    if name == b"x-forwarded-for":
                        forwarded.append(value.decode("latin-1"))
                    elif name == b"x-forwarded-proto":
                        proto.append(value.decode("latin-1"))
                client = client_address(peer, forwarded, self.trusted)
                scope = {
                    **scope,
                    "client": (client, 0 if client != peer else scope["client"][1]),
                    "scheme": forwarded_scheme(proto, scope.get("scheme", "http")),
                }
        await self.app(scope, receive, send)


def axes_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, which `ForwardedClient` has
    already made the client's (never django-ipware's guess from headers)."""
    return request.META.get("REMOTE_ADDR") or None
