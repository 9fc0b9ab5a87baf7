// The parties' review of the transcript (笔录) between the decision and the ruling (民事诉讼法
// art 150; 人民法院在线诉讼规则 art 34). The kiosk or a party's own device shows the draft and
// takes each party's confirmation of the very text shown (its SHA-256) or request for a
// correction; the judge's console records corrections and a party's not signing.

import { el } from "/static/dom.js";
import { drawRulingText } from "/static/ruling_text.js";

export const REVIEW_STATES = new Set(["confirmed", "rejected", "withdrawn"]);

function statusOf(p, T) {
  if (p.not_signed) return el("p", { class: "status bad not-signed", text: T[`notSigned_${p.not_signed}`] || p.not_signed });
  if (p.confirmed) return el("p", { class: "status ok transcript-confirmed", text: `✓ ${T.transcriptConfirmed}` });
  if (p.asked_at) return el("p", { class: "status asked", text: T.transcriptAsked });
  if (p.stale) return el("p", { class: "status stale", text: T.transcriptStale });
  return null;
}

// -- the kiosk and a party's own device ----------------------------------------------------

let shownSha = null;
export function drawPartyReview(box, draft, parties, T) {
  box.classList.remove("hidden");
  if (shownSha !== draft.sha256) {
    shownSha = draft.sha256;
    box.dataset.sha = draft.sha256;
    drawRulingText(box.querySelector(".transcript-text"), { blocks: draft.blocks });
  }
  const mine = new Set(parties.map((p) => p.position));
  const area = box.querySelector(".transcript-parties");
  area.replaceChildren(
    ...draft.parties
      .filter((p) => mine.has(p.position))
      .map((p) => {
        const card = el("div", { class: "review-card transcript-party", "data-party": String(p.position) }, el("h3", { text: `${T.applicant} ${p.name}` }));
        const status = statusOf(p, T);
        if (status) card.append(status);
        if (!p.confirmed && !p.not_signed) {
          const row = el("div", { class: "service-choice" });
          row.append(
            el("button", { class: "big primary t-confirm", type: "button", "data-party": String(p.position), text: T.transcriptConfirm }),
          );
          if (!p.asked_at) row.append(el("button", { class: "big t-ask", type: "button", "data-party": String(p.position), text: T.transcriptAsk }));
          card.append(row);
        }
        return card;
      }),
  );
}

export function hidePartyReview(box) {
  box.classList.add("hidden");
}

// A tap on a party's confirm or ask button: true when it was one.
export async function onPartyReviewTap(event, api, caseId) {
  const button = event.target.closest("button.t-confirm, button.t-ask");
  if (!button) return false;
  button.disabled = true;
  const party = Number(button.dataset.party);
  const box = button.closest("[data-sha]");
  if (button.classList.contains("t-confirm")) {
    await api("POST", `/api/cases/${caseId}/transcript/confirm`, { party, draft_sha256: box.dataset.sha });
  } else {
    await api("POST", `/api/cases/${caseId}/transcript/ask`, { party });
  }
  return true;
}

// -- the judge's console --------------------------------------------------------------------

function judgeForms(p, T) {
  const correction = el("form", { class: "t-correction", "data-party": String(p.position) });
  correction.append(
    el("label", { text: T.correctionRequest }, el("textarea", { name: "request", rows: 2, maxLength: 1000, required: true })),
    el("label", { class: "inline-choice" }, el("input", { type: "radio", name: "granted", value: "true", checked: true }), document.createTextNode(` ${T.correctionGranted}`)),
    el("label", { class: "inline-choice" }, el("input", { type: "radio", name: "granted", value: "false" }), document.createTextNode(` ${T.correctionRefused}`)),
    el("label", { text: T.correctionText }, el("textarea", { name: "text", rows: 2, maxLength: 1000, required: true })),
    el("button", { type: "submit", text: T.correctionRecord }),
  );
  const unsigned = el("form", { class: "t-not-signed", "data-party": String(p.position) });
  const reason = el("select", { name: "reason" });
  reason.append(el("option", { value: "refused", text: T.notSigned_refused }), el("option", { value: "left", text: T.notSigned_left }));
  unsigned.append(
    el("label", { text: T.notSignedReason }, reason),
    el("label", { text: T.notSignedNote }, el("input", { name: "note", maxLength: 500 })),
    el("button", { type: "submit", text: T.notSignedRecord }),
  );
  return [correction, unsigned];
}

let judgeSignature = null;
export function drawJudgeReview(box, draft, T) {
  box.classList.remove("hidden");
  const signature = JSON.stringify([draft.sha256, draft.parties]);
  if (signature === judgeSignature) return;
  judgeSignature = signature;
  box.dataset.ready = String(draft.ready);
  const rows = draft.parties.map((p) => {
    const item = el("li", { class: "transcript-party", "data-party": String(p.position) }, el("strong", { text: p.name }));
    item.append(statusOf(p, T) || el("p", { class: "status", text: T.transcriptWaiting }));
    if (!p.confirmed && !p.not_signed) {
      // Folded away unless the party asked: the console stays short enough to watch the video.
      const more = el("details", { open: Boolean(p.asked_at) }, el("summary", { text: T.reviewActions }));
      more.append(...judgeForms(p, T));
      item.append(more);
    }
    return item;
  });
  box.querySelector("ul").replaceChildren(...rows);
  box.querySelector(".transcript-ready").classList.toggle("hidden", !draft.ready);
}

// The judge's forms: true when the submit was one of them.
export async function onJudgeReviewSubmit(event, api, caseId) {
  const form = event.target.closest("form.t-correction, form.t-not-signed");
  if (!form) return false;
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const party = Number(form.dataset.party);
  if (form.classList.contains("t-correction")) {
    await api("POST", `/api/cases/${caseId}/transcript/corrections`, {
      party,
      request: data.request,
      granted: data.granted === "true",
      text: data.text,
    });
  } else {
    await api("POST", `/api/cases/${caseId}/transcript/not-signed`, { party, reason: data.reason, note: data.note });
  }
  judgeSignature = null;
  return true;
}
