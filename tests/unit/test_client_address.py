"""Whose address a request is counted under, behind trusted balancers."""

from __future__ import annotations

import ipaddress

from app.web.client_address import forwarded_client

LB = [ipaddress.ip_network("10.0.0.0/30"), ipaddress.ip_network("127.0.0.2/32")]


def test_a_direct_client_is_its_peer_whatever_it_claims() -> None:
    assert forwarded_client("203.0.113.7", ["198.51.100.1"], LB) == "203.0.113.7"
    assert forwarded_client("203.0.113.7", ["198.51.100.1"], []) == "203.0.113.7"


def test_behind_a_trusted_balancer_the_hop_it_added_counts() -> None:
    assert forwarded_client("127.0.0.2", ["203.0.113.7"], LB) == "203.0.113.7"
    # The client wrote the left part itself; the balancer appended the real address.
    assert forwarded_client("127.0.0.2", ["6.6.6.6, 203.0.113.7"], LB) == "203.0.113.7"
    # Two trusted balancers in a row are both skipped; separate header lines are one list.
    assert forwarded_client("127.0.0.2", ["203.0.113.7", "10.0.0.1"], LB) == "203.0.113.7"


def test_an_unreadable_or_missing_hop_falls_back_to_the_peer() -> None:
    assert forwarded_client("127.0.0.2", [], LB) == "127.0.0.2"
    assert forwarded_client("127.0.0.2", ["not-an-address"], LB) == "127.0.0.2"
    assert forwarded_client("127.0.0.2", ["10.0.0.1"], LB) == "127.0.0.2"
