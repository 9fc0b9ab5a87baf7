// Sifa live-session client: signaling protocol v1 (docs/protocol.md), plain ES module.
//
//   import { SifaCall } from "/static/call.js";
//   const call = new SifaCall({ wsUrl, caseId, token, iceServers });
//
// The ICE transport policy ("all" | "relay") comes from the server in the welcome
// message (SIFA_ICE_TRANSPORT_POLICY), so every page follows the court's setting
// without passing it; a constructor value only applies until the welcome arrives.
//   call.addEventListener("track", (e) => { video.srcObject = e.detail.stream; });
//   await call.start();
//
// One RTCPeerConnection per remote participant (mesh), perfect negotiation on
// every one of them, resume with ICE restart after a dropped socket.
//
// Events (CustomEvent, data in event.detail):
//   state      {state}                 idle|connecting|lobby|admitted|reconnecting|closed
//   welcome    {you, room, participants}
//   lobby      {waiting, self}         who waits for the judge (self: I am waiting)
//   admitted   {participants}          I was let in
//   presence   {event, participant, reason}
//   track      {participant, track, stream}
//   peerstate  {participant, state}    RTCPeerConnection.connectionState
//   quality    {participant, level, previous, packet_loss, rtt_ms, bitrate_kbps}  (judge only)
//   stats      {packet_loss, rtt_ms, bitrate_kbps}   what this client just reported
//   resumed    {replayed, complete}
//   removed    {reason}
//   error      {code, message, ref}
//   ended      {reason, rejoin, over}  no more resuming: refused, removed, left, or the seat is
//                                      gone (grace over, the server restarted); rejoin: a fresh
//                                      join (a new room token) may bring this client back;
//                                      over: the hearing is over and the server closed the room
//                                      (4010), so nothing may bring it back
//   recording  {state, run, reason?}   the server's recorder: recording|stopped|failed (judge)
//   mediation  {changed}               a mediation room's session or agreement changed:
//                                      checks|agreement|change_request|joined

export const PROTOCOL_VERSION = 1;

// Close codes after which reconnecting cannot help (docs/protocol.md, "Close codes").
const FINAL_CLOSE_CODES = new Set([4001, 4002, 4003, 4008, 4009]);
const CLOSE_OVER = 4010; // the hearing is over: the server closed the room for good
const ICE_TRANSPORT_POLICIES = new Set(["all", "relay"]);

// How long a page waits before its n-th fresh join after its seat was lost (the server
// restarting): quick at first, then every 8 s while the server is away.
const REJOIN_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
export function rejoinDelay(attempt) {
  return REJOIN_DELAYS_MS[Math.min(attempt, REJOIN_DELAYS_MS.length - 1)];
}

// Stop every track of a stream: the browser gives the camera and microphone back (its camera
// light goes off), which leaving the room alone does not do.
export function releaseMedia(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

export class SifaCall extends EventTarget {
  constructor({
    wsUrl,
    caseId,
    token,
    iceServers = [],
    iceTransportPolicy = "all",
    media = { audio: true, video: true },
    localStream = null,
    statsIntervalMs = 5000,
    pingIntervalMs = 10000,
    reconnectDelayMs = [250, 500, 1000, 2000, 4000],
    offerWaitMs = 1500,
  }) {
    super();
    this.wsUrl = wsUrl;
    this.caseId = caseId;
    this.token = token;
    this.iceServers = iceServers;
    this.iceTransportPolicy = iceTransportPolicy;
    this.media = media;
    this.localStream = localStream;
    this.statsIntervalMs = statsIntervalMs;
    this.pingIntervalMs = pingIntervalMs;
    this.reconnectDelayMs = reconnectDelayMs;
    this.offerWaitMs = offerWaitMs;

    this.state = "idle";
    this.me = null;
    this.room = null;
    this.participants = new Map(); // id -> presence {id, role, name, admitted, connected}
    this.peers = new Map(); // id -> PeerLink
    this.resumeToken = null;
    this.graceSeconds = 60;
    this.lastSeq = 0;
    this.ws = null;
    this._resuming = false;
    this._dropAt = 0;
    this._attempt = 0;
    this._lastHeard = 0;
    this._timers = [];
    this._statsBase = new Map();
  }

  // -- public API ------------------------------------------------------------

  async start() {
    if (!this.localStream) {
      this.localStream = await navigator.mediaDevices.getUserMedia(this.media);
    }
    this._open(false);
    this._timers.push(setInterval(() => this._keepAlive(), this.pingIntervalMs));
    this._timers.push(setInterval(() => this._reportStats(), this.statsIntervalMs));
  }

  admit(participantId) {
    this._send({ type: "admit", participant: participantId });
  }

  remove(participantId, reason = "") {
    this._send({ type: "remove", participant: participantId, reason });
  }

  leave() {
    this._send({ type: "leave" });
    this._end("left");
  }

  // The hearing is over: leave the room for good and release the camera and microphone. A
  // call hung up this way reports ended with over, which no page answers by joining again.
  hangUp() {
    this._send({ type: "leave" });
    this._end("over");
    releaseMedia(this.localStream);
  }

  get waiting() {
    return [...this.participants.values()].filter((p) => !p.admitted);
  }

  // -- socket ------------------------------------------------------------------

  _open(resume) {
    this._resuming = resume;
    this._setState(resume ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    ws.onopen = () => {
      this._lastHeard = Date.now();
      if (resume) {
        ws.send(JSON.stringify({
          type: "resume",
          v: PROTOCOL_VERSION,
          case_id: this.caseId,
          participant: this.me.id,
          resume_token: this.resumeToken,
          last_seq: this.lastSeq,
        }));
      } else {
        ws.send(JSON.stringify({
          type: "join", v: PROTOCOL_VERSION, case_id: this.caseId, token: this.token,
        }));
      }
    };
    ws.onmessage = (event) => {
      this._lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this._onMessage(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._onClose(event.code);
    };
  }

  _send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    // While the socket is down, signaling is dropped on purpose: the ICE
    // restart after resume renegotiates whatever was lost.
    return false;
  }

  _onClose(code) {
    if (this.state === "closed") return;
    if (code === CLOSE_OVER) {
      this._end("over");
      releaseMedia(this.localStream);
      return;
    }
    if (FINAL_CLOSE_CODES.has(code)) {
      this._end(`closed (${code})`);
      return;
    }
    if (!this.me) {
      // Never welcomed: the server was stopping or unreachable; a fresh join may do.
      this._end(`closed (${code})`, true);
      return;
    }
    if (!this._dropAt) this._dropAt = Date.now();
    if (Date.now() - this._dropAt > this.graceSeconds * 1000) {
      this._end("grace period over", true);
      return;
    }
    const delays = this.reconnectDelayMs;
    const delay = delays[Math.min(this._attempt, delays.length - 1)];
    this._attempt += 1;
    this._setState("reconnecting");
    setTimeout(() => {
      if (this.state !== "closed") this._open(true);
    }, delay);
  }

  _keepAlive() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    // Browsers cannot see WebSocket pings: an application ping tells a dead
    // socket (changed network, sleeping laptop) from a quiet one.
    if (Date.now() - this._lastHeard > this.pingIntervalMs * 2) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
      this._onClose(1006);
      return;
    }
    this._send({ type: "ping" });
  }

  _end(reason, rejoin = false) {
    if (this.state === "closed") return;
    this._setState("closed");
    for (const timer of this._timers) clearInterval(timer);
    this._timers = [];
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    const over = reason === "over";
    this._emit("ended", { reason, rejoin: rejoin && !over, over });
  }

  // -- protocol --------------------------------------------------------------

  _onMessage(message) {
    if (typeof message.seq === "number") this.lastSeq = message.seq;
    switch (message.type) {
      case "welcome":
        this._onWelcome(message);
        break;
      case "resumed":
        this._onResumed(message);
        break;
      case "admitted":
        this.me.admitted = true;
        this._setParticipants(message.participants);
        this._setState("admitted");
        this._emit("admitted", { participants: message.participants });
        this._connectAdmitted();
        break;
      case "presence":
        this._onPresence(message);
        break;
      case "signal":
        if (this.me && this.me.admitted) this._onSignal(message);
        break;
      case "recording":
        // The server's recorder: state recording|stopped|failed (judge only; failed needs action).
        this._emit("recording", message);
        break;
      case "quality":
        this._emit("quality", message);
        break;
      case "mediation":
        // A mediation room's session or agreement changed: the page reads it again.
        this._emit("mediation", message);
        break;
      case "removed":
        this._emit("removed", { reason: message.reason });
        this._end("removed by the host");
        break;
      case "error":
        this._emit("error", { code: message.code, message: message.message, ref: message.ref });
        // The seat is gone (the grace period passed, or the server restarted and lost it):
        // resuming cannot help, a fresh join can.
        if (message.code === "resume_failed") this._end("resume failed", true);
        break;
      default:
        break; // pong, and types of later protocol versions
    }
  }

  _onWelcome(message) {
    // Before any peer connection exists: links opened later all use the server's policy.
    if (ICE_TRANSPORT_POLICIES.has(message.ice_transport_policy)) {
      this.iceTransportPolicy = message.ice_transport_policy;
    }
    this.me = message.you;
    this.room = message.room;
    this.resumeToken = message.resume_token;
    this.graceSeconds = message.grace_seconds;
    this._setParticipants(message.participants);
    this._emit("welcome", message);
    this._setState(this.me.admitted ? "admitted" : "lobby");
    if (!this.me.admitted) this._emit("lobby", { waiting: [this.me], self: true });
    else this._emitLobby();
    this._connectAdmitted();
  }

  _onResumed(message) {
    this._dropAt = 0;
    this._attempt = 0;
    this.me = message.you;
    this._setParticipants(message.participants);
    for (const [id, peer] of this.peers) {
      const p = this.participants.get(id);
      if (!p || !p.admitted) {
        peer.close();
        this.peers.delete(id);
      }
    }
    this._setState(this.me.admitted ? "admitted" : "lobby");
    this._emit("resumed", { replayed: message.replayed, complete: message.complete });
    this._emitLobby();
    this._connectAdmitted();
    // Our network may have changed while we were away: new candidates for every link.
    for (const peer of this.peers.values()) peer.restartIce();
  }

  _onPresence({ event, participant, reason }) {
    if (event === "left" || event === "removed") {
      this.participants.delete(participant.id);
      const peer = this.peers.get(participant.id);
      if (peer) {
        peer.close();
        this.peers.delete(participant.id);
      }
    } else {
      this.participants.set(participant.id, participant);
    }
    this._emit("presence", { event, participant, reason });
    if (event === "joined" || event === "admitted" || event === "left" || event === "removed") {
      this._emitLobby();
    }
    if (event === "admitted" && this.me && this.me.admitted) this._peer(participant.id);
  }

  _onSignal(message) {
    const description = message.description;
    if (!this.participants.has(message.from) && description && description.type === "offer") {
      // Only the hidden recorder signals without being in our list. It offers each capture on
      // a new connection (it cannot renegotiate): answer on a fresh link, never offer to it.
      const old = this.peers.get(message.from);
      if (old) old.close();
      this.peers.delete(message.from);
      this._peer(message.from, -1);
    }
    this._peer(message.from).onSignal(message);
  }

  _setParticipants(list) {
    this.participants = new Map(list.map((p) => [p.id, p]));
  }

  _emitLobby() {
    if (this.me && this.me.admitted) this._emit("lobby", { waiting: this.waiting, self: false });
  }

  _connectAdmitted() {
    if (!this.me || !this.me.admitted) return;
    // We are the newcomer to these people: they offer to us (they heard we were
    // admitted); we offer only if they do not, e.g. a peer that never offers.
    for (const p of this.participants.values()) {
      if (p.admitted) this._peer(p.id, this.offerWaitMs);
    }
  }

  _peer(id, waitMs = 0) {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = new PeerLink(this, id, waitMs);
      this.peers.set(id, peer);
    }
    return peer;
  }

  // -- stats ---------------------------------------------------------------------

  async _reportStats() {
    if (!this.me || !this.me.admitted || this.peers.size === 0) return;
    let lost = 0;
    let received = 0;
    let bytes = 0;
    const rtts = [];
    for (const [id, peer] of this.peers) {
      let report;
      try {
        report = await peer.pc.getStats();
      } catch {
        continue;
      }
      const now = { lost: 0, received: 0, bytes: 0 };
      report.forEach((s) => {
        if (s.type === "inbound-rtp") {
          now.lost += Math.max(0, s.packetsLost || 0);
          now.received += s.packetsReceived || 0;
          now.bytes += s.bytesReceived || 0;
        } else if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime) {
          rtts.push(s.currentRoundTripTime * 1000);
        }
      });
      const before = this._statsBase.get(id) || { lost: 0, received: 0, bytes: 0 };
      this._statsBase.set(id, now);
      lost += Math.max(0, now.lost - before.lost);
      received += Math.max(0, now.received - before.received);
      bytes += Math.max(0, now.bytes - before.bytes);
    }
    const total = lost + received;
    const stats = {
      packet_loss: total > 0 ? lost / total : 0,
      rtt_ms: rtts.length ? Math.max(...rtts) : null,
      bitrate_kbps: (bytes * 8) / this.statsIntervalMs,
    };
    this._send({ type: "stats", ...stats });
    this._emit("stats", stats);
  }

  // -- helpers -------------------------------------------------------------------

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

// One link to one remote participant, following the perfect-negotiation pattern
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example).
//
// Who offers first: the participant already in the room, when it hears that
// someone was admitted. The newcomer adds its tracks when that offer arrives, or
// offers itself after offerWaitMs if none does. Both sides offering at once is
// still settled by the pattern, but it is kept off the common path: a rollback
// during ICE gathering has been seen to leave Chromium 156 gathering forever.
class PeerLink {
  constructor(call, remoteId, waitMs = 0) {
    this.call = call;
    this.remoteId = remoteId;
    // Deterministic and agreed by both sides without a message: the lower id
    // yields when both offer at once.
    this.polite = call.me.id < remoteId;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.isSettingRemoteAnswerPending = false;
    this.queue = Promise.resolve();
    // For diagnostics pages and tests: what went each way on this link.
    this.counts = { sent: 0, received: 0, ignored: 0, candidateErrors: 0 };

    const pc = new RTCPeerConnection({
      iceServers: call.iceServers,
      iceTransportPolicy: call.iceTransportPolicy,
    });
    this.pc = pc;
    this.tracksAdded = false;
    this.waitTimer = null;

    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || new MediaStream([track]);
      call._emit("track", { participant: remoteId, track, stream });
    };
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this._signal({ description: pc.localDescription.toJSON() });
      } catch (err) {
        call._emit("error", { code: "negotiation", message: String(err), ref: remoteId });
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) this._signal({ candidate: candidate.toJSON() });
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "failed") pc.restartIce();
    };
    pc.onconnectionstatechange = () => {
      call._emit("peerstate", { participant: remoteId, state: pc.connectionState });
    };
    if (waitMs > 0) {
      this.waitTimer = setTimeout(() => {
        if (!pc.remoteDescription) this.addTracks();
      }, waitMs);
    } else if (waitMs === 0) {
      this.addTracks();
    } // waitMs < 0: answer only (the recorder); tracks ride on its offer
  }

  addTracks() {
    // Adding tracks fires negotiationneeded, which offers.
    if (this.tracksAdded || this.pc.signalingState === "closed") return;
    this.tracksAdded = true;
    clearTimeout(this.waitTimer);
    const stream = this.call.localStream;
    for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
  }

  onSignal(message) {
    this.counts.received += 1;
    // In order, one at a time: a candidate must not overtake its description.
    this.queue = this.queue.then(() => this._handle(message));
  }

  async _handle({ description, candidate }) {
    const pc = this.pc;
    try {
      if (description) {
        const readyForOffer =
          !this.makingOffer &&
          (pc.signalingState === "stable" || this.isSettingRemoteAnswerPending);
        const offerCollision = description.type === "offer" && !readyForOffer;
        this.ignoreOffer = !this.polite && offerCollision;
        if (this.ignoreOffer) {
          this.counts.ignored += 1;
          return;
        }
        this.isSettingRemoteAnswerPending = description.type === "answer";
        await pc.setRemoteDescription(description); // rolls back our offer if polite
        this.isSettingRemoteAnswerPending = false;
        if (description.type === "offer") {
          // Our tracks ride on the transceivers the offer created: no second round.
          this.addTracks();
          await pc.setLocalDescription();
          this._signal({ description: pc.localDescription.toJSON() });
        }
      } else if (candidate) {
        try {
          await pc.addIceCandidate(candidate);
        } catch (err) {
          this.counts.candidateErrors += 1;
          if (!this.ignoreOffer) throw err;
        }
      }
    } catch (err) {
      this.call._emit("error", { code: "negotiation", message: String(err), ref: this.remoteId });
    }
  }

  restartIce() {
    this.pc.restartIce();
  }

  _signal(payload) {
    this.counts.sent += 1;
    this.call._send({ type: "signal", to: this.remoteId, ...payload });
  }

  close() {
    clearTimeout(this.waitTimer);
    this.pc.close();
  }
}
