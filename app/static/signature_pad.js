// A handwritten signature on a touch screen: strokes by finger, pen or mouse (pointer events
// cover all three) on a transparent canvas, exported as a PNG the server checks for ink
// (app/ruling/handwriting.py). A tap or a slip is not a signature: a few strokes' worth of
// movement is needed before `signed()` says yes.

const ENOUGH_MOVES = 12;

export function signaturePad(canvas, onChange = () => {}) {
  const pen = canvas.getContext("2d");
  let drawing = false;
  let moves = 0;
  let last = null;

  function reset() {
    const box = canvas.getBoundingClientRect();
    const scale = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(box.width * scale));
    canvas.height = Math.max(1, Math.round(box.height * scale));
    pen.setTransform(scale, 0, 0, scale, 0, 0);
    pen.lineWidth = 3;
    pen.lineCap = "round";
    pen.lineJoin = "round";
    pen.strokeStyle = "#111";
    moves = 0;
    onChange(false);
  }

  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = at(event);
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const point = at(event);
    pen.beginPath();
    pen.moveTo(...last);
    pen.lineTo(...point);
    pen.stroke();
    last = point;
    moves += 1;
    event.preventDefault();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onChange(moves >= ENOUGH_MOVES);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  reset();
  return {
    clear: reset,
    signed: () => moves >= ENOUGH_MOVES,
    png: () => canvas.toDataURL("image/png"),
  };
}
