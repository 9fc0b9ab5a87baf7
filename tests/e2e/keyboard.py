"""Every control on screen reachable with the Tab key, as a judge or clerk without a mouse
works: a radio group counts as reached when one of its buttons is (arrows move within it)."""

from __future__ import annotations

from typing import Any

_CONTROLS = """() => {
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && !e.closest("[inert]");
  };
  const all = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]")]
    .filter((e) => shown(e) && !e.disabled && e.tabIndex >= 0);
  const keys = [];
  let forms = 0;
  all.forEach((e, i) => {
    if (e.type === "radio" && e.name) {
      const form = e.form ? (e.form.dataset.kbForm ??= String(forms++)) : "-";
      e.dataset.kb = `radio:${form}:${e.name}`;
    } else {
      e.dataset.kb = `#${i}`;
    }
    keys.push(e.dataset.kb);
  });
  return [...new Set(keys)];
}"""

_FOCUSED = """() => { const e = document.activeElement;
  return e && e.dataset && e.dataset.kb ? e.dataset.kb : null; }"""


async def unreachable_by_tab(page: Any) -> list[str]:
    """The controls on screen that pressing Tab from the top of the page never focuses,
    each described by its tag, id, class and text. A live page (the judge's console) redraws
    parts of itself as the hearing moves, and a redraw can take the focus back to the top of
    the page mid-pass: a control missed is looked for again on a fresh pass, up to three, and
    only one that no pass reaches is reported."""
    missing: list[str] = []
    for _ in range(3):
        missing = await _one_pass(page)
        if not missing:
            break
    if not missing:
        return []
    return list(
        await page.evaluate(
            """(keys) => keys.map((k) => {
                 const e = document.querySelector(`[data-kb="${k}"]`);
                 if (!e) return `${k} (redrawn)`;
                 const words = e.innerText || e.value || e.getAttribute("aria-label") || "";
                 return `${e.tagName.toLowerCase()}#${e.id}.${e.className} "${words.slice(0, 30)}"`;
               })""",
            missing,
        )
    )


async def _one_pass(page: Any) -> list[str]:
    wanted = set(await page.evaluate(_CONTROLS))
    await page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    await page.evaluate("() => window.scrollTo(0, 0)")
    reached: set[str] = set()
    for _ in range(len(wanted) * 2 + 10):
        await page.keyboard.press("Tab")
        key = await page.evaluate(_FOCUSED)
        if key is not None:
            reached.add(key)
        if wanted <= reached:
            return []
    return sorted(wanted - reached)
