"""Which addresses a fetch may reach: public ones only, unless loopback or private are allowed outright.

The host is resolved and every address it resolves to is checked, so odd spellings of a private
address ("2130706433", "0x7f.1", "[::ffff:127.0.0.1]") are caught, and so is DNS pointing inward.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class BlockedAddress(ValueError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class AddressPolicy:
    allow_loopback: bool = False
    allow_private: bool = False  # RFC 1918, unique-local, CGNAT; never link-local or metadata addresses


def check_url(url: str, policy: AddressPolicy) -> None:
    """Raise BlockedAddress unless every address `url`'s host resolves to is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(url, f"scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise BlockedAddress(url, "no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise BlockedAddress(url, f"host does not resolve ({error})") from error
    for info in infos:
        reason = _refusal(ipaddress.ip_address(info[4][0].split("%", 1)[0]), policy)
        if reason:
            raise BlockedAddress(url, f"{parts.hostname} resolves to {info[4][0]}, a {reason} address")


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: AddressPolicy) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if address.is_link_local:
        return "link-local"  # includes 169.254.169.254, the cloud metadata service
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "reserved"
    if address.is_private or address in ipaddress.ip_network("100.64.0.0/10"):
        return None if policy.allow_private else "private"
    return None
