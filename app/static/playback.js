// Playback page: shows the real (court) time of the moment each segment's video is at.
// A segment file starts at its first frame, whose UTC instant is data-started-at.

const pad = (n, w = 2) => String(n).padStart(w, "0");

function courtTime(ms) {
  // Court time is UTC+8 all year.
  const d = new Date(ms + 8 * 3600 * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    `${pad(d.getUTCMilliseconds(), 3)}`;
}

for (const video of document.querySelectorAll("video[data-started-at]")) {
  const start = Date.parse(video.dataset.startedAt);
  const out = video.closest("section").querySelector("output.wallclock");
  const show = () => { out.textContent = courtTime(start + video.currentTime * 1000); };
  video.addEventListener("timeupdate", show);
  video.addEventListener("seeked", show);
}
