// 继续: a large button in the corner while part of the page is below the window, so a person at
// the kiosk (or on a phone) who does not think of scrolling still finds the way forward.
// A tap scrolls most of a window down.

export function offerMore(button, { hiddenWhen = () => false } = {}) {
  const draw = () => {
    const below = document.documentElement.scrollHeight - (window.scrollY + window.innerHeight);
    button.classList.toggle("hidden", below < 24 || hiddenWhen());
  };
  button.addEventListener("click", () => {
    window.scrollBy({ top: Math.round(window.innerHeight * 0.8), behavior: "smooth" });
  });
  window.addEventListener("scroll", draw, { passive: true });
  window.addEventListener("resize", draw);
  // The page redraws itself on every poll: look again as its content changes.
  new MutationObserver(draw).observe(document.body, { childList: true, subtree: true, attributeFilter: ["class"] });
  draw();
}
