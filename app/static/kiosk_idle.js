// Sifa kiosk, idle: the room's schedule for today, kept current without anyone touching the
// screen (cases are booked and moved during the day), a clock, and the way in to a session.
//
// When the judge opens a session booked in this room, the kiosk goes to that session's device
// check by itself: the people in the room need not find and tap the case. It does so once per
// case: someone who comes back to this page from the session is not sent straight back.

import { callApi } from "/static/http.js";

const app = document.getElementById("app");
const lang = app.dataset.lang || "zh-CN";
const today = app.dataset.today;
const T = document.getElementById("texts").dataset;
const STATES = JSON.parse(T.states);
const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;
const enteredKey = (id) => `sifa-kiosk-entered-${id}`;
// Under way from the opening until the ruling is served (app/domain/cases.py HEARING).
const RUNNING = new Set(["in_session", "confirmed", "rejected", "withdrawn", "ruling_issued"]);
const LISTED = ["scheduled", ...RUNNING].map((s) => `state=${s}`).join("&");

function courtClock(date, withSeconds) {
  return date.toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai",
    hour: "2-digit",
    minute: "2-digit",
    ...(withSeconds ? { second: "2-digit" } : {}),
    hour12: false,
  });
}

function item(c) {
  const li = document.createElement("li");
  li.dataset.case = String(c.id);
  li.dataset.state = c.state;
  const span = (cls, text) => Object.assign(document.createElement("span"), { className: cls, textContent: text });
  const link = Object.assign(document.createElement("a"), {
    className: "button primary big-link",
    href: `/kiosk/session/${c.id}`,
    textContent: RUNNING.has(c.state) ? T.backIn : T.start,
  });
  li.append(
    span("time", courtClock(new Date(c.scheduled_at), false)),
    " ",
    span("number", c.case_number || ""),
    " ",
    span("", c.applicants.join("、")),
    " ",
    span(`state state-${c.state}`, STATES[c.state] || c.state),
    " ",
    link,
  );
  return li;
}

function draw(cases) {
  const list = $("schedule");
  const signature = JSON.stringify(cases.map((c) => [c.id, c.state, c.scheduled_at]));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...cases.map(item));
  $("nothing").classList.toggle("hidden", cases.length > 0);
}

// A session under way (someone tapped Back, or the page was reloaded): a large way back in, and
// no promise that it "starts by itself" any more, since it already has.
let idleNote = null;
function offerWayBack(cases) {
  const running = cases.find((c) => RUNNING.has(c.state));
  $("running").classList.toggle("hidden", !running);
  if (idleNote === null) idleNote = $("idle-note").textContent;
  $("idle-note").textContent = running ? T.runningNote : idleNote;
  if (!running) return;
  $("back-in").href = `/kiosk/session/${running.id}`;
  $("back-in").textContent = `${T.backIn} · ${running.case_number || ""}`;
}

function enterIfOpened(cases) {
  const open = cases.find((c) => c.state === "in_session" && !sessionStorage.getItem(enteredKey(c.id)));
  if (!open) return;
  sessionStorage.setItem(enteredKey(open.id), "1");
  $("starting").textContent = T.starting;
  $("starting").classList.remove("hidden");
  window.location.assign(`/kiosk/session/${open.id}`);
}

// Online mediation: an agreement fixed for signing in this hall's committee is one tap away.
function drawAgreements(agreements) {
  const list = $("agreements");
  const signature = JSON.stringify(agreements.map((a) => [a.id, a.frozen]));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(
    ...agreements.map((a) => {
      const li = document.createElement("li");
      li.dataset.mediation = String(a.id);
      const link = Object.assign(document.createElement("a"), {
        className: "button primary big-link",
        href: a.page,
        textContent: `${a.frozen ? T.sign : T.mediate} · ${a.dispute_type} · ${a.parties.join("、")}`,
      });
      li.append(link);
      return li;
    }),
  );
  $("agreements-box").classList.toggle("hidden", agreements.length === 0);
}

async function refresh() {
  try {
    drawAgreements((await callApi("GET", "/api/kiosk/agreements", undefined, {}, lang)).agreements);
    const got = await callApi("GET", `/api/cases?${LISTED}`, undefined, {}, lang);
    // The court's date: scheduled_at carries the court's offset, so its date part is the day.
    const todays = got.cases
      .filter((c) => c.scheduled_at && c.scheduled_at.slice(0, 10) === today)
      .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at));
    draw(todays);
    offerWayBack(todays);
    enterIfOpened(todays);
  } catch (err) {
    // A logged-out kiosk (session expired) is sent to the login page by a reload.
    if (err.status === 401) window.location.reload();
  }
}

// The schedule is the court's day: after midnight in Beijing the page asks for the new day.
const courtDate = (date) => date.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
const loadedOn = courtDate(new Date());

function tick() {
  const now = new Date();
  $("idle-clock").textContent = courtClock(now, true);
  if (courtDate(now) !== loadedOn) window.location.reload();
}

tick();
setInterval(tick, 1000);
refresh();
setInterval(refresh, POLL_MS);
