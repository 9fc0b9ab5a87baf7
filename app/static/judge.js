// Sifa judge console: the room's video, the lobby, identity checks, questions, the Interp 358
// review, the decision and the ruling. Records go to the JSON API; the page polls the session
// every 2 s and draws it (state lives on the server).

import { SifaCall, rejoinDelay } from "/static/call.js";
import { callApi } from "/static/http.js";
import { drawRulingText } from "/static/ruling_text.js";
import { REVIEW_STATES, drawJudgeReview, onJudgeReviewSubmit } from "/static/transcript_review.js";
import { releaseEverything } from "/static/hearing_end.js";
import { closeForms, drawQuestioned } from "/static/judge_records.js";

const app = document.getElementById("app");
const lang = app.dataset.lang || "zh-CN";
const csrf = app.dataset.csrf || "";
const caseId = Number(app.dataset.case);
const T = document.getElementById("texts").dataset;
const $ = (id) => document.getElementById(id);
const STEPS = ["identity", "inquiry", "review", "service"];
const LIVE = new Set(["scheduled", "in_session", "confirmed", "rejected", "withdrawn", "ruling_issued"]);
const STATE_LABEL = {
  scheduled: ["已排期", "Scheduled"],
  in_session: ["在线确认中", "In session"],
  confirmed: ["确认有效", "Confirmed"],
  rejected: ["驳回申请", "Rejected"],
  withdrawn: ["准许撤回", "Withdrawn"],
  ruling_issued: ["裁定已出具", "Ruling issued"],
  served: ["已送达", "Served"],
};
const STEP_LABEL = {
  identity: ["身份核验", "Identity"],
  inquiry: ["询问与确认", "Questions & consent"],
  review: ["审查裁定", "Review & decision"],
  service: ["送达签收", "Service & receipt"],
};
const pick = (pair) => (lang === "en" ? pair[1] : pair[0]);
const CONN = JSON.parse(T.conn || "{}");
const ROLES = JSON.parse(T.roles || "{}");
const fill = (template, n) => template.replace("{n}", n);

function say(message) {
  $("error").textContent = message || "";
  $("error").classList.toggle("hidden", !message);
}

function api(method, path, body) {
  return callApi(method, path, body, { "X-CSRF-Token": csrf }, lang);
}

const clock = (seconds) => {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

// -- the call -----------------------------------------------------------------------------------

let call = null;
let caseState = app.dataset.state;
const roleName = (role) => ROLES[role] || role;

let rejoinAttempt = 0;
function rejoinSoon() {
  $("conn-state").textContent = CONN.reconnecting || "";
  $("conn-state").dataset.state = "reconnecting";
  $("join-room").classList.add("hidden");
  setTimeout(() => joinRoom({ auto: true }), rejoinDelay(rejoinAttempt));
  rejoinAttempt += 1;
}

// The hearing is over (the server says so, or closed the room with 4010): hang up, give the
// camera and microphone back, and offer no way into a room that is closed.
let over = false;
let localStream = null;
function hearingOver() {
  if (over) return;
  over = true;
  if (call) call.hangUp();
  call = null;
  window.sifaCall = null;
  for (const id of [...tiles.keys()]) dropTile(id);
  peerStates.clear();
  releaseEverything(localStream);
  localStream = null;
  $("join-room").classList.add("hidden");
  $("conn-state").textContent = T.over;
  $("conn-state").dataset.state = "over";
}

async function joinRoom({ auto = false } = {}) {
  if (call || over) return;
  $("join-room").disabled = true;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    $("self-video").srcObject = localStream;
    const door = await api("POST", `/api/cases/${caseId}/room-token`, {});
    call = new SifaCall({ wsUrl: door.ws_url, caseId, token: door.token, iceServers: door.ice_servers, localStream });
  } catch (err) {
    if (auto && (!err.status || err.status >= 500)) return rejoinSoon();
    say(err.message);
    $("join-room").disabled = false;
    return;
  }
  window.sifaCall = call;
  call.addEventListener("state", ({ detail }) => {
    $("conn-state").textContent = CONN[detail.state] || detail.state;
    $("conn-state").dataset.state = detail.state;
    $("join-room").classList.toggle("hidden", detail.state !== "closed");
    if (detail.state === "admitted") rejoinAttempt = 0;
    if (detail.state === "closed") {
      call = null;
      $("join-room").disabled = false;
    }
  });
  call.addEventListener("lobby", ({ detail }) => {
    // The kiosk comes to the lobby right after its check-in: read it now, not at the next
    // poll, so the console never says "not checked in" about a kiosk waiting at the door.
    if (!detail.self && detail.waiting.some((p) => p.role === "kiosk")) poll();
    if (!detail.self) drawLobby(detail.waiting);
  });
  // Who is in the room: the lobby, the tiles, and where each party takes part.
  for (const type of ["welcome", "admitted", "resumed"]) call.addEventListener(type, syncTiles);
  call.addEventListener("presence", ({ detail }) => {
    drawLobby(call.waiting);
    const who = detail.participant || {};
    if (["left", "removed"].includes(detail.event)) {
      dropTile(who.id);
      // call.js closes the link itself, and a closed link reports no state change.
      if (peerStates.delete(who.id)) drawConnections();
      // Someone gone has no connection to warn about any more.
      if (quality.delete(who.id)) drawQuality();
    } else if (who.admitted) {
      const figure = tileFor(who);
      if (figure) figure.dataset.conn = detail.event === "dropped" ? "dropped" : "on";
    }
    drawWhere();
  });
  call.addEventListener("ended", ({ detail }) => {
    for (const id of [...tiles.keys()]) dropTile(id);
    peerStates.clear();
    drawWhere();
    if (detail.over) {
      hearingOver();
      return;
    }
    // The seat is gone (the server restarted): join again by ourselves, without a click.
    if (detail.rejoin) rejoinSoon();
  });
  call.addEventListener("track", ({ detail }) => showTrack(detail));
  call.addEventListener("peerstate", ({ detail }) => {
    if (detail.state === "closed") peerStates.delete(detail.participant);
    else peerStates.set(detail.participant, detail.state);
    drawConnections();
  });
  // The server sends a level only when it changes (ok, poor past 10% loss, bad past 15%):
  // keep each participant's latest and show every one not ok.
  call.addEventListener("quality", ({ detail }) => {
    if (detail.level === "ok") quality.delete(detail.participant);
    else quality.set(detail.participant, detail);
    drawQuality();
  });
  // The court records the whole session: the judge sees at once when the recorder fails.
  call.addEventListener("recording", ({ detail }) => showRecording(detail.state));
  call.addEventListener("error", ({ detail }) => {
    if (detail.code !== "negotiation") say(detail.message);
  });
  await call.start();
}

// One state per connection (the room, a party's device, the court's recorder): the last one to
// change alone would hide a broken link behind a healthy one.
const peerStates = new Map();
function drawConnections() {
  if (over) return; // the line says the hearing is over
  const sep = lang === "en" ? ": " : "：";
  const parts = [...peerStates].map(([id, state]) => {
    // The recorder is hidden from presence lists, so it has no name there.
    const who = call && call.participants.get(id);
    const name = who ? who.name : id.includes("recorder") ? roleName("recorder") : id;
    // One piece per connection, never broken inside a name.
    const part = Object.assign(document.createElement("span"), { textContent: `${name}${sep}${CONN[state] || state}` });
    part.dataset.state = state;
    return part;
  });
  $("conn-state").replaceChildren(...parts.flatMap((part, i) => (i ? [" · ", part] : [part])));
  const states = [...peerStates.values()];
  $("conn-state").dataset.state = states.find((x) => x !== "connected") || (states.length ? "connected" : "");
}

// -- one tile per person in the room ---------------------------------------------------------
// Everyone admitted besides the judge gets a picture and a player of their own, so one voice
// never replaces another (the same pattern as kiosk.js). The hall's kiosk comes first and
// largest: it is the room the court sits with; parties on their own devices follow in order.

const tiles = new Map(); // participant id -> figure
const ROLE_ORDER = ["kiosk", "party", "mediator", "clerk"];

function tileKey(figure) {
  const rank = ROLE_ORDER.indexOf(figure.dataset.role);
  // Seats of parties end in their position ("party-{case}-{position}").
  const position = Number(figure.dataset.participant.split("-").pop()) || 0;
  return [rank < 0 ? ROLE_ORDER.length : rank, position, figure.dataset.participant];
}

function before(a, b) {
  const [x, y] = [tileKey(a), tileKey(b)];
  for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}

function tileFor(who) {
  // The judge is this page; the hidden recorder only receives and is never in the list.
  if (!who || !who.id || who.role === "judge" || (call && call.me && who.id === call.me.id)) return null;
  let figure = tiles.get(who.id);
  if (figure) return figure;
  figure = document.createElement("figure");
  figure.className = "tile";
  figure.dataset.participant = who.id;
  figure.dataset.role = who.role;
  const caption = document.createElement("figcaption");
  caption.append(
    Object.assign(document.createElement("span"), { className: "who", textContent: who.name }),
    " ",
    Object.assign(document.createElement("span"), { className: "role", textContent: roleName(who.role) }),
  );
  figure.append(
    Object.assign(document.createElement("video"), { autoplay: true, playsInline: true, muted: true }),
    caption,
    Object.assign(document.createElement("span"), { className: "tile-state", textContent: T.dropped }),
    Object.assign(document.createElement("audio"), { autoplay: true }),
  );
  tiles.set(who.id, figure);
  // Inserted in place rather than re-sorted: moving a playing element would restart it.
  const next = [...$("tiles").children].find((other) => before(figure, other));
  $("tiles").insertBefore(figure, next || null);
  $("nobody-in").classList.add("hidden");
  return figure;
}

function dropTile(id) {
  const figure = tiles.get(id);
  if (!figure) return;
  tiles.delete(id);
  for (const media of figure.querySelectorAll("video, audio")) media.srcObject = null;
  figure.remove();
  $("nobody-in").classList.toggle("hidden", tiles.size > 0);
}

// After joining or resuming, the room's list is the whole truth: add who is in, drop who left.
function syncTiles() {
  if (!call) return;
  const inside = new Set();
  for (const who of call.participants.values()) {
    if (who.admitted && tileFor(who)) inside.add(who.id);
  }
  for (const id of [...tiles.keys()]) if (!inside.has(id)) dropTile(id);
  drawWhere();
}

function showTrack({ participant, track, stream }) {
  const figure = tileFor(call && call.participants.get(participant));
  if (!figure) return;
  const media = figure.querySelector(track.kind === "video" ? "video" : "audio");
  media.srcObject = stream;
  media.play().catch(() => {
    // A console opened straight into the room has had no click yet: autoplay may refuse sound.
    if (track.kind === "audio") $("enable-sound").classList.remove("hidden");
  });
}

$("enable-sound").addEventListener("click", () => {
  const players = [...document.querySelectorAll("#tiles audio")].filter((a) => a.srcObject);
  Promise.all(players.map((a) => a.play()))
    .then(() => $("enable-sound").classList.add("hidden"))
    .catch(() => {});
});

// Parties present in the room on their own device (seat "party-{case}-{position}"), waiting
// or admitted: the kiosk does not speak for them.
function remoteParties() {
  const found = new Set();
  if (!call) return found;
  const prefix = `party-${caseId}-`;
  for (const p of call.participants.values()) {
    if (p.role === "party" && p.id.startsWith(prefix)) found.add(Number(p.id.slice(prefix.length)));
  }
  return found;
}

const quality = new Map();
function drawQuality() {
  const box = $("quality-warning");
  const lines = [...quality.values()].map((q) => {
    const who = call && call.participants.get(q.participant);
    const facts = [fill(T.qualityLoss, Math.round((q.packet_loss || 0) * 100))];
    if (q.rtt_ms) facts.push(fill(T.qualityRtt, Math.round(q.rtt_ms)));
    const [colon, open, comma, close] = lang === "en" ? [": ", " (", ", ", ")"] : ["：", "（", "，", "）"];
    const line = document.createElement("p");
    line.dataset.participant = q.participant;
    line.dataset.level = q.level;
    line.textContent = `${q.level === "bad" ? T.qualityBad : T.qualityPoor}${colon}${who ? who.name : q.participant}${open}${facts.join(comma)}${close}`;
    return line;
  });
  box.replaceChildren(...lines);
  box.classList.toggle("hidden", lines.length === 0);
  for (const [id, figure] of tiles) {
    const q = quality.get(id);
    if (q) figure.dataset.quality = q.level;
    else delete figure.dataset.quality;
  }
}

function drawLobby(waiting) {
  const list = $("lobby");
  if (!waiting.length) {
    list.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: T.nobody }));
    return;
  }
  list.replaceChildren(
    ...waiting.map((p) => {
      const li = document.createElement("li");
      li.dataset.participant = p.id;
      li.dataset.role = p.role;
      // The name stands beside the button; the button names them only to screen readers.
      const button = Object.assign(document.createElement("button"), {
        type: "button",
        className: "primary admit",
        textContent: T.admit,
      });
      button.setAttribute("aria-label", `${T.admit}${lang === "en" ? ": " : "："}${p.name}`);
      button.dataset.participant = p.id;
      const label = document.createElement("span");
      label.className = "waiting-who";
      label.append(
        Object.assign(document.createElement("strong"), { textContent: p.name }),
        " ",
        Object.assign(document.createElement("span"), { className: "role", textContent: roleName(p.role) }),
        " ",
        Object.assign(document.createElement("span"), { className: "muted", textContent: T.lobbyWait }),
      );
      li.append(label, button);
      return li;
    }),
  );
}

// A seat this judge admitted earlier in the session (before a server restart, say) never
// waits here again: the server lets it in as it joins (app/services/live.py, session_room_events),
// whether or not this console is open.
async function admit(participantId) {
  call.admit(participantId);
  try {
    draw(await api("POST", `/api/cases/${caseId}/session/admit`, {}));
  } catch (err) {
    say(err.message);
  }
}

// -- records ----------------------------------------------------------------------------------------

async function record(path, body, after) {
  try {
    const state = await api("POST", `/api/cases/${caseId}/${path}`, body);
    say("");
    if (after) after(state);
    else draw(state);
  } catch (err) {
    say(err.message);
  }
}

function onSubmit(event) {
  const form = event.target;
  event.preventDefault();
  const data = new FormData(form);
  if (form.classList.contains("identity-form")) {
    record("session/identity", {
      party: Number(form.dataset.party),
      method: data.get("method"),
      result: data.get("result"),
      reference: data.get("reference"),
      note: data.get("note"),
    });
  } else if (form.classList.contains("answers-form")) {
    record("session/answers", {
      party: Number(form.dataset.party),
      agreed_freely: data.get("agreed_freely") === "yes",
      understands: data.get("understands") === "yes",
      note: data.get("note"),
    });
  } else if (form.id === "review-form") {
    const items = {};
    form.querySelectorAll("tr[data-ground]").forEach((row) => {
      const g = row.dataset.ground;
      items[g] = { present: data.get(`present-${g}`) === "yes", note: data.get(`note-${g}`) || "" };
    });
    record("session/review", { items });
  } else if (form.id === "without-recording-form") {
    record("session/without-recording", { reason: data.get("reason") }, () => poll());
  } else if (form.id === "decision-form") {
    const decision = data.get("decision");
    const body = { decision, reasons: data.get("reasons") || null };
    if (decision === "reject") body.ground = data.get("ground");
    record("decision", body, () => poll());
  }
}

async function issue() {
  $("issue").disabled = true;
  try {
    await api("POST", `/api/cases/${caseId}/ruling`, {});
    say("");
    await poll();
  } catch (err) {
    say(err.message);
    $("issue").disabled = false;
  }
}

async function reveal(button) {
  try {
    const got = await api("POST", `/api/cases/${caseId}/reveal-id`, { party: Number(button.dataset.party) });
    button.parentElement.querySelector(".id-number").textContent = got.id_number;
    button.remove();
  } catch (err) {
    say(err.message);
  }
}

async function openSession() {
  try {
    await api("POST", `/api/cases/${caseId}/open-session`, {});
    say("");
    await poll();
  } catch (err) {
    say(err.message);
  }
}

// -- drawing ---------------------------------------------------------------------------------------

let clockBase = null;
function drawClock() {
  if (!clockBase) return;
  const seconds = clockBase.elapsed + (clockBase.running ? (Date.now() - clockBase.at) / 1000 : 0);
  $("clock-value").textContent = clock(seconds);
  $("clock").classList.toggle("over", seconds > clockBase.target);
  $("timings-total").textContent = `${clock(seconds)} / ${clock(clockBase.target)}`;
  $("timings-total").classList.toggle("over", seconds > clockBase.target);
}
setInterval(drawClock, 1000);

function drawGroundChoice() {
  const form = $("decision-form");
  const choice = new FormData(form).get("decision");
  form.querySelector("select[name=ground]").closest("label").classList.toggle("hidden", choice !== "reject");
}

// Between the decision and signing, the judge reads the ruling's full text as it will be issued
// (rendered by the server from the same templates as the signed document).
let draftShown = false;
async function drawDraft(show) {
  $("draft-box").classList.toggle("hidden", !show);
  if (!show || draftShown) return;
  draftShown = true;
  try {
    drawRulingText($("ruling-draft"), await api("GET", `/api/cases/${caseId}/ruling/draft`));
  } catch (err) {
    draftShown = false; // tried again at the next poll
    say(err.message);
  }
}

// Where each party takes part and what that means for the consent line and the kiosk: the
// records say where a consent was given, the room says who is on their own device now. Drawn
// on every poll and whenever someone comes or goes.
let lastState = null;
function drawWhere() {
  if (!lastState) return;
  const remote = remoteParties();
  for (const p of lastState.parties) {
    const card = document.querySelector(`.party-card[data-party="${p.position}"]`);
    if (!card) continue;
    card.querySelector(".where").classList.toggle("hidden", !remote.has(p.position));
    const consent = card.querySelector(".consent-status");
    if (p.consented_at) {
      consent.textContent = `✓ ${p.consent_device === "own_device" ? T.consentOwn : T.consentKiosk}`;
    } else {
      consent.textContent = remote.has(p.position) ? T.consentNoOwn : T.consentNo;
    }
    consent.dataset.done = p.consented_at ? "yes" : "no";
    consent.dataset.device = p.consent_device || "";
  }
  // The kiosk's check-in is never a condition of the session (app/domain/session.py): it is
  // awaited only while some party is not taking part on their own device.
  const check = lastState.check_in;
  const line = $("checkin-status");
  const allRemote = lastState.parties.length > 0 && lastState.parties.every((p) => remote.has(p.position));
  const [status, text] = check
    ? check.ok
      ? ["ok", `✓ ${T.checkinOk}`]
      : ["bad", `✗ ${T.checkinBad}`]
    : allRemote
      ? ["not-needed", T.kioskNotNeeded]
      : ["awaited", T.checkinNone];
  line.dataset.status = status;
  line.textContent = text;
  drawQuestioned(lastState, { tiles, remote, caseId, T, lang });
}

let rulingShown = false;
async function draw(state) {
  window.sifaState = state;
  if (state.hearing_over) hearingOver();
  caseState = state.case_state;
  $("case-state").textContent = pick(STATE_LABEL[caseState] || [caseState, caseState]);
  $("case-state").className = `state state-${caseState}`;
  $("open-session").classList.toggle("hidden", caseState !== "scheduled");
  const index = state.step === "closed" ? STEPS.length : STEPS.indexOf(state.step);
  document.querySelectorAll("#steps li").forEach((li, i) => {
    li.classList.toggle("done", i < index);
    li.classList.toggle("current", i === index);
  });
  document.body.dataset.step = state.step;
  clockBase = {
    elapsed: state.elapsed_seconds,
    at: Date.now(),
    running: Boolean(state.started_at) && state.step !== "closed",
    target: state.target_seconds,
  };
  $("clock").querySelector(".target").textContent = `/ ${clock(state.target_seconds)}`;
  drawClock();
  const rows = state.timings.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.step = t.step;
    tr.append(
      Object.assign(document.createElement("td"), { textContent: pick(STEP_LABEL[t.step] || [t.step, t.step]) }),
      Object.assign(document.createElement("td"), { textContent: clock(t.seconds) + (t.ended_at ? "" : " …") }),
    );
    return tr;
  });
  $("timings").tBodies[0].replaceChildren(...rows);
  for (const p of state.parties) {
    const card = document.querySelector(`.party-card[data-party="${p.position}"]`);
    if (!card) continue;
    const id = card.querySelector(".identity-status");
    id.textContent = !p.identity ? T.pending : p.identity_passed ? `✓ ${T.passed}` : `✗ ${T.failed}`;
    id.dataset.result = p.identity ? p.identity.result : "none";
    card.querySelector(".warning-status").textContent = p.warning_acknowledged_at ? `✓ ${T.warningYes}` : T.warningNo;
    const answers = card.querySelector(".answers-status");
    answers.textContent = p.answers ? `✓ ${T.recorded}` : "";
  }
  lastState = state;
  closeForms(state, T);
  drawWhere();
  const unanswered = state.review.unanswered.length;
  $("review-status").textContent = state.review.at && !unanswered ? `✓ ${T.recorded}` : "";

  const missing = $("missing");
  const decided = state.decision;
  missing.classList.toggle("hidden", Boolean(decided) || state.missing_for_confirm.length === 0);
  // Each item comes in both languages with its code; the plain list is the Chinese wording.
  const items = state.missing_for_confirm_items || state.missing_for_confirm.map((m) => ({ zh: m, en: m }));
  const remote = remoteParties();
  missing.querySelector("ul").replaceChildren(
    ...items.map((m) => {
      // The records cannot know where a party is now; the room can: a party on their own
      // device is not waited for at the kiosk.
      const own = m.code === "consent_pending" && remote.has(m.party);
      const text = own ? T.missingConsentOwn.replace("{name}", m.party_name) : lang === "en" ? m.en : m.zh;
      const li = Object.assign(document.createElement("li"), { textContent: text });
      if (m.code) li.dataset.code = m.code;
      return li;
    }),
  );
  $("decision-form").classList.toggle("hidden", Boolean(decided));
  if (decided) {
    $("decided").textContent = T[`decided${decided.decision[0].toUpperCase()}${decided.decision.slice(1)}`];
    $("decided").className = `verdict ${decided.decision === "confirm" ? "good" : "bad"}`;
  }
  const issued = ["ruling_issued", "served", "archived"].includes(caseState);
  $("issue").classList.toggle("hidden", !decided || issued);
  drawDraft(Boolean(decided) && !issued);
  await drawTranscriptReview(caseState);
  if (issued && !rulingShown) {
    rulingShown = true;
    const url = `/api/cases/${caseId}/ruling.pdf`;
    $("ruling-frame").src = `${url}#navpanes=0&view=FitH`;
    $("ruling-link").href = url;
    $("ruling-box").classList.remove("hidden");
  }
  if (issued) {
    try {
      const got = await api("GET", `/api/cases/${caseId}/receipts`);
      const names = new Map(state.parties.map((p) => [p.position, p.name]));
      $("receipt-status").textContent = `${T.receipts}${got.receipts.map((r) => names.get(r.party)).join("、") || "—"}`;
    } catch {
      // receipts are informative here
    }
  }
}

// Between the decision and the ruling: the parties' review of the transcript. The ruling is
// issued (and the transcript archived with it) once every party is settled.
async function drawTranscriptReview(state) {
  const box = $("transcript-review");
  if (!REVIEW_STATES.has(state)) {
    box.classList.add("hidden");
    $("issue").disabled = false;
    return;
  }
  try {
    const draft = await api("GET", `/api/cases/${caseId}/transcript/draft`);
    drawJudgeReview(box, draft, T);
    $("issue").disabled = !draft.ready;
  } catch {
    box.classList.add("hidden"); // no session was held: no transcript to review
    $("issue").disabled = false;
  }
}

async function onReviewSubmit(event) {
  try {
    if (!(await onJudgeReviewSubmit(event, api, caseId))) return;
    say("");
  } catch (err) {
    say(err.message);
  }
  await poll();
}

let polling = false;
let pollAgain = false; // asked while a poll was under way: that answer may predate the news
async function poll() {
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  try {
    await draw(await api("GET", `/api/cases/${caseId}/session`));
    // The recorder's state also arrives by signaling; polling covers a console opened late.
    const recording = await api("GET", `/api/cases/${caseId}/recording`);
    if (recording.state !== "idle") showRecording(recording.state, Boolean(recording.missing));
  } catch (err) {
    say(err.message);
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
    }
  }
}

// The judge moving into another party's record moves the highlight with them.
document.addEventListener("focusin", (event) => {
  if (event.target.closest(".party-card")) drawWhere();
});
document.addEventListener("submit", onReviewSubmit);
document.addEventListener("submit", onSubmit);
document.addEventListener("click", (event) => {
  const admitButton = event.target.closest("button.admit");
  if (admitButton) admit(admitButton.dataset.participant);
  const revealButton = event.target.closest("button.reveal");
  if (revealButton) reveal(revealButton);
});
$("decision-form").addEventListener("change", drawGroundChoice);
$("issue").addEventListener("click", issue);
$("open-session").addEventListener("click", openSession);
$("join-room").addEventListener("click", joinRoom);
drawGroundChoice();
// Into the room once the first poll has said whether the hearing is still on.
poll().then(() => {
  if (LIVE.has(caseState)) joinRoom();
});
setInterval(poll, 2000);

// missing: the hearing is on and nothing records it (the server says so: GET …/recording).
let recordingMissing = false;
function showRecording(state, missing = recordingMissing) {
  recordingMissing = state !== "recording" && missing;
  // A recorder that stopped (normally or not) has left: its link going down is no news of its
  // own, and would read as a red "connection failed" after a clean end.
  if (state !== "recording") {
    for (const id of [...peerStates.keys()]) if (id.includes("recorder")) peerStates.delete(id);
    drawConnections();
  }
  const problem = state === "failed" || recordingMissing;
  const indicator = $("recording");
  indicator.dataset.state = state;
  indicator.textContent = state === "recording" ? T.recording : T.recordingStopped;
  indicator.classList.toggle("hidden", problem);
  const alert = $("recording-failed");
  const wasHidden = alert.classList.contains("hidden");
  alert.classList.toggle("hidden", !problem);
  $("recording-problem").textContent = state === "failed" ? T.recordingLost : T.recordingMissing;
  if (problem && wasHidden) beepAlert();
}

function beepAlert() {
  try {
    const ctx = new AudioContext();
    const tone = ctx.createOscillator();
    tone.frequency.value = 880;
    tone.connect(ctx.destination);
    tone.start();
    tone.stop(ctx.currentTime + 0.4);
  } catch (_) {
    // No audio device: the red banner still shows.
  }
}

$("recording-restart").addEventListener("click", async () => {
  const response = await fetch(`/api/cases/${caseId}/recording/restart`, {
    method: "POST",
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
    body: "{}",
  });
  if (response.ok) showRecording("recording");
});
