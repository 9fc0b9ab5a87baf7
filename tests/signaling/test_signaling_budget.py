"""The node's replay budget: every seat's resume mailbox together stays under one bound."""

from __future__ import annotations

from signaling.mailbox import Mailbox, ReplayBudget, ReplayLimits

LIMITS = ReplayLimits(window_seconds=10, max_messages=64, max_bytes=100_000, node_chars=1_000)


class Sink:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> None:
        self.written.append(text)


def test_a_busy_node_keeps_less_for_each_seat_and_never_more_than_its_budget() -> None:
    budget = ReplayBudget(LIMITS.node_chars)
    quiet, busy = Mailbox(LIMITS, budget), Mailbox(LIMITS, budget)
    quiet.sink, busy.sink = Sink(), Sink()
    body = '{"type":"signal","x":"' + "a" * 80 + '"}'
    for n in range(3):
        quiet.deliver(body, now=n)
    for n in range(50):
        busy.deliver(body, now=n * 0.01)
        assert budget.held <= budget.limit + len(body) + 20  # at most the newest over
    # Every message still reached its socket; only what is kept for a resume was cut.
    assert len(busy.sink.written) == 50
    held, complete = busy.missed_since(0)
    assert not complete and 0 < len(held) < 50
    assert [int(t.split(",")[0].removeprefix('{"seq":')) for t in held] == list(
        range(51 - len(held), 51)
    )
    assert budget.held == sum(len(t) for t in held) + sum(len(t) for t in quiet.missed_since(0)[0])


def test_a_seat_that_goes_gives_its_share_back() -> None:
    budget = ReplayBudget(LIMITS.node_chars)
    box = Mailbox(LIMITS, budget)
    box.deliver('{"type":"a"}', now=0)
    assert budget.held == len('{"seq":1,"type":"a"}')
    box.release()
    assert budget.held == 0 and box.missed_since(0) == ([], False)
