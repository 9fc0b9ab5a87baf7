"""Every MediaStreamTrack a page ever held, its own (getUserMedia) and those it received, kept
where a test can ask whether any is still `live`: the proof that a page hung up and gave the
camera and microphone back."""

from __future__ import annotations

from typing import Any

# Injected before any page script (Playwright's init script is not subject to the pages' CSP).
WATCH_TRACKS = """
(() => {
  const seen = (window.__sifaTracks = []);
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const original = media.getUserMedia.bind(media);
    media.getUserMedia = async (constraints) => {
      const stream = await original(constraints);
      seen.push(...stream.getTracks());
      return stream;
    };
  }
  const Original = window.RTCPeerConnection;
  if (Original) {
    window.RTCPeerConnection = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener("track", (event) => seen.push(event.track));
      }
    };
  }
})();
"""

LIVE_TRACKS = "() => window.__sifaTracks.filter((t) => t.readyState === 'live').map((t) => t.kind)"


async def watch_tracks(page: Any) -> None:
    """From the page's next document on (call before it opens the session page)."""
    await page.context.add_init_script(WATCH_TRACKS)


async def tracks_all_stopped(page: Any, within_ms: float = 10_000) -> None:
    """The page held tracks, and none of them is live any more."""
    await page.wait_for_function(
        "() => window.__sifaTracks.length > 0"
        " && window.__sifaTracks.every((t) => t.readyState === 'ended')",
        timeout=within_ms,
    )
    assert await page.evaluate(LIVE_TRACKS) == []
