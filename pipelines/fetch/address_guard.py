"""Which URLs a fetch may reach: http(s) URLs of public addresses, unless an `AddressPolicy` allows more.

The host is resolved and every address it resolves to is checked, so odd spellings of an inward
address ("2130706433", "0x7f.1", "[::ffff:127.0.0.1]") and DNS names pointing inward are caught.
The HTTP client checks the connected socket's peer address again (`address_refusal`), which closes
the gap between this check and the connection (DNS rebinding, URL-parser differences).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix, RFC 6052
# Cloud instance-metadata services; those outside 169.254.0.0/16 are AWS over IPv6, Alibaba Cloud
# and Oracle Cloud's legacy address.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)


class BadUrl(ValueError):
    """The URL is not an http(s) URL with a host (and a valid port)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class UnresolvableHost(OSError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class BlockedAddress(ValueError):
    """The URL's host is, or resolves to, an address the policy refuses."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses are always allowed; each flag opens one more kind.

    Unspecified (0.0.0.0, ::), multicast and reserved addresses are refused whatever the flags.
    """

    allow_loopback: bool = False  # 127.0.0.0/8, ::1
    allow_private: bool = False  # RFC 1918, fc00::/7, 100.64.0.0/10 (CGNAT) and other non-global ranges
    allow_link_local: bool = False  # 169.254.0.0/16, fe80::/10 and the cloud metadata services


_AUTHORITY = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@\[\]]*")


def check_url(url: str, policy: AddressPolicy) -> None:
    """Raise BadUrl, UnresolvableHost or BlockedAddress unless `url` may be fetched under `policy`."""
    host, port = _host_and_port(url)
    checked_addresses(url, host, port, policy)


def checked_addresses(url: str, host: str, port: int, policy: AddressPolicy) -> list[tuple]:
    """getaddrinfo of `host`, once every address it gives has passed `policy`; connect to one of
    these rather than resolving again. Raises UnresolvableHost or BlockedAddress (naming `url`)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError; bad IDNA labels are UnicodeErrors
        raise UnresolvableHost(url, f"host {host!r} does not resolve ({error})") from error
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        reason = address_refusal(address, policy)
        if reason:
            shown = host if host == address else f"host {host!r} resolves to {address}, which"
            raise BlockedAddress(url, f"{shown} is a {reason} address")
    return infos


def address_refusal(address: str | IPAddress, policy: AddressPolicy) -> str | None:
    """Why `policy` refuses `address` (e.g. "loopback"), or None when it is allowed."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    address = _embedded_ipv4(address) or address
    if address in _METADATA_ADDRESSES:
        return None if policy.allow_link_local else "cloud metadata service"
    if address.is_unspecified:
        return "unspecified"  # 0.0.0.0 reaches the local host on Linux
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if address.is_link_local:
        return None if policy.allow_link_local else "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address in _SHARED_ADDRESS_SPACE:
        return None if policy.allow_private else "shared (carrier-grade NAT)"
    if address.is_private or getattr(address, "is_site_local", False):
        return None if policy.allow_private else "private"
    if not address.is_global:
        return None if policy.allow_private else "non-global"
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a bad port, or an unbalanced "[" in the host
        raise BadUrl(url, str(error)) from error
    # Parsers disagree on authorities like "127.0.0.1:80\\@8.8.8.8": this check would see one host and the
    # HTTP client connect to another. Only RFC 3986 authority characters pass, and both parsers must agree.
    if not _AUTHORITY.fullmatch(parts.netloc):
        raise BadUrl(url, "ambiguous authority: characters a URL's host part may not hold")
    try:
        client_view = parse_url(url)
    except LocationParseError as error:
        raise BadUrl(url, f"the HTTP client cannot parse it ({error})") from error
    if (client_view.host or "").strip("[]").lower() != (parts.hostname or "") or (client_view.port or None) != port:
        raise BadUrl(url, "ambiguous authority: parsers disagree on its host")
    if parts.scheme not in ("http", "https"):
        raise BadUrl(url, f"scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise BadUrl(url, "no host")
    if port == 0:
        raise BadUrl(url, "port 0")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped, NAT64 or 6to4 forms."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
