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

function block(b) {
  switch (b.kind) {
    case "sign":
      return line("sign", span("role", b.left), span("name", b.right));
    case "field":
      return line("field", span("label", b.left), span("value", b.right));
    case "qr": {
      // A link, not a picture: the reader is already on a screen. A draft has no address yet.
      if (!/^https?:\/\//.test(b.right)) return line("qr", span("label", b.left), span("pending", b.right));
      const link = document.createElement("a");
      link.href = b.right;
      link.textContent = b.right;
      link.rel = "noopener";
      return line("qr", span("label", b.left), link);
    }
    default:
      return line(b.kind, b.text);
  }
}

export function drawRulingText(container, copy) {
  container.replaceChildren(...copy.blocks.map(block));
  container.dataset.sha256 = copy.sha256;
}
