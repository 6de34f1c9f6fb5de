"""Which network addresses a fetch that left the operator's own address may reach (pure)."""

from __future__ import annotations

import ipaddress

REFUSED = "redirect to a private or loopback address refused"
REFUSED_LINK = "link to a private or loopback address refused (the feed is on a public one)"

# IPv6 forms that carry an IPv4 address a gateway or the kernel will connect to:
# NAT64 (RFC 6052) in the low 32 bits, 6to4 (RFC 3056) in bits 16-48, and the old
# IPv4-compatible ::a.b.c.d. Python counts them global whatever IPv4 address they hold.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse(text: str) -> IPAddress:
    """An address as a socket or URL writes it: "[::1]", "fe80::1%eth0", "10.0.0.1".

    Raises ValueError for anything that is not an IP address."""
    return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64, 6to4 or IPv4-compatible address stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are IPv6's own (both private)
        return ipaddress.IPv4Address(int(ip))
    return None


def is_private(ip: IPAddress) -> bool:
    """True for loopback, private, link-local (cloud metadata), CGNAT, reserved, multicast,
    judged by the IPv4 address an IPv6 address embeds when it embeds one."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    return not ip.is_global or ip.is_multicast


def is_private_text(text: str) -> bool:
    """is_private of an address written as text; anything unreadable counts as private."""
    try:
        return is_private(parse(text))
    except ValueError:
        return True
