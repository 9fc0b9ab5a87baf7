// Service of the ruling on each party, on the kiosk and a party's own device.
//
// Each party first answers, in its own tap, whether it agrees to electronic service (人民法院在线
// 诉讼规则 art 29). Yes: the party signs for the ruling on screen and gets a signed voucher. No:
// the kiosk prints the signed ruling and a 送达回证 the party signs by hand for the clerk; a party
// on their own device is served on paper by the court afterwards.

import { el } from "/static/dom.js";

// What one party's box shows, from the party's record and the receipts on file.
function partyService(p, facts) {
  const { T, courtTime, remote, signed, paper, kiosk } = facts;
  const box = el("div", { class: "receipt", "data-party": String(p.position) }, el("h3", { text: `${T.applicant} ${p.name}` }));
  const got = signed.get(p.position);
  const onPaper = paper.get(p.position);
  if (got) {
    box.append(el("p", { class: "status ok signed", text: `✓ ${T.signed} ${courtTime(got.acknowledged_at)}` }));
  } else if (onPaper) {
    box.append(el("p", { class: "status ok signed-paper", text: `✓ ${T.signedPaper} ${onPaper.signed_on}` }));
  } else if (remote.has(p.position)) {
    box.append(el("p", { class: "status remote", text: T.remoteSign }));
  } else if (!p.service) {
    box.append(el("p", { class: "service-question", text: T.serviceQuestion }));
    box.append(el("p", { class: "service-explain", text: T.serviceExplain }));
    const row = el("div", { class: "service-choice" });
    row.append(
      el("button", { class: "big primary choose", type: "button", "data-party": String(p.position), "data-electronic": "true", text: T.serviceYes }),
      el("button", { class: "big choose", type: "button", "data-party": String(p.position), "data-electronic": "false", text: T.serviceNo }),
    );
    box.append(row);
  } else if (p.service.electronic) {
    box.append(el("p", { class: "status ok", text: `✓ ${T.serviceAgreed}` }));
    box.append(el("button", { class: "big primary sign", type: "button", "data-party": String(p.position), text: T.sign }));
  } else {
    box.append(el("p", { class: "status paper-path", text: kiosk ? T.paperKiosk : T.paperRemote }));
    if (kiosk) {
      box.append(el("button", { class: "big-inline print-form", type: "button", "data-party": String(p.position), text: T.printForm }));
    }
  }
  return box;
}

// Draws the parties' service boxes when anything they show has changed.
export function drawService(area, parties, facts) {
  const signature = JSON.stringify([
    parties.map((p) => [p.position, p.service && p.service.electronic]),
    [...facts.signed.keys()].sort(),
    [...facts.paper.keys()].sort(),
    [...facts.remote].sort(),
  ]);
  if (area.dataset.signature === signature) return;
  area.dataset.signature = signature;
  area.replaceChildren(...parties.map((p) => partyService(p, facts)));
}

// Every party is done with the screen: signed on it, or holding paper to sign for the clerk.
export function hallDone(parties, facts) {
  return parties.every((p) => facts.signed.has(p.position) || facts.paper.has(p.position) || (p.service && !p.service.electronic));
}

// The party's answer: one tap, recorded on the server before anything else happens.
export async function onChoose(event, api, caseId) {
  const button = event.target.closest("button.choose");
  if (!button) return false;
  button.disabled = true;
  const body = { party: Number(button.dataset.party), electronic: button.dataset.electronic === "true" };
  await api("POST", `/api/cases/${caseId}/service/choice`, body);
  return true;
}

// The 送达回证 goes to the printer from a frame kept out of sight, like the ruling.
export function printForm(event, caseId) {
  const button = event.target.closest("button.print-form");
  if (!button) return false;
  const frame = document.getElementById("form-frame");
  frame.onload = () => {
    frame.contentWindow.focus();
    frame.contentWindow.print();
  };
  frame.src = `/api/cases/${caseId}/paper-forms/${button.dataset.party}.pdf`;
  return true;
}
