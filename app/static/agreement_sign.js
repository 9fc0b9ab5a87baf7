// Parties sign the people's mediation agreement at the hall's kiosk (templates/pages/
// kiosk_agreement.html): each in their own card, with a code texted to their own phone, their
// handwriting, their own answer to applying for confirmation (art 33), and an explicit tap.
// On a party's own phone (templates/pages/mediation_phone.html) only that party's card shows,
// without the code: the phone's pass was bought with one. The signature names the text it was
// made on (its digest): when the mediator changes the text, the cards start again. A change
// arrives over signaling (mediation_room.js re-announces it as "sifa-mediation"); a slow poll
// covers a screen whose socket is down.

import { callApi } from "/static/http.js";
import { el } from "/static/dom.js";
import { drawRulingText } from "/static/ruling_text.js";
import { signaturePad } from "/static/signature_pad.js";
import { headersFor, passFor } from "/static/mediation_pass.js";

const app = document.getElementById("app");
const $ = (id) => document.getElementById(id);
const lang = app.dataset.lang;
const T = JSON.parse($("texts").dataset.texts);
const api = `/api/mediations/${app.dataset.mediation}/agreement`;
const onPhone = app.dataset.signMode === "party";
const headers = () => headersFor(app.dataset.mediation, app.dataset.csrf);
const POLL_MS = 5000;

let shownDigest = null;
let shownSigned = "";

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");

function showError(error) {
  $("error").textContent = error ? error.message : "";
  $("error").classList.toggle("hidden", !error);
}

function signerCard(agreement, party) {
  const card = el("section", { class: "signer-card card", "data-party": String(party.position) });
  card.append(el("h2", { text: fill(T.sign_as, { name: party.name }) }));
  const send = el("button", { type: "button", class: "big-inline", text: T.send });
  const sent = el("p", { class: "muted", role: "status" });
  const code = el("input", { inputMode: "numeric", autocomplete: "one-time-code", maxLength: 6, pattern: "[0-9]{6}" });
  const canvas = el("canvas", { class: "signature-pad", role: "img" });
  canvas.setAttribute("aria-label", fill(T.pad, { name: party.name }));
  const clear = el("button", { type: "button", text: T.clear });
  const yes = el("button", { type: "button", class: "big-inline", text: T.apply_yes });
  const no = el("button", { type: "button", class: "big-inline", text: T.apply_no });
  const confirm = el("button", { type: "button", class: "primary big-inline", text: T.confirm, disabled: true });
  if (!onPhone) {
    card.append(
      el("p", { text: fill(T.step_code, { phone: party.phone }) }),
      el("p", { class: "signature-row" }, send, el("label", {}, T.code, code)),
      sent,
    );
  }
  card.append(
    el("p", { text: T.step_sign }),
    canvas,
    el("p", { class: "signature-row" }, clear),
    el("p", { text: T.step_apply }),
    el("p", { class: "signature-row" }, yes, no),
    el("p", { class: "signature-row" }, confirm),
  );
  let applies = null;
  let pad = null;
  const ready = () => {
    const coded = onPhone || /^[0-9]{6}$/.test(code.value);
    confirm.disabled = !(pad && pad.signed() && coded && applies !== null);
  };
  for (const [button, answer] of [[yes, true], [no, false]]) {
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => {
      applies = answer;
      yes.setAttribute("aria-pressed", String(answer));
      no.setAttribute("aria-pressed", String(!answer));
      ready();
    });
  }
  code.addEventListener("input", ready);
  send.addEventListener("click", async () => {
    showError(null);
    try {
      const answer = await callApi("POST", `${api}/sign-code`, { party: party.position }, headers(), lang);
      sent.textContent = fill(T.sent, { phone: answer.sent_to });
      code.focus();
    } catch (error) {
      showError(error);
    }
  });
  confirm.addEventListener("click", async () => {
    showError(null);
    confirm.disabled = true;
    const body = {
      party: party.position,
      digest: agreement.digest,
      signature: pad.png(),
      apply_for_confirmation: applies,
    };
    if (!onPhone) body.code = code.value;
    try {
      draw(await callApi("POST", `${api}/party-signatures`, body, headers(), lang));
    } catch (error) {
      showError(error);
      ready();
    }
  });
  clear.addEventListener("click", () => pad.clear());
  // The pad measures itself once on screen.
  queueMicrotask(() => {
    pad = signaturePad(canvas, ready);
  });
  return card;
}

function doneCard(party) {
  return el("section", { class: "signer-card card done", "data-party": String(party.position) },
    el("p", { class: "done-mark big", text: fill(T.signed, { name: party.name }) }));
}

function draw(agreement) {
  const status = agreement.status || "none";
  // Signatures made on an earlier text are kept on record but no longer count: say so.
  const everyone = agreement.parties.every((p) => p.signed);
  const changed = status !== "sealed" && !everyone && agreement.signatures.some((s) => !s.counts);
  const waiting = status === "frozen" && everyone;
  $("status").textContent = waiting ? T.all_signed : changed ? T.changed : T[status];
  $("status").dataset.status = status;
  if (agreement.blocks.length) drawRulingText($("agreement-text"), { blocks: agreement.blocks, sha256: agreement.digest || "" });
  const signed = agreement.parties.map((p) => (p.signed ? "1" : "0")).join("");
  // Cards are rebuilt only when the text or who has signed changes: a party half-way through
  // signing keeps their strokes and code across polls.
  if (agreement.digest === shownDigest && signed === shownSigned) return;
  shownDigest = agreement.digest;
  shownSigned = signed;
  const open = status === "frozen";
  const mine = onPhone ? passFor(app.dataset.mediation).party : null;
  $("signers").replaceChildren(
    ...agreement.parties
      .filter((p) => mine === null || p.position === mine)
      .filter((p) => open || p.signed)
      .map((p) => (p.signed ? doneCard(p) : signerCard(agreement, p))),
  );
}

async function refresh() {
  try {
    draw(await callApi("GET", api, undefined, headers(), lang));
  } catch (error) {
    showError(error);
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

document.addEventListener("sifa-mediation", ({ detail }) => {
  if (detail.changed === "agreement") refresh();
});
// A phone reads nothing before it holds its pass (mediation_phone.js says when).
if (onPhone && !passFor(app.dataset.mediation)) document.addEventListener("sifa-pass", poll, { once: true });
else poll();
