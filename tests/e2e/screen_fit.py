"""Room screens as their people see them: at each screen size the way forward is on screen, or
the large 继续 button is, and takes them there; no text is too small to read."""

from __future__ import annotations

from typing import Any

from e2e.conftest import screenshot_path

KIOSK_SIZES = ((1280, 800), (1920, 1080))
PHONE = (390, 844)

IN_VIEW = """(sel) => { const e = document.querySelector(sel); if (!e) return false;
  const r = e.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"""

# The smallest computed font size of any visible text on the page (header and main).
SMALLEST_TEXT = """() => {
  let smallest = [1000, ""];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || !el.checkVisibility() || el.closest("#texts, template, .print-frame")) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    // Size 0 is text drawn otherwise (a done step's number gives way to its ::before tick).
    if (size > 0 && size < smallest[0]) smallest = [size, node.textContent.trim().slice(0, 40)];
  }
  return smallest;
}"""


async def way_forward(page: Any, target: str, shot: str, size: tuple[int, int]) -> None:
    """At this size `target` is on screen, or 继续 is and brings it there."""
    width, height = size
    await page.set_viewport_size({"width": width, "height": height})
    await page.evaluate("window.scrollTo(0, 0)")
    await page.wait_for_timeout(150)  # the 继续 button follows the page's size
    await page.screenshot(path=screenshot_path(f"{shot}-{width}x{height}"))
    if await page.evaluate(IN_VIEW, target):
        return
    more = page.get_by_role("button", name="继续")
    await more.wait_for()
    box = await more.bounding_box()
    assert box and box["height"] >= 64, box
    for _ in range(6):
        await more.click()
        await page.wait_for_timeout(600)
        if await page.evaluate(IN_VIEW, target):
            await page.screenshot(path=screenshot_path(f"{shot}-{width}x{height}-continued"))
            return
    raise AssertionError(f"{target} not reached at {width}x{height}")


async def smallest_text(page: Any) -> tuple[float, str]:
    size, text = await page.evaluate(SMALLEST_TEXT)
    return float(size), str(text)
