"""The address classification behind the private-address guard (issue 17, point 9)."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from monitor.reader import addresses


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "[::1]",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a01:203::1",  # 6to4 of 10.1.2.3
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "not-an-address",
    ],
)
def test_private_addresses_and_the_ipv4_they_embed(text: str) -> None:
    assert addresses.is_private_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "93.184.216.34",
        "2606:4700:4700::1111",
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "::ffff:93.184.216.34",
    ],
)
def test_public_addresses_stay_public(text: str) -> None:
    assert not addresses.is_private_text(text)


def test_embedded_ipv4_of_each_form() -> None:
    forms = ["::ffff:10.0.0.7", "64:ff9b::a00:7", "2002:a00:7::", "::a00:7"]
    assert {str(addresses.embedded_ipv4(IPv6Address(f))) for f in forms} == {"10.0.0.7"}
    assert addresses.embedded_ipv4(IPv6Address("2606:4700::1")) is None
