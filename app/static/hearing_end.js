// The end of a hearing on every screen of the room. When the server says the hearing is over
// (everyone served, or the rest asked for paper; the room is closed with 4010) a page hangs up
// and gives the camera and microphone back: in a public hall no picture or sound may keep
// flowing, and the camera light must go off. The hall's kiosk then goes back to its idle screen
// after a countdown the people in front of it can see and stop.

import { releaseMedia } from "/static/call.js";

// Everyone signed on screen: a moment to read the thanks. Some asked for paper: time to print
// the ruling and the receipt form first (the kiosk's print buttons stay until then).
export const IDLE_AFTER_SECONDS = 20;
export const PAPER_IDLE_AFTER_SECONDS = 90;

// Stop every track this page still holds, its own and those it received, and empty every
// player: a stopped track leaves nothing `live` behind in the browser.
export function releaseEverything(...streams) {
  for (const stream of streams) releaseMedia(stream);
  for (const media of document.querySelectorAll("video, audio")) {
    if (media.srcObject) releaseMedia(media.srcObject);
    media.srcObject = null;
  }
}

// A countdown drawn into `line` ("{n}" in the template is the seconds left), then onDone. The
// returned handle stops it or gives more time.
export function countdown(line, template, seconds, onDone) {
  let left = seconds;
  const draw = () => {
    line.textContent = template.replace("{n}", String(left));
  };
  draw();
  const timer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      onDone();
      return;
    }
    draw();
  }, 1000);
  return {
    more(extra) {
      left += extra;
      draw();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
