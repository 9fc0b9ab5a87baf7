// The mediator's side of the people's mediation agreement (templates/pages/_agreement_desk.html):
// draft it, fix the text for signing, watch each party sign at the kiosk, sign last, seal.
// The text shown is the server's rendering of the very template the sealed PDF is drawn from.

import { callApi } from "/static/http.js";
import { el } from "/static/dom.js";
import { drawRulingText } from "/static/ruling_text.js";
import { signaturePad } from "/static/signature_pad.js";

const box = document.getElementById("agreement");
const $ = (id) => document.getElementById(id);
const lang = box.dataset.lang;
const T = JSON.parse($("agreement-texts").dataset.texts);
const api = `/api/mediations/${box.dataset.mediation}/agreement`;
const headers = { "X-CSRF-Token": box.dataset.csrf };
const POLL_MS = 2000;

let current = null;
const pad = signaturePad($("mediator-pad"), (ok) => {
  $("mediator-signs").disabled = !ok;
});
let formVersion = -1; // the draft version the form shows

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

function beijing(iso) {
  return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai" });
}

function showError(error) {
  $("agreement-error").textContent = error ? error.message : "";
  $("agreement-error").classList.toggle("hidden", !error);
}

function termRow(term = {}) {
  const field = (label, input) => el("label", {}, label, input);
  const text = el("input", { name: "term-text", required: true, maxLength: 500, value: term.text || "" });
  const amount = el("input", { name: "term-amount", inputMode: "decimal", value: term.amount || "" });
  const due = el("input", { name: "term-due", type: "date", value: term.due || "" });
  const remove = el("button", { type: "button", text: T.remove });
  const row = el("div", { class: "term-row" }, field(T.term, text), field(T.amount, amount), field(T.due, due), remove);
  remove.addEventListener("click", () => row.remove());
  return row;
}

function fillForm(draft) {
  const form = $("draft-form");
  for (const name of ["facts", "responsibility", "performance"]) form.elements[name].value = draft ? draft[name] : "";
  $("terms").replaceChildren(...(draft ? draft.terms : [{}]).map(termRow));
}

function readForm() {
  const form = $("draft-form");
  const terms = [...$("terms").querySelectorAll(".term-row")].map((row) => {
    const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
    return { text: value("term-text"), amount: value("term-amount") || null, due: value("term-due") || null };
  });
  return {
    facts: form.elements.facts.value,
    responsibility: form.elements.responsibility.value,
    performance: form.elements.performance.value,
    terms,
    base_version: current ? current.version : 0,
  };
}

function signerLine(agreement, party) {
  const done = party.signed;
  const item = el("li", { "data-party": String(party.position) }, `${party.name}：${done ? T.signed : T.waiting}`);
  const made = agreement.signatures.find((s) => s.party === party.position && s.counts);
  if (made && made.applies_for_confirmation) item.append(`（${T.applies}）`);
  return item;
}

function draw(agreement) {
  current = agreement;
  const status = agreement.status;
  $("agreement-status").textContent = status
    ? fill(T[status], {
        v: agreement.version,
        at: agreement.effective_at ? beijing(agreement.effective_at) : "",
        until: agreement.confirmation_deadline ? beijing(agreement.confirmation_deadline) : "",
      })
    : T.none;
  $("agreement-status").dataset.status = status || "none";
  if (agreement.version !== formVersion) {
    fillForm(agreement.draft);
    formVersion = agreement.version;
  }
  $("draft-form").classList.toggle("hidden", status === "sealed");
  $("freeze").classList.toggle("hidden", status !== "drafting");
  if (agreement.blocks.length) drawRulingText($("agreement-text"), { blocks: agreement.blocks, sha256: agreement.digest || "" });
  const lines = agreement.parties.map((p) => signerLine(agreement, p));
  if (agreement.mediator_signed) lines.push(el("li", { "data-party": "mediator" }, `${T.mediator}：${T.signed}`));
  const voided = agreement.signatures.filter((s) => !s.counts).length;
  if (voided) lines.push(el("li", { class: "muted", text: fill(T.void, { n: voided }) }));
  $("signers").replaceChildren(...lines);
  const allParties = agreement.parties.every((p) => p.signed);
  const signing = status === "frozen" && allParties && !agreement.mediator_signed;
  const wasHidden = $("mediator-sign").classList.contains("hidden");
  $("mediator-sign").classList.toggle("hidden", !signing);
  if (signing && wasHidden) pad.clear(); // sized now that it is on screen
  $("seal").classList.toggle("hidden", !(status === "frozen" && agreement.mediator_signed));
  $("sealed").classList.toggle("hidden", !agreement.pdf);
  if (agreement.pdf) $("agreement-pdf").href = agreement.pdf;
  $("transcript-pdf").classList.toggle("hidden", !agreement.transcript);
  if (agreement.transcript) $("transcript-pdf").href = agreement.transcript;
  $("to-confirmation").classList.toggle("hidden", !(status === "sealed" && !agreement.application));
  $("applied").classList.toggle("hidden", !agreement.application);
  if (agreement.application) $("application-link").href = `/cases/${agreement.application}`;
}

async function act(method, path, body) {
  showError(null);
  try {
    const answer = await callApi(method, path, body, headers, lang);
    draw(answer);
    return answer;
  } catch (error) {
    showError(error);
    return null;
  }
}

$("add-term").addEventListener("click", () => $("terms").append(termRow()));
$("draft-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  formVersion = -1; // redraw the form from what the server kept
  if (await act("POST", `${api}/draft`, readForm())) $("agreement-status").textContent += ` ${T.saved}`;
});
$("freeze").addEventListener("click", () => act("POST", `${api}/freeze`, { version: current.version }));
$("mediator-clear").addEventListener("click", () => pad.clear());
$("mediator-signs").addEventListener("click", () =>
  act("POST", `${api}/mediator-signature`, { digest: current.digest, signature: pad.png() }),
);
// Sealed, the mediation is agreed: the page's state and actions are the server's to redraw.
$("seal").addEventListener("click", async () => {
  if (await act("POST", `${api}/seal`, {})) window.location.reload();
});

$("apply").addEventListener("click", async () => {
  showError(null);
  try {
    const applied = await callApi("POST", `/api/mediations/${box.dataset.mediation}/confirmation`, {}, headers, lang);
    window.location.assign(applied.page);
  } catch (error) {
    showError(error);
  }
});

async function poll() {
  try {
    const answer = await callApi("GET", api, undefined, headers, lang);
    // Another screen's save moves the version: the form follows only when it has no edits of
    // this screen's own in flight (an unsaved form keeps its words; saving then is refused as
    // stale, saying so).
    if (!current || answer.version !== current.version || answer.signatures.length !== current.signatures.length || answer.status !== current.status) {
      const editing = document.activeElement && $("draft-form").contains(document.activeElement);
      if (editing) formVersion = answer.version;
      draw(answer);
    }
  } catch {
    // Offline for a moment: the next poll tries again.
  }
  setTimeout(poll, POLL_MS);
}
poll();
