// A party's phone in a video mediation holds one thing: the pass its texted code bought
// (POST /api/mediations/{id}/join). Every call from the phone carries it; a kiosk or the
// mediator's desk sends its CSRF token instead.

const key = (mediationId) => `sifa-mediation-pass-${mediationId}`;

export function passFor(mediationId) {
  try {
    return JSON.parse(sessionStorage.getItem(key(mediationId)) || "null");
  } catch {
    return null;
  }
}

export function savePass(mediationId, joined) {
  sessionStorage.setItem(key(mediationId), JSON.stringify(joined));
}

export function headersFor(mediationId, csrf) {
  const held = passFor(mediationId);
  if (held) return { "X-Mediation-Pass": held.pass };
  return csrf ? { "X-CSRF-Token": csrf } : {};
}
