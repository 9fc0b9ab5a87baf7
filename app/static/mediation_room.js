// The video mediation session (templates/pages/_mediation_room.html) on the mediator's desk
// (mode "mediator": hosts, admits, removes, checks identity, texts join codes), the hall's
// kiosk (mode "kiosk": the parties sitting there tap) and a party's own phone (mode "party":
// that party taps). The room is the signaling room of docs/protocol.md with the mediator as
// host. The server tells every seat when the session or the agreement changed (a "mediation"
// notice); this page reads the session again, and re-announces the notice to the page as a
// "sifa-mediation" event, so the agreement's own script redraws within the second.

import { SifaCall, rejoinDelay, releaseMedia } from "/static/call.js";
import { callApi } from "/static/http.js";
import { el } from "/static/dom.js";
import { headersFor } from "/static/mediation_pass.js";

const box = document.getElementById("mediation-room");
const $ = (id) => document.getElementById(id);
const mode = box.dataset.mode;
const mediationId = box.dataset.mediation;
const lang = box.dataset.lang || "zh-CN";
const T = JSON.parse($("room-texts").dataset.texts);
const base = `/api/mediations/${mediationId}`;
// A fallback only: notices over signaling carry every change at once.
const SLOW_POLL_MS = 10_000;

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const api = (method, path, body) => callApi(method, `${base}${path}`, body, headersFor(mediationId, box.dataset.csrf), lang);

let call = null;
let view = null;
let over = false;
let rejoinAttempt = 0;
const tiles = new Map(); // participant id -> figure

function say(error) {
  $("room-error").textContent = error ? error.message || String(error) : "";
  $("room-error").classList.toggle("hidden", !error);
}

function status(text) {
  $("room-status").textContent = text;
}

// -- the session: who is checked, what was asked ---------------------------------------------

async function readSession() {
  try {
    view = await api("GET", "/session");
  } catch (error) {
    say(error);
    return;
  }
  drawChecks();
  drawRequests();
  if (view.state !== "in_mediation") end(T.ended);
}

function mayTapFor(party) {
  if (mode === "party") return view.you.party === party.position;
  return mode === "kiosk" && !party.on_own_device;
}

async function record(party, check) {
  say(null);
  try {
    view = await api("POST", "/checks", { party, check });
    drawChecks();
  } catch (error) {
    say(error);
  }
}

function checkCard(party) {
  const card = el("section", { class: "party-check card", "data-party": String(party.position) });
  const where = party.on_own_device ? T.on_phone : T.at_kiosk;
  card.append(el("h4", { text: `${party.name}（${where}）` }));
  const list = el("ul", { class: "check-list" });
  for (const check of Object.keys(view.checks)) {
    const done = party.done.includes(check);
    list.append(el("li", { class: done ? "done" : "", text: `${done ? "✓" : "○"} ${T[`label_${check}`]}` }));
  }
  card.append(list);
  const next = party.next;
  if (!next) {
    card.append(el("p", { class: "done-mark", text: T.ready }));
  } else if (next === "identity" && mode === "mediator") {
    const button = el("button", { type: "button", class: "primary", text: fill(T.identity, { name: party.name }) });
    button.addEventListener("click", () => record(party.position, "identity"));
    card.append(button);
  } else if (next === "identity" && mayTapFor(party)) {
    card.append(el("p", { class: "big", text: T.wait_identity }));
  } else if (next !== "identity" && mayTapFor(party)) {
    const [zh, en] = view.checks[next];
    const button = el("button", { type: "button", class: "primary big", text: T[next] });
    button.addEventListener("click", () => record(party.position, next));
    card.append(
      el("p", { class: "big", text: fill(T.your_turn, { name: party.name }) }),
      el("p", { class: "told big", text: lang === "en" ? en : zh }),
      button,
    );
  }
  if (mode === "mediator" && !party.on_own_device) {
    const send = el("button", { type: "button", text: fill(T.send_code, { name: party.name }) });
    const sent = el("span", { class: "muted", role: "status" });
    send.addEventListener("click", async () => {
      say(null);
      try {
        const answer = await api("POST", "/join-code", { party: party.position });
        sent.textContent = fill(T.code_sent, { phone: answer.sent_to });
      } catch (error) {
        say(error);
      }
    });
    card.append(el("p", { class: "row" }, send, sent));
  }
  return card;
}

function drawChecks() {
  const shown = view.parties.filter((p) => mode !== "party" || p.position === view.you.party);
  $("party-checks").replaceChildren(...shown.map(checkCard));
  const asker = $("ask-party");
  if (asker && asker.options.length !== view.parties.filter((p) => !p.on_own_device).length) {
    asker.replaceChildren(
      ...view.parties.filter((p) => !p.on_own_device).map((p) => el("option", { value: String(p.position), text: p.name })),
    );
  }
}

function drawRequests() {
  const names = new Map(view.parties.map((p) => [p.position, p.name]));
  const items = view.change_requests.map((c) =>
    el("li", { text: fill(T.asked, { name: names.get(c.party) || "", text: c.text }) }),
  );
  $("change-requests").replaceChildren(...(items.length ? items : [el("li", { class: "muted", text: T.none })]));
}

const askForm = $("ask-change");
if (askForm) {
  askForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(null);
    const party = mode === "party" ? view.you.party : Number($("ask-party").value);
    try {
      await api("POST", "/change-requests", { party, text: askForm.elements.text.value });
      askForm.reset();
      await readSession();
    } catch (error) {
      say(error);
    }
  });
}

// -- the room: pictures, lobby, admission ----------------------------------------------------

function showTrack({ participant, track, stream }) {
  const who = call && call.participants.get(participant);
  if (!who) return; // the hidden recorder only receives
  let figure = tiles.get(participant);
  if (!figure) {
    figure = el(
      "figure",
      { class: "tile", "data-participant": participant, "data-role": who.role },
      el("video", { autoplay: true, playsInline: true, muted: true }),
      el("figcaption", { text: who.name }),
      el("audio", { autoplay: true }),
    );
    tiles.set(participant, figure);
    $("tiles").prepend(figure);
  }
  const media = figure.querySelector(track.kind === "video" ? "video" : "audio");
  media.srcObject = stream;
  media.play().catch(() => {
    if (track.kind === "audio") $("enable-sound").classList.remove("hidden");
  });
}

function dropTile(participant) {
  const figure = tiles.get(participant);
  if (figure) figure.remove();
  tiles.delete(participant);
}

function drawLobby() {
  const list = $("lobby-list");
  if (!list || !call) return;
  const items = [];
  for (const who of call.participants.values()) {
    const line = el("li", { "data-participant": who.id, text: fill(who.admitted ? T.present : T.waiting, { name: who.name }) });
    if (!who.admitted) {
      const admit = el("button", { type: "button", class: "primary", text: fill(T.admit, { name: who.name }) });
      admit.addEventListener("click", () => call.admit(who.id));
      line.append(" ", admit);
    } else {
      const remove = el("button", { type: "button", class: "danger", text: fill(T.remove, { name: who.name }) });
      remove.addEventListener("click", () => call.remove(who.id, "mediator"));
      line.append(" ", remove);
    }
    items.push(line);
  }
  list.replaceChildren(...items);
}

// The kiosk goes back to its home page after the session, where a confirmation booked in
// its room straight after (app/services/follow_on.py) takes it into the hearing.
const KIOSK_HOME_AFTER_MS = 60_000;

function end(text) {
  if (over) return;
  over = true;
  status(text);
  if (call) {
    call.hangUp();
    call = null;
  }
  for (const id of [...tiles.keys()]) dropTile(id);
  if (mode === "kiosk") {
    $("room-status").after(el("a", { class: "button primary big-link", href: "/kiosk", text: T.home }));
    setTimeout(() => location.assign("/kiosk"), KIOSK_HOME_AFTER_MS);
  }
}

async function join(localStream) {
  const door = await api("POST", "/room-token", {});
  call = new SifaCall({ wsUrl: door.ws_url, caseId: door.room_key, token: door.token, iceServers: door.ice_servers, localStream });
  window.sifaCall = call;
  call.addEventListener("state", ({ detail }) => {
    if (detail.state === "lobby") status(T.lobby);
    if (detail.state === "admitted") status(mode === "mediator" ? T.hosting : T.admitted);
    if (detail.state === "reconnecting") status(T.reconnecting);
    box.dataset.state = detail.state;
  });
  call.addEventListener("admitted", () => {
    rejoinAttempt = 0;
  });
  call.addEventListener("track", ({ detail }) => showTrack(detail));
  for (const kind of ["welcome", "presence", "admitted"]) call.addEventListener(kind, drawLobby);
  call.addEventListener("presence", ({ detail }) => {
    if (["left", "removed"].includes(detail.event)) dropTile(detail.participant.id);
  });
  call.addEventListener("mediation", ({ detail }) => {
    document.dispatchEvent(new CustomEvent("sifa-mediation", { detail }));
    readSession();
  });
  call.addEventListener("removed", () => end(T.removed));
  call.addEventListener("error", ({ detail }) => say(detail));
  call.addEventListener("ended", ({ detail }) => {
    if (detail.over) return end(T.ended);
    if (!detail.rejoin || over) return;
    // The seat was lost (a server restarted): a fresh join, sooner first, then every 8 s.
    setTimeout(() => join(localStream).catch(say), rejoinDelay(rejoinAttempt++));
  });
  await call.start();
}

async function open() {
  await readSession();
  if (!view || view.state !== "in_mediation") return;
  let localStream = null;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    $("self-video").srcObject = localStream;
  } catch (error) {
    say(new Error(fill(T.camera, { problem: error.message || error.name })));
    return;
  }
  try {
    await join(localStream);
  } catch (error) {
    releaseMedia(localStream);
    say(error);
  }
}

$("enable-sound").addEventListener("click", () => {
  for (const player of document.querySelectorAll("#tiles audio")) player.play().catch(() => {});
  $("enable-sound").classList.add("hidden");
});

async function slowPoll() {
  if (over) return;
  await readSession();
  setTimeout(slowPoll, SLOW_POLL_MS);
}

// The phone waits for its pass (mediation_phone.js saves it, then says so); the others open.
if (mode === "party" && !headersFor(mediationId)["X-Mediation-Pass"]) {
  document.addEventListener("sifa-pass", () => open().then(() => setTimeout(slowPoll, SLOW_POLL_MS)), { once: true });
} else {
  open().then(() => setTimeout(slowPoll, SLOW_POLL_MS));
}
