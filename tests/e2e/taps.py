"""Counting what people press: every click on a button or link of a page, by the party it
was for (the nearest data-party around it) or "-" for none, kept in the page until it is left."""

from __future__ import annotations

from collections import Counter
from typing import Any

_COUNT = """() => {
  if (window.__sifaTaps) return;
  window.__sifaTaps = [];
  document.addEventListener("click", (event) => {
    const control = event.target.closest("button, a[href], input[type=submit]");
    if (!control || control.disabled) return;
    const holder = control.closest("[data-party]");
    const what = (control.innerText || control.value || control.id || "").trim().slice(0, 24);
    window.__sifaTaps.push([holder ? holder.dataset.party : "-", what, event.isTrusted]);
  }, true);
}"""


async def count_taps(page: Any) -> None:
    await page.evaluate(_COUNT)


async def taps(page: Any) -> tuple[Counter[str], list[Any]]:
    """Presses since count_taps, by party ("0", "1", …) and "-" for the page's own controls,
    and the list of them (party, control's words, whether a person pressed it)."""
    pressed = await page.evaluate("window.__sifaTaps")
    return Counter(party for party, _, _ in pressed), pressed
