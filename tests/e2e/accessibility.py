"""axe-core in every page the browser tests open: each distinct page (its path with the ids left
out, in its language) is audited once, on load, and any serious or critical violation fails the
test that found it, naming the rule and the elements."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
IMPACTS = ("serious", "critical")

RUN = """async () => {
  if (!window.axe) return null;
  const result = await window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }));
}"""

_audited: set[str] = set()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def page_key(url: str, lang: str) -> str:
    path = urlsplit(url).path
    return f"{lang} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path)}"


class Auditor:
    """Watches every page of the contexts it is given; `problems` lists what axe found."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    async def watch(self, context: Any) -> None:
        context.on("page", self._page)
        for page in context.pages:
            self._page(page)

    def _page(self, page: Any) -> None:
        async def on_load(_: Any = None) -> None:
            await self.audit(page)

        page.on("load", on_load)

    async def audit(self, page: Any) -> None:
        """axe-core is added to a page only when that page is audited (once per page and
        language): parsing its 560 KB on every navigation of every test cost the suite CPU."""
        key = ""
        try:
            kind, lang = await page.evaluate(
                "[document.contentType, document.documentElement.lang || '']"
            )
            key = page_key(page.url, lang)
            if key in _audited or kind != "text/html" or not page.url.startswith("http"):
                return
            _audited.add(key)
            # Evaluated through the DevTools protocol, which the page's CSP does not govern.
            await page.evaluate(_axe_source() + "\n;0")
            found = await page.evaluate(RUN)
        except Exception:  # the page moved on while being read: its next load is audited
            _audited.discard(key)
            return
        for v in found or []:
            self.problems.append(f"{key}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")
