// Sifa clerk's board: today's confirmation rooms, refreshed from GET /api/board every 5 s.

const T = document.getElementById("texts").dataset;
const steps = JSON.parse(T.steps);
const states = JSON.parse(T.states);
const roles = JSON.parse(T.roles);
const quality = JSON.parse(T.quality || "{}");
const english = document.getElementById("app").dataset.lang === "en";
const [open, close, and] = english ? [" (", ")", ", "] : ["（", "）", "、"];
const body = document.querySelector("#board tbody");

const cell = (text, className = "") => Object.assign(document.createElement("td"), { textContent: text ?? "", className });
const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

function connection(room) {
  if (!room.connection) return cell("—", "muted");
  const people = room.connection.participants;
  if (!people.length) return cell(T.none, "muted");
  const td = cell("");
  for (const p of people) {
    const tag = document.createElement("span");
    tag.className = `conn-tag ${p.connected ? "on" : "off"} ${p.quality || ""}`;
    const warn = p.quality && p.quality !== "ok" ? `${open}${quality[p.quality] || p.quality}${close}` : "";
    tag.textContent = `${roles[p.role] || p.role}${p.admitted ? "" : "…"}${warn}`;
    td.append(tag, " ");
  }
  return td;
}

function row(room) {
  const tr = document.createElement("tr");
  tr.dataset.room = room.room_id;
  tr.dataset.step = room.step || "";
  if (room.case_id === null) {
    tr.className = "idle";
    tr.append(cell(room.hall), cell(room.room), cell(T.idle, "muted"), cell(""), cell(""), cell(""), cell(""), cell(""));
    return tr;
  }
  const link = document.createElement("a");
  link.href = `/cases/${room.case_id}`;
  link.textContent = room.case_number || `#${room.case_id}`;
  const what = cell("");
  what.append(link, document.createElement("br"), room.applicants.join(and));
  if (room.later) what.append(document.createElement("br"), Object.assign(document.createElement("span"), { className: "muted", textContent: T.later.replace("{n}", room.later) }));
  const state = cell("");
  state.append(Object.assign(document.createElement("span"), { className: `state state-${room.state}`, textContent: states[room.state] || room.state }));
  // A party served on paper: the clerk still has a signed 送达回证 to record.
  if (room.paper_pending && room.paper_pending.length) {
    state.append(document.createElement("br"), Object.assign(document.createElement("span"), { className: "paper-pending", textContent: T.paper.replace("{names}", room.paper_pending.join(and)) }));
  }
  const elapsed = room.elapsed_seconds === null ? "" : clock(room.elapsed_seconds) + (room.over_target ? ` ${T.over}` : "");
  tr.append(cell(room.hall), cell(room.room), what, cell(room.scheduled_at), state,
    cell(room.state === "scheduled" ? "" : steps[room.step] || room.step, "step"), cell(elapsed, room.over_target ? "over" : ""), connection(room));
  return tr;
}

async function refresh() {
  try {
    const response = await fetch("/api/board", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    body.replaceChildren(...data.rooms.map(row));
    document.getElementById("updated").textContent = new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" });
    window.sifaBoard = data;
  } catch {
    document.getElementById("updated").textContent = T.error;
  }
}

refresh();
setInterval(refresh, 5000);
