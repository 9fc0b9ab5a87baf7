// Sifa: the camera needs a secure context. Browsers give getUserMedia only to pages opened over
// HTTPS (or on localhost itself); over plain http on a hall's network navigator.mediaDevices is
// simply missing, and the self-test would blame the camera. Pages that use the camera include
// templates/pages/_secure_context.html, which loads this module: it shows the notice there and
// disables the buttons marked data-needs-camera. kiosk.js asks cameraProblem() before its test.

// Pure: null when the camera may be asked for, else why not ("insecure" or "unsupported").
export function cameraProblem(win) {
  if (win.isSecureContext === false) return "insecure";
  const devices = win.navigator && win.navigator.mediaDevices;
  if (!devices || typeof devices.getUserMedia !== "function") return "unsupported";
  return null;
}

// The same page at https://, for the notice: the port an installation serves HTTPS on is not
// known here, so this is a hint, not a link.
export function httpsAddress(loc) {
  return `https://${loc.hostname}${loc.pathname}`;
}

function showNotice(problem) {
  const box = document.getElementById("secure-context");
  if (!box) return;
  box.dataset.problem = problem;
  for (const part of box.querySelectorAll("[data-for]")) {
    part.classList.toggle("hidden", part.dataset.for !== problem);
  }
  for (const slot of box.querySelectorAll(".current-address")) slot.textContent = window.location.href;
  for (const slot of box.querySelectorAll(".https-address")) slot.textContent = httpsAddress(window.location);
  box.classList.remove("hidden");
  for (const button of document.querySelectorAll("[data-needs-camera]")) button.disabled = true;
}

export const problem = cameraProblem(window);
if (problem) showNotice(problem);
window.sifaCameraProblem = problem;
