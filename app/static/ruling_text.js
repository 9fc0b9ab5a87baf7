// The ruling's screen copy drawn as text: large type a person can read at a kiosk or on a phone,
// where a PDF in a frame is small print (and no mobile browser draws one inside a page).
// Blocks come from GET /api/cases/{id}/ruling/screen (app/ruling/screen.py), in the order of
// the signed original and with the same words, every ID number masked.

const TAGS = { court: "h3", title: "h2" };

function line(cls, ...parts) {
  const node = document.createElement(TAGS[cls] || "p");
  node.className = `rt-${cls}`;
  for (const part of parts) node.append(part);
  return node;
}

function span(cls, text) {
  const node = document.createElement("span");
  node.className = cls;
  node.textContent = text;
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

// The QR code as one SVG path of dark runs (from the server: app/ruling/marks.py qr_runs), on
// white with the 4-module quiet zone a scanner needs, sharp at any size.
function qrPicture({ size, runs }, label) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${size + 8} ${size + 8}`);
  svg.setAttribute("class", "rt-qr-code");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  const paper = document.createElementNS(SVG, "rect");
  for (const [k, v] of [["x", -4], ["y", -4], ["width", size + 8], ["height", size + 8], ["fill", "#fff"]]) {
    paper.setAttribute(k, String(v));
  }
  const dark = document.createElementNS(SVG, "path");
  dark.setAttribute("d", runs.map(([r, c, n]) => `M${c} ${r}h${n}v1h-${n}z`).join(""));
  dark.setAttribute("fill", "#000");
  svg.append(paper, dark);
  return svg;
}

function block(b) {
  switch (b.kind) {
    case "sign":
      return line("sign", span("role", b.left), span("name", b.right));
    case "field":
      return line("field", span("label", b.left), span("value", b.right));
    case "qr": {
      // The code the caption asks to scan (a phone held up to the kiosk), and the address as a
      // link for whoever reads on their own screen. A draft has no address yet.
      if (!/^https?:\/\//.test(b.right)) return line("qr", span("label", b.left), span("pending", b.right));
      const link = document.createElement("a");
      link.href = b.right;
      link.textContent = b.right;
      link.rel = "noopener";
      const shown = line("qr", span("label", b.left), link);
      if (b.qr) shown.prepend(qrPicture(b.qr, b.left));
      return shown;
    }
    default:
      return line(b.kind, b.text);
  }
}

export function drawRulingText(container, copy) {
  container.replaceChildren(...copy.blocks.map(block));
  container.dataset.sha256 = copy.sha256;
}
