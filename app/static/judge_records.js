// The judge's record forms beside the video: which party is being questioned now (highlighted
// in the records and in the picture the judge must watch), and which forms are closed because
// their step is over (after the decision, a record could only be refused).

// Records are taken while the case is in session and undecided (app/services/sessions_states.py
// RECORD_STATES); the server refuses them otherwise.
export function recordsOpen(state) {
  return state.case_state === "in_session" && !state.decision;
}

// The party the judge is questioning: the one whose record for the current step is still
// missing; of several, the one whose card holds the keyboard focus (the judge is filling in its
// record), else the first.
export function questionedParty(state) {
  if (!recordsOpen(state)) return null;
  const missing = (p) => (state.step === "identity" ? !p.identity_passed : state.step === "inquiry" ? !p.answers : false);
  const waiting = state.parties.filter(missing).map((p) => p.position);
  const card = document.activeElement && document.activeElement.closest(".party-card");
  const focused = card ? Number(card.dataset.party) : null;
  if (waiting.includes(focused)) return focused;
  return waiting.length ? waiting[0] : null;
}

// Highlight the questioned party's card, and the picture showing them: their own device's tile
// when they take part from it, else the hall's kiosk (labelled with whom it is asking about).
export function drawQuestioned(state, { tiles, remote, caseId, T, lang }) {
  const position = questionedParty(state);
  const party = state.parties.find((p) => p.position === position);
  for (const card of document.querySelectorAll(".party-card")) {
    const on = Number(card.dataset.party) === position;
    card.classList.toggle("questioned", on);
    let badge = card.querySelector(".asking-badge");
    if (on && !badge) {
      badge = Object.assign(document.createElement("span"), { className: "asking-badge", textContent: T.asking });
      card.querySelector("h2").append(" ", badge);
    }
    if (!on && badge) badge.remove();
  }
  for (const figure of tiles.values()) {
    figure.classList.remove("questioned");
    const label = figure.querySelector(".asking");
    if (label) label.remove();
  }
  if (!party) return;
  const own = remote.has(position) ? tiles.get(`party-${caseId}-${position}`) : null;
  const figure = own || [...tiles.values()].find((f) => f.dataset.role === "kiosk");
  if (!figure) return;
  figure.classList.add("questioned");
  const sep = lang === "en" ? ": " : "：";
  figure.append(Object.assign(document.createElement("span"), { className: "asking", textContent: `${T.asking}${sep}${party.name}` }));
}

// Every record form is disabled once the records are closed, with a line saying why, so the
// judge never fills in a form only to be refused.
export function closeForms(state, T) {
  const open = recordsOpen(state);
  // Not yet open (booked, the session not opened) reads differently from over (decided).
  const why = state.case_state === "scheduled" ? T.stepNotOpen : T.stepClosed;
  for (const form of document.querySelectorAll(".identity-form, .answers-form, #review-form")) {
    for (const control of form.elements) control.disabled = !open;
    form.classList.toggle("closed-step", !open);
    let note = form.querySelector(".step-closed-note");
    if (!open && !note) {
      note = Object.assign(document.createElement("p"), { className: "step-closed-note" });
      form.append(note);
    }
    if (note) note.textContent = why;
    if (open && note) note.remove();
  }
}
