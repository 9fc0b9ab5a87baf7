// Sifa kiosk: the room's touch screen (mode "kiosk"), a party's own device (mode "party"),
// the join page (mode "join") and the mediator's join codes (mode "codes").
//
// State lives on the server: the page polls GET /api/cases/{id}/session every 2 s and draws
// what it gets, so a reload lands on the same step.
//
// The kiosk and a party's own device both test their camera, microphone and network, then wait
// in the room's lobby for the judge. They differ in how they prove who they are: the kiosk is a
// logged-in account (cookie and CSRF token), the party's device holds the signed party token
// that redeeming the mediator's one-time code gave it (X-Party-Token); api() sends whichever.

import { SifaCall, rejoinDelay } from "/static/call.js";
import { callApi, errorText } from "/static/http.js";
import { drawRulingText } from "/static/ruling_text.js";
import { cameraProblem } from "/static/secure_context.js";
import { el } from "/static/dom.js";
import { drawService, hallDone, onChoose, printForm } from "/static/service.js";
import { offerMore } from "/static/scroll_more.js";
import { IDLE_AFTER_SECONDS, PAPER_IDLE_AFTER_SECONDS, countdown, releaseEverything } from "/static/hearing_end.js";
import { REVIEW_STATES, drawPartyReview, hidePartyReview, onPartyReviewTap } from "/static/transcript_review.js";

const app = document.getElementById("app");
const mode = app.dataset.mode;
const lang = app.dataset.lang || "zh-CN";
const csrf = app.dataset.csrf || "";
const caseId = Number(app.dataset.case || 0);
const T = (document.getElementById("texts") || { dataset: {} }).dataset;
const $ = (id) => document.getElementById(id);
const LIVE = new Set(["scheduled", "in_session", "confirmed", "rejected", "withdrawn", "ruling_issued"]);
const DECIDED = new Set(["confirmed", "rejected", "withdrawn", "ruling_issued"]);
// The room's steps: its own device check, then the session's (app/domain/session.py).
const STEPS = ["selftest", "identity", "inquiry", "review", "service"];
const POLL_MS = 2000;

const tokenKey = (id) => `sifa-party-${id}`;
let partyPass = null; // {token, party, party_name, entered?} on a party's own device

// A party's device words some guidance differently: no mediator stands beside it to help.
const text = (key) => (mode === "party" && T[`party${key[0].toUpperCase()}${key.slice(1)}`]) || T[key];

function savePass() {
  sessionStorage.setItem(tokenKey(caseId), JSON.stringify(partyPass));
}

// -- helpers -------------------------------------------------------------------------------

function say(message) {
  const box = $("error");
  if (!box) return;
  box.textContent = message || "";
  box.classList.toggle("hidden", !message);
}

function api(method, path, body) {
  const headers = {};
  if (csrf) headers["X-CSRF-Token"] = csrf;
  if (partyPass) headers["X-Party-Token"] = partyPass.token;
  return callApi(method, path, body, headers, lang);
}

function courtTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// -- sound: a short beep when the judge joins or speaks after a silence ---------------------

let audioContext = null;
function audio() {
  if (!audioContext) audioContext = new AudioContext();
  if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
  return audioContext;
}
document.addEventListener("pointerdown", () => audio(), { once: false });

function beep(frequency = 880, ms = 250) {
  try {
    const ctx = audio();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = frequency;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + ms / 1000);
    window.sifaBeeps = (window.sifaBeeps || 0) + 1;
  } catch {
    // no sound device: the screen still says what happened
  }
}

function levelMeter(stream, onLevel) {
  const ctx = audio();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
    onLevel(peak / 128);
  }, 100);
  return () => {
    clearInterval(timer);
    source.disconnect();
  };
}

// -- the step bar and the clock ----------------------------------------------------------------

function drawSteps(step, state) {
  // Still on the device check: its section is up and this screen has not passed it before (a
  // reload of a kiosk that checked in, or of a party's device that entered, goes back in).
  const passed = (state.check_in && state.check_in.ok && mode === "kiosk") || (partyPass && partyPass.entered);
  const testing = !passed && $("selftest") && !$("selftest").classList.contains("hidden");
  const index = step === "closed" ? STEPS.length : STEPS.indexOf(testing ? "selftest" : step);
  document.querySelectorAll("#steps li").forEach((li, i) => {
    li.classList.toggle("done", i < index);
    li.classList.toggle("current", i === index);
    li.setAttribute("aria-current", i === index ? "step" : "false");
  });
}


// -- the room (kiosk) --------------------------------------------------------------------------

let localStream = null;
let call = null;
let stopMeter = null;
let checks = { camera: false, microphone: false, network: false };
let selfTested = false;

function mark(name, state, detail = "") {
  const li = $(`check-${name}`);
  li.dataset.state = state;
  li.querySelector(".detail").textContent = detail;
}

async function testCamera() {
  mark("camera", "pending");
  mark("microphone", "pending");
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  localStream = null;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 480 },
    });
  } catch {
    mark("camera", "fail");
    mark("microphone", "fail");
    return { camera: false, microphone: false };
  }
  const preview = $("preview");
  preview.srcObject = localStream;
  const video = localStream.getVideoTracks()[0];
  const camera = await new Promise((resolve) => {
    if (!video || video.readyState !== "live") return resolve(false);
    const deadline = Date.now() + 5000;
    const poll = () => {
      if (preview.videoWidth > 0) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(poll, 100);
    };
    preview.play().catch(() => {});
    poll();
  });
  mark("camera", camera ? "ok" : "fail", camera ? T.ok : "");
  const mic = localStream.getAudioTracks()[0];
  const microphone = Boolean(mic && mic.readyState === "live");
  mark("microphone", microphone ? "ok" : "fail", microphone ? T.ok : "");
  if (stopMeter) stopMeter();
  stopMeter = null;
  if (microphone) {
    let heard = false;
    const bar = $("meter-bar");
    stopMeter = levelMeter(localStream, (level) => {
      bar.style.width = `${Math.min(100, Math.round(level * 250))}%`;
      if (level > 0.02) heard = true;
    });
    setTimeout(() => {
      if (!heard && !$("selftest").classList.contains("hidden")) showGuidance([T.micQuiet]);
    }, 5000);
  }
  return { camera, microphone };
}

async function testNetwork() {
  mark("network", "pending");
  const times = [];
  for (let i = 0; i < 3; i += 1) {
    const start = performance.now();
    try {
      const r = await fetch(`/healthz?t=${Date.now()}`, { cache: "no-store" });
      if (!r.ok) throw new Error(String(r.status));
      await r.json();
      times.push(performance.now() - start);
    } catch {
      mark("network", "fail");
      return { network: false, slow: false };
    }
  }
  times.sort((a, b) => a - b);
  const rtt = times[1];
  const slow = rtt > 800;
  mark("network", slow ? "warn" : "ok", T.ms.replace("{n}", Math.round(rtt)));
  return { network: true, slow };
}

function showGuidance(lines) {
  const box = $("guidance");
  box.replaceChildren(...lines.filter(Boolean).map((line) => el("p", { text: line })));
  box.classList.toggle("hidden", !lines.filter(Boolean).length);
}

async function runSelfTest() {
  $("checkin").disabled = true;
  if (cameraProblem(window)) {
    // The page's notice says why (no HTTPS) and what to do: blaming the camera would mislead.
    mark("camera", "fail", T.needsHttps);
    mark("microphone", "fail", T.needsHttps);
    return;
  }
  showGuidance([]);
  const media = await testCamera();
  const net = await testNetwork();
  checks = { camera: media.camera, microphone: media.microphone, network: net.network };
  const lines = [];
  if (!media.camera) lines.push(text("cameraFail"));
  if (!media.microphone) lines.push(text("micFail"));
  if (!net.network) lines.push(text("netFail"));
  else if (net.slow) lines.push(T.netSlow);
  showGuidance(lines);
  $("checkin").disabled = !(checks.camera && checks.microphone && checks.network);
  selfTested = true;
  window.sifaSelfTest = checks;
}

async function checkIn() {
  $("checkin").disabled = true;
  try {
    await api("POST", `/api/cases/${caseId}/session/check-in`, checks);
  } catch (err) {
    say(err.message);
    $("checkin").disabled = false;
    return;
  }
  await enterRoom();
}

// A party's device has no check-in record of its own (that is the room's kiosk): its self-test
// travels with its request for a room token and lands in the audit trail there.
async function partyReady() {
  $("checkin").disabled = true;
  partyPass.entered = true;
  savePass();
  await enterRoom();
}

// The body of the room-token request: the kiosk is known by its login; a party's device
// reports the self-test it just passed (none after a reload straight into the room).
function doorRequest() {
  return partyPass && selfTested ? { self_test: checks } : {};
}

// After a drop the client resumes by itself; when its seat is gone (the server restarted, or
// the grace period passed) it joins afresh with a new room token, retrying while the server
// is away, so nobody at the kiosk or on a phone has to press anything.
let rejoinAttempt = 0;
function rejoinSoon() {
  $("lobby").dataset.state = "reconnecting";
  $("lobby-text").textContent = T.reconnecting;
  $("rejoin").classList.add("hidden");
  setTimeout(() => enterRoom({ auto: true }), rejoinDelay(rejoinAttempt));
  rejoinAttempt += 1;
}

async function enterRoom({ auto = false } = {}) {
  if (call || over || cameraProblem(window)) return;
  $("selftest").classList.add("hidden");
  $("lobby").classList.remove("hidden");
  $("rejoin").classList.add("hidden");
  $("lobby-text").textContent = T.connecting;
  $("video-area").classList.remove("hidden");
  $("parties").classList.remove("hidden");
  if (stopMeter) stopMeter();
  stopMeter = null;
  if (!localStream || !localStream.getVideoTracks().some((t) => t.readyState === "live")) {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 480 },
    });
  }
  $("self-video").srcObject = localStream;
  let door;
  try {
    door = await api("POST", `/api/cases/${caseId}/room-token`, doorRequest());
  } catch (err) {
    // Away (restarting) or refusing for now: keep trying by ourselves while the hearing lasts.
    if (auto && (!err.status || err.status >= 500)) return rejoinSoon();
    say(err.message);
    $("rejoin").classList.remove("hidden");
    return;
  }
  call = new SifaCall({
    wsUrl: door.ws_url,
    caseId,
    token: door.token,
    iceServers: door.ice_servers,
    localStream,
  });
  window.sifaCall = call;
  call.addEventListener("state", ({ detail }) => {
    const line = $("lobby-text");
    if (detail.state === "lobby") line.textContent = T.lobby;
    if (detail.state === "admitted") line.textContent = T.admitted;
    if (detail.state === "reconnecting") line.textContent = T.reconnecting;
    $("lobby").dataset.state = detail.state;
  });
  call.addEventListener("admitted", () => {
    rejoinAttempt = 0;
    beep();
  });
  call.addEventListener("presence", ({ detail }) => {
    if (detail.participant.role === "judge" && ["joined", "admitted", "resumed"].includes(detail.event)) {
      beep();
    }
    if (["left", "removed"].includes(detail.event)) dropOther(detail.participant.id);
    if (detail.participant.role === "party") redrawParties();
  });
  // Who is in the room decides whose buttons the kiosk shows (remoteParties).
  for (const type of ["admitted", "resumed"]) call.addEventListener(type, redrawParties);
  call.addEventListener("track", ({ detail }) => showTrack(detail));
  call.addEventListener("error", ({ detail }) => {
    if (detail.code !== "negotiation") say(detail.message);
  });
  let removed = false;
  call.addEventListener("removed", () => {
    removed = true;
  });
  call.addEventListener("ended", ({ detail }) => {
    // No more resuming. A seat that is gone comes back by a fresh join, by itself; one the
    // judge removed does not; anything else offers a button.
    call = null;
    window.sifaCall = null;
    for (const id of [...others.keys()]) dropOther(id);
    redrawParties();
    // The server closed the room (the hearing is over): never join again; the poll says why.
    if (detail.over) {
      hearingOver();
      return;
    }
    if (detail.rejoin && !removed) {
      rejoinSoon();
      return;
    }
    $("lobby").dataset.state = "closed";
    $("lobby-text").textContent = removed ? T.removed : T.ended;
    $("rejoin").classList.toggle("hidden", removed);
  });
  await call.start();
}

// The judge fills the big picture; anyone else admitted (the kiosk seen from a party's device,
// a party on their own device seen from the kiosk) gets a small picture and a player of its own,
// so one voice never replaces another.
const others = new Map(); // participant id -> figure

function showTrack({ participant, track, stream }) {
  const who = call && call.participants.get(participant);
  if (!who) return; // the hidden recorder only receives; anything else unknown is not shown
  if (who.role === "judge") {
    if (track.kind === "video") {
      $("remote-video").srcObject = stream;
      $("remote-video").play().catch(() => {});
      $("remote-name").textContent = `${T.judge} ${who.name}`;
    } else {
      const player = $("remote-audio");
      player.srcObject = stream;
      player.play().catch(() => $("enable-sound").classList.remove("hidden"));
      watchSpeech(stream);
    }
    return;
  }
  let figure = others.get(participant);
  if (!figure) {
    figure = el(
      "figure",
      { class: "other", "data-participant": participant, "data-role": who.role },
      el("video", { autoplay: true, playsInline: true, muted: true }),
      el("figcaption", { text: who.name }),
      el("audio", { autoplay: true }),
    );
    others.set(participant, figure);
    $("others").append(figure);
  }
  const media = figure.querySelector(track.kind === "video" ? "video" : "audio");
  media.srcObject = stream;
  media.play().catch(() => {
    if (track.kind === "audio") $("enable-sound").classList.remove("hidden");
  });
}

function dropOther(participant) {
  const figure = others.get(participant);
  if (!figure) return;
  others.delete(participant);
  figure.remove();
}

let lastSound = 0;
function watchSpeech(stream) {
  // The judge speaks after a silence: a beep draws the room's attention to the screen.
  lastSound = Date.now();
  levelMeter(stream, (level) => {
    const now = Date.now();
    if (level > 0.05) {
      if (now - lastSound > 8000) beep(660, 200);
      lastSound = now;
    }
  });
}

// -- parties: warning, consent, receipt ---------------------------------------------------------

const drawn = new Map(); // position -> signature of what is on screen

function partyBox(p) {
  const box = el("div", { class: "party-box", "data-party": String(p.position) });
  box.append(el("h2", { text: `${T.applicant} ${p.name}` }));
  const identity = p.identity_passed
    ? el("p", { class: "status ok", text: `✓ ${T.identityOk}` })
    : p.identity && p.identity.result === "failed"
      ? el("p", { class: "status bad", text: T.identityFailed })
      : el("p", { class: "status", text: T.waitIdentity });
  box.append(identity);
  // The warning and the consent are read together and given in one tap, which records both:
  // the button says both, and stays off until the judge has verified who is tapping.
  if (p.warning_acknowledged_at) box.append(el("p", { class: "status ok", text: `✓ ${T.acked}` }));
  else box.append(document.getElementById("t-warning").content.cloneNode(true));
  if (p.consented_at) {
    box.append(el("p", { class: "status ok consented", text: `✓ ${T.consented} ${courtTime(p.consented_at)}` }));
  } else {
    const button = el("button", {
      class: "big primary consent",
      type: "button",
      "data-party": String(p.position),
      "data-acknowledged": p.warning_acknowledged_at ? "yes" : "no",
      text: p.warning_acknowledged_at ? T.consent : T.ackConsent,
    });
    button.disabled = !p.identity_passed;
    box.append(button);
  }
  return box;
}

// Parties the judge let into the room on their own device (seat "party-{case}-{position}").
// The kiosk does not tap for them: they acknowledge and confirm there, in their own hand.
// Should they leave or be removed, their buttons come back to the kiosk.
function remoteParties() {
  const found = new Set();
  if (mode !== "kiosk" || !call) return found;
  const prefix = `party-${caseId}-`;
  for (const p of call.participants.values()) {
    if (p.role === "party" && p.admitted && p.id.startsWith(prefix)) {
      found.add(Number(p.id.slice(prefix.length)));
    }
  }
  return found;
}

let lastState = null;
function redrawParties() {
  if (lastState) drawParties(lastState);
}

function drawParties(state) {
  lastState = state;
  const area = $("parties");
  const parties = partyPass ? state.parties.filter((p) => p.position === partyPass.party) : state.parties;
  const done = state.decision !== null;
  const remote = remoteParties();
  for (const p of parties) {
    const away = remote.has(p.position);
    const signature = JSON.stringify([p.identity_passed, p.identity && p.identity.result, p.warning_acknowledged_at, p.consented_at, done, away]);
    if (drawn.get(p.position) === signature) continue;
    drawn.set(p.position, signature);
    const fresh = partyBox(p);
    if (done || away) fresh.querySelectorAll("button").forEach((b) => b.remove());
    if (away && !done) fresh.append(el("p", { class: "status remote", text: T.remoteParty }));
    const old = area.querySelector(`.party-box[data-party="${p.position}"]`);
    if (old) old.replaceWith(fresh);
    else area.append(fresh);
  }
}

async function onPartyTap(event) {
  const button = event.target.closest("button[data-party]");
  if (!button || button.disabled) return;
  const party = Number(button.dataset.party);
  if (!button.classList.contains("consent")) return;
  button.disabled = true;
  try {
    const path = `/api/cases/${caseId}/session`;
    if (button.dataset.acknowledged === "no") {
      await api("POST", `${path}/warning-ack`, { party });
      button.dataset.acknowledged = "yes"; // a refused consent is tapped again, not the warning
    }
    const state = await api("POST", `${path}/consent`, { party });
    say("");
    draw(state);
  } catch (err) {
    say(err.message);
    button.disabled = false;
  }
}

// -- the ruling and receipts ------------------------------------------------------------------
//
// The screen shows the ruling's screen copy as large text, ID numbers masked: a kiosk is a
// shared screen in a public hall, in view of the hearing camera. The signed original is what is
// served: the kiosk prints it from a frame kept out of sight; a party's own device also opens
// or saves it, fetched with the party's token (a frame or link cannot send that header), so the
// bytes saved are the bytes that were signed.
//
// Phones get no print button: they have no printer to hand and do not draw a PDF in a frame.
const phone = () => window.matchMedia("(max-width: 700px), (pointer: coarse)").matches;

async function fetchPdf(path) {
  const headers = { Accept: "application/pdf" };
  if (partyPass) headers["X-Party-Token"] = partyPass.token;
  const response = await fetch(path, { headers, credentials: "same-origin" });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new Error(errorText(data, response.status, lang));
  }
  const blob = await response.blob();
  return { blob, url: URL.createObjectURL(blob) };
}

async function showScreenCopy() {
  try {
    drawRulingText($("ruling-text"), await api("GET", `/api/cases/${caseId}/ruling/screen`));
  } catch (err) {
    if (err.status !== 404) throw err;
    // Issued before screen copies existed: the original is there to print or save.
    $("ruling-text").replaceChildren(el("p", { class: "big", text: T.noScreenCopy }));
  }
}

let rulingShown = false;
async function showRuling() {
  await showScreenCopy();
  const path = `/api/cases/${caseId}/ruling.pdf`;
  if (mode === "kiosk") {
    $("print-frame").src = path;
    return;
  }
  const ruling = await fetchPdf(path);
  window.sifaRuling = ruling; // what the party was given, for checks from outside the page
  const { url } = ruling;
  for (const id of ["ruling-link", "ruling-save"]) {
    $(id).href = url;
    $(id).classList.remove("hidden");
  }
  $("ruling-save").download = `ruling-${caseId}.pdf`;
  const small = phone();
  $("print").classList.toggle("hidden", small);
  if (!small) $("print-frame").src = url;
}

let voucherShown = false;
async function showVoucher(position) {
  // The party keeps its own proof of service: the signed voucher, fetched with its token.
  if (voucherShown || !partyPass) return;
  voucherShown = true;
  try {
    const voucher = await fetchPdf(`/api/cases/${caseId}/vouchers/${position}.pdf`);
    window.sifaVoucher = voucher;
    const { url } = voucher;
    const link = $("voucher-link");
    link.href = url;
    link.download = `voucher-${caseId}-${position}.pdf`;
    link.classList.remove("hidden");
  } catch {
    voucherShown = false; // tried again at the next poll
  }
}

async function drawRuling(state) {
  const box = $("ruling-box");
  if (!box || (mode !== "kiosk" && mode !== "party")) return;
  if (!["ruling_issued", "served", "archived"].includes(state.case_state)) return;
  box.classList.remove("hidden");
  $("issued-text").textContent = text("issued");
  $("issued-text").classList.remove("hidden");
  if (!rulingShown) {
    rulingShown = true;
    try {
      await showRuling();
    } catch (err) {
      rulingShown = false; // tried again at the next poll
      say(err.message);
      return;
    }
    beep(740, 300);
    // The ruling opens below the video: bring it to the parties rather than ask them to scroll.
    box.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  let receipts;
  try {
    receipts = await api("GET", `/api/cases/${caseId}/receipts`);
  } catch {
    return;
  }
  const signed = new Map(receipts.receipts.map((r) => [r.party, r]));
  const paper = new Map((receipts.paper_receipts || []).map((r) => [r.party, r]));
  // A party's own device answers for that party alone; the kiosk for those in the hall.
  const parties = partyPass ? state.parties.filter((p) => p.position === partyPass.party) : state.parties;
  const facts = { T, courtTime, remote: remoteParties(), signed, paper, kiosk: mode === "kiosk" };
  drawService($("receipts"), parties, facts);
  if (partyPass && signed.has(partyPass.party)) showVoucher(partyPass.party);
  const everyone = state.case_state === "served" || signed.size + paper.size === state.parties.length;
  $("all-served").classList.toggle("hidden", !everyone);
  // Some asked for paper: the hall's part is over once the rest have signed on screen.
  const paperLeft = !everyone && hallDone(state.parties, facts);
  $("paper-left").classList.toggle("hidden", !paperLeft);
  const mine = $("self-served");
  if (mine) mine.classList.toggle("hidden", everyone || !(partyPass && signed.has(partyPass.party)));
}

// A party's tap on a service or transcript button: recorded on the server, then redrawn.
async function onRecordTap(event) {
  if (printForm(event, caseId)) return;
  try {
    if (!(await onChoose(event, api, caseId)) && !(await onPartyReviewTap(event, api, caseId))) return;
    say("");
  } catch (err) {
    say(err.message);
  }
  await poll();
}

async function onSign(event) {
  const button = event.target.closest("button.sign");
  if (!button) return;
  button.disabled = true;
  try {
    await api("POST", `/api/cases/${caseId}/receipts`, { party: Number(button.dataset.party) });
    say("");
  } catch (err) {
    say(err.message);
    button.disabled = false;
  }
  // Signed already (another tap, or the same party elsewhere) is refused: the poll shows it.
  await poll();
}

function printRuling() {
  // The original, with its signature and seal, goes to the printer: not the masked screen copy.
  const frame = $("print-frame");
  frame.contentWindow.focus();
  frame.contentWindow.print();
}

// -- the end of the hearing --------------------------------------------------------------------
//
// Hang up and release the camera and microphone at once; the hall's kiosk then counts down to
// its idle screen (longer while a party served on paper still prints the forms). A party's own
// device keeps the ruling and voucher on screen to save.
let over = false;
function hearingOver(state = lastState) {
  if (over) return;
  over = true;
  if (call) call.hangUp();
  call = null;
  window.sifaCall = null;
  if (stopMeter) stopMeter();
  stopMeter = null;
  releaseEverything(localStream);
  localStream = null;
  for (const id of ["selftest", "lobby", "video-area", "enable-sound"]) $(id).classList.add("hidden");
  $("over-text").textContent = T.over;
  $("hearing-over").classList.remove("hidden");
  if (mode !== "kiosk") return;
  const paper = Boolean(state) && state.parties.some((p) => p.service && !p.service.electronic);
  const seconds = paper ? PAPER_IDLE_AFTER_SECONDS : IDLE_AFTER_SECONDS;
  const timer = countdown($("over-countdown"), T.idleIn, seconds, () => location.assign("/kiosk"));
  $("over-stay").addEventListener("click", () => timer.more(60));
}

// -- drawing the state -----------------------------------------------------------------------

function draw(state) {
  window.sifaState = state;
  drawSteps(state.step, state);
  document.body.dataset.step = state.step;
  document.body.dataset.caseState = state.case_state;
  drawParties(state);
  const box = $("decision-box");
  if (state.decision) {
    box.classList.remove("hidden");
    const key = { confirm: "confirmed", reject: "rejected", withdraw: "withdrawn" }[state.decision.decision];
    $("decision-text").textContent = T[key] || "";
    if (!["ruling_issued", "served", "archived"].includes(state.case_state)) {
      $("issued-text").textContent = T.preparing;
      $("issued-text").classList.remove("hidden");
    }
  }
  drawTranscript(state);
  drawRuling(state);
  if (state.hearing_over) hearingOver(state);
}

// Between the decision and the ruling, the parties check the transcript and confirm it.
async function drawTranscript(state) {
  const box = $("transcript-box");
  if (!box || (mode !== "kiosk" && mode !== "party")) return;
  if (!REVIEW_STATES.has(state.case_state)) {
    hidePartyReview(box);
    return;
  }
  let draft;
  try {
    draft = await api("GET", `/api/cases/${caseId}/transcript/draft`);
  } catch {
    hidePartyReview(box); // no session was held (a withdrawal before it): nothing to check
    return;
  }
  const parties = partyPass ? state.parties.filter((p) => p.position === partyPass.party) : state.parties;
  const wasHidden = box.classList.contains("hidden");
  drawPartyReview(box, draft, parties, T);
  if (wasHidden) box.scrollIntoView({ behavior: "smooth", block: "start" });
}


let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const state = await api("GET", `/api/cases/${caseId}/session`);
    draw(state);
    return state;
  } catch (err) {
    say(err.message);
    return null;
  } finally {
    polling = false;
  }
}

function wireRoom() {
  $("retest").addEventListener("click", runSelfTest);
  $("rejoin").addEventListener("click", () => enterRoom());
  $("enable-sound").addEventListener("click", () => {
    const players = [$("remote-audio"), ...document.querySelectorAll("#others audio")];
    Promise.all(players.filter((p) => p.srcObject).map((p) => p.play()))
      .then(() => $("enable-sound").classList.add("hidden"))
      .catch(() => {});
  });
}

async function startKiosk() {
  document.addEventListener("click", onPartyTap);
  document.addEventListener("click", onSign);
  document.addEventListener("click", onRecordTap);
  $("checkin").addEventListener("click", checkIn);
  $("print").addEventListener("click", printRuling);
  wireRoom();
  const state = await poll();
  setInterval(poll, POLL_MS);
  if (state && state.hearing_over) {
    // Over already (a reload after the end): no self-test and no room, only the countdown.
    hearingOver(state);
  } else if (state && state.check_in && state.check_in.ok && LIVE.has(state.case_state)) {
    // Checked in already (a reload): straight back into the room, same step.
    await enterRoom();
  } else if (state && !LIVE.has(state.case_state)) {
    $("selftest").classList.add("hidden");
    $("parties").classList.remove("hidden");
  } else {
    await runSelfTest();
  }
}

// -- a party's own device ---------------------------------------------------------------------

async function startParty() {
  const raw = sessionStorage.getItem(tokenKey(caseId));
  if (!raw) {
    $("selftest").classList.add("hidden");
    say(T.noToken);
    return;
  }
  partyPass = JSON.parse(raw);
  $("party-who").textContent = (T.partyWho || "").replace("{name}", partyPass.party_name);
  document.addEventListener("click", onPartyTap);
  document.addEventListener("click", onSign);
  document.addEventListener("click", onRecordTap);
  $("checkin").addEventListener("click", partyReady);
  $("print").addEventListener("click", printRuling);
  wireRoom();
  const state = await poll();
  setInterval(poll, POLL_MS);
  if (!state) {
    // The pass was refused (expired, or the case closed): the error says what to do.
    $("selftest").classList.add("hidden");
  } else if (!LIVE.has(state.case_state) || (DECIDED.has(state.case_state) && !partyPass.entered)) {
    // Come back after the hearing (a new code once it was decided): no device check and no
    // video, only the decision, the ruling and this party's receipt.
    $("party-who").textContent = (T.partyWhoLate || "").replace("{name}", partyPass.party_name);
    $("selftest").classList.add("hidden");
    $("parties").classList.remove("hidden");
  } else if (partyPass.entered) {
    // Tested and in the room before (a reload): straight back, same step.
    await enterRoom();
  } else {
    await runSelfTest();
  }
}

function startJoin() {
  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("code").value.trim();
    try {
      const joined = await api("POST", "/api/join", { code });
      sessionStorage.setItem(
        tokenKey(joined.case_id),
        JSON.stringify({ token: joined.token, party: joined.party, party_name: joined.party_name }),
      );
      location.assign(`/party/session/${joined.case_id}`);
    } catch (err) {
      say(err.message);
    }
  });
}

function startCodes() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.issue-code");
    if (!button) return;
    const party = Number(button.dataset.party);
    try {
      const issued = await api("POST", `/api/cases/${caseId}/party-codes`, { party });
      $(`code-${party}`).textContent = issued.code;
      $(`expires-${party}`).textContent = `→ ${courtTime(issued.expires_at)}`;
      say("");
    } catch (err) {
      say(err.message);
    }
  });
}

if ($("more")) offerMore($("more"), { hiddenWhen: () => over });

const start = { kiosk: startKiosk, party: startParty, join: startJoin, codes: startCodes }[mode];
if (start) start();
