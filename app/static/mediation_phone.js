// A party's own phone (templates/pages/mediation_phone.html): the code texted to the phone on
// record buys the pass (POST /api/mediations/{id}/join); the page then shows the session and
// the agreement, and tells the other scripts ("sifa-pass") that they may start.

import { callApi } from "/static/http.js";
import { passFor, savePass } from "/static/mediation_pass.js";

const app = document.getElementById("app");
const $ = (id) => document.getElementById(id);
const mediationId = app.dataset.mediation;
const lang = app.dataset.lang || "zh-CN";
const T = JSON.parse($("phone-texts").dataset.texts);

function entered(held) {
  $("join-card").classList.add("hidden");
  $("session-part").classList.remove("hidden");
  $("who-am-i").textContent = T.you.replace("{name}", held.name);
}

const form = $("join-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("join-error").classList.add("hidden");
  const party = Number(form.dataset.party !== "" ? form.dataset.party : form.elements.party.value);
  try {
    const joined = await callApi("POST", `/api/mediations/${mediationId}/join`, { party, code: form.elements.code.value }, {}, lang);
    savePass(mediationId, joined);
    entered(joined);
    document.dispatchEvent(new CustomEvent("sifa-pass"));
  } catch (error) {
    $("join-error").textContent = error.message;
    $("join-error").classList.remove("hidden");
  }
});

const held = passFor(mediationId);
if (held) entered(held);
