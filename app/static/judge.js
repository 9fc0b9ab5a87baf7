// Sifa judge console: the room's video, the lobby, identity checks, questions, the Interp 358
// review, the decision and the ruling. Records go to the JSON API; the page polls the session
// every 2 s and draws it (state lives on the server).

import { SifaCall } from "/static/call.js";
import { callApi } from "/static/http.js";

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

async function joinRoom() {
  if (call) return;
  $("join-room").disabled = true;
  try {
    const localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    $("self-video").srcObject = localStream;
    const door = await api("POST", `/api/cases/${caseId}/room-token`, {});
    call = new SifaCall({ wsUrl: door.ws_url, caseId, token: door.token, iceServers: door.ice_servers, localStream });
  } catch (err) {
    say(err.message);
    $("join-room").disabled = false;
    return;
  }
  window.sifaCall = call;
  call.addEventListener("state", ({ detail }) => {
    $("conn-state").textContent = detail.state;
    $("join-room").classList.toggle("hidden", detail.state !== "closed");
    if (detail.state === "closed") {
      call = null;
      $("join-room").disabled = false;
    }
  });
  call.addEventListener("lobby", ({ detail }) => {
    if (!detail.self) drawLobby(detail.waiting);
  });
  call.addEventListener("presence", () => drawLobby(call.waiting));
  call.addEventListener("track", ({ detail }) => {
    if (detail.track.kind === "video") {
      $("remote-video").srcObject = detail.stream;
      $("remote-video").play().catch(() => {});
      const who = call.participants.get(detail.participant);
      if (who) $("remote-name").textContent = who.name;
    } else {
      $("remote-audio").srcObject = detail.stream;
      $("remote-audio").play().catch(() => {});
    }
  });
  call.addEventListener("peerstate", ({ detail }) => {
    $("conn-state").textContent = `${detail.participant}: ${detail.state}`;
    $("conn-state").dataset.state = detail.state;
  });
  call.addEventListener("quality", ({ detail }) => {
    const box = $("quality-warning");
    if (detail.level === "ok") {
      box.classList.add("hidden");
      return;
    }
    const who = call.participants.get(detail.participant);
    const loss = Math.round((detail.packet_loss || 0) * 100);
    const rtt = detail.rtt_ms ? `, RTT ${Math.round(detail.rtt_ms)} ms` : "";
    box.textContent = `${T.quality}${who ? who.name : detail.participant} (${detail.level}, ${loss}%${rtt})`;
    box.classList.remove("hidden");
  });
  // The court records the whole session: the judge sees at once when the recorder fails.
  call.addEventListener("recording", ({ detail }) => showRecording(detail.state));
  call.addEventListener("error", ({ detail }) => {
    if (detail.code !== "negotiation") say(detail.message);
  });
  await call.start();
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
      const button = Object.assign(document.createElement("button"), {
        type: "button",
        className: "primary admit",
        textContent: `${T.admit}：${p.name}`,
      });
      button.dataset.participant = p.id;
      li.append(Object.assign(document.createElement("span"), { textContent: `${p.name}（${p.role}）${T.lobbyWait} ` }), button);
      return li;
    }),
  );
}

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
}
setInterval(drawClock, 1000);

function drawPreview() {
  const form = $("decision-form");
  const choice = new FormData(form).get("decision");
  $("ruling-preview").textContent = $("ruling-preview").dataset[choice] || "";
  form.querySelector("select[name=ground]").closest("label").classList.toggle("hidden", choice !== "reject");
}

let rulingShown = false;
async function draw(state) {
  window.sifaState = state;
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
  drawClock();
  const rows = state.timings.map((t) => {
    const tr = document.createElement("tr");
    tr.append(
      Object.assign(document.createElement("td"), { textContent: pick(STEP_LABEL[t.step] || [t.step, t.step]) }),
      Object.assign(document.createElement("td"), { textContent: clock(t.seconds) + (t.ended_at ? "" : " …") }),
    );
    return tr;
  });
  $("timings").tBodies[0].replaceChildren(...rows);
  const check = state.check_in;
  $("checkin-status").textContent = !check ? T.checkinNone : check.ok ? `✓ ${T.checkinOk}` : `✗ ${T.checkinBad}`;

  for (const p of state.parties) {
    const card = document.querySelector(`.party-card[data-party="${p.position}"]`);
    if (!card) continue;
    const id = card.querySelector(".identity-status");
    id.textContent = !p.identity ? T.pending : p.identity_passed ? `✓ ${T.passed}` : `✗ ${T.failed}`;
    id.dataset.result = p.identity ? p.identity.result : "none";
    card.querySelector(".warning-status").textContent = p.warning_acknowledged_at ? `✓ ${T.warningYes}` : T.warningNo;
    const consent = card.querySelector(".consent-status");
    consent.textContent = p.consented_at ? `✓ ${T.consentYes}` : T.consentNo;
    consent.dataset.done = p.consented_at ? "yes" : "no";
    const answers = card.querySelector(".answers-status");
    answers.textContent = p.answers ? `✓ ${T.recorded}` : "";
  }
  const unanswered = state.review.unanswered.length;
  $("review-status").textContent = state.review.at && !unanswered ? `✓ ${T.recorded}` : "";

  const missing = $("missing");
  const decided = state.decision;
  missing.classList.toggle("hidden", Boolean(decided) || state.missing_for_confirm.length === 0);
  missing.querySelector("ul").replaceChildren(
    ...state.missing_for_confirm.map((m) => Object.assign(document.createElement("li"), { textContent: m })),
  );
  $("decision-form").classList.toggle("hidden", Boolean(decided));
  if (decided) {
    $("decided").textContent = T[`decided${decided.decision[0].toUpperCase()}${decided.decision.slice(1)}`];
    $("decided").className = `verdict ${decided.decision === "confirm" ? "good" : "bad"}`;
  }
  const issued = ["ruling_issued", "served", "archived"].includes(caseState);
  $("issue").classList.toggle("hidden", !decided || issued);
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

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    await draw(await api("GET", `/api/cases/${caseId}/session`));
    // The recorder's state also arrives by signaling; polling covers a console opened late.
    const recording = await api("GET", `/api/cases/${caseId}/recording`);
    if (recording.state !== "idle") showRecording(recording.state);
  } catch (err) {
    say(err.message);
  } finally {
    polling = false;
  }
}

document.addEventListener("submit", onSubmit);
document.addEventListener("click", (event) => {
  const admitButton = event.target.closest("button.admit");
  if (admitButton) admit(admitButton.dataset.participant);
  const revealButton = event.target.closest("button.reveal");
  if (revealButton) reveal(revealButton);
});
$("decision-form").addEventListener("change", drawPreview);
$("issue").addEventListener("click", issue);
$("open-session").addEventListener("click", openSession);
$("join-room").addEventListener("click", joinRoom);
drawPreview();
poll();
setInterval(poll, 2000);
if (LIVE.has(caseState)) joinRoom();

function showRecording(state) {
  const indicator = $("recording");
  indicator.dataset.state = state;
  indicator.textContent = state === "recording" ? T.recording : T.recordingStopped;
  indicator.classList.toggle("hidden", state === "failed");
  $("recording-failed").classList.toggle("hidden", state !== "failed");
  if (state === "failed") beepAlert();
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
