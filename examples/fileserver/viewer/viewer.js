// The log viewer: reads /_logs (chunked NDJSON from tail.Tail) with the
// filters in this page's query, and shows the records newest first. Every
// value is set with textContent, so nothing written into the log becomes
// markup.
"use strict";

const maxRows = 5000;
const shown = new Set(["time", "level", "msg", "event", "event_id", "user", "request_id",
  "http.request.method", "url.path", "client.address", "user_agent.original",
  "http.response.status_code", "request_end"]);

const params = new URLSearchParams(location.search);
const rows = document.getElementById("rows");
const state = document.getElementById("state");
let count = 0;

// The key comes in the fragment, which is never sent to a server; it is
// kept for this tab only and taken out of the address bar.
function viewerKey() {
  const frag = new URLSearchParams(location.hash.slice(1));
  const k = frag.get("key");
  if (k) {
    sessionStorage.setItem("viewer-key", k);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("viewer-key") || "";
}

function live() {
  const v = params.getAll("live");
  return v.length === 0 || v[v.length - 1] !== "0";
}

// fillForm shows the filters in force. It sets the default values, which
// are the attributes, so that a saved or dumped page shows them too.
function fillForm() {
  document.getElementById("f-user").defaultValue = params.get("user") || "";
  document.getElementById("f-event").defaultValue = params.get("event") || "";
  for (const o of document.getElementById("f-status").options) {
    o.defaultSelected = o.value === (params.get("status") || "");
  }
  document.getElementById("f-live").defaultChecked = live();
}

function cell(tr, cls, text, title) {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text == null ? "" : String(text);
  if (title) td.title = title;
  tr.appendChild(td);
  return td;
}

function userOf(rec) {
  const u = rec.user;
  if (u == null) return "";
  if (typeof u !== "object") return String(u);
  return u.name || u.id || u.email || "";
}

function details(rec) {
  const parts = [rec.msg || ""];
  for (const [k, v] of Object.entries(rec)) {
    if (!shown.has(k)) parts.push(k + "=" + (typeof v === "string" ? v : JSON.stringify(v)));
  }
  return parts.join("  ");
}

function add(tr) {
  rows.prepend(tr);
  if (rows.children.length > maxRows) rows.lastElementChild.remove();
}

function addRecord(rec) {
  const tr = document.createElement("tr");
  tr.className = "record " + (rec.level || "");
  const status = rec["http.response.status_code"];
  tr.dataset.time = rec.time || "";
  tr.dataset.event = rec.event || "";
  tr.dataset.user = userOf(rec);
  tr.dataset.status = status == null ? "" : String(status);
  cell(tr, "time", (rec.time || "").replace("T", " ").replace(/(\.\d{3})\d*/, "$1"), rec.time);
  cell(tr, "level", rec.level);
  cell(tr, "event", rec.event);
  cell(tr, "user", tr.dataset.user, rec.user && rec.user.id ? "id " + rec.user.id : "");
  cell(tr, "status " + (status ? "s" + String(status)[0] : ""), status);
  cell(tr, "request", [rec["http.request.method"], rec["url.path"]].filter(Boolean).join(" "), rec["client.address"]);
  cell(tr, "details", details(rec));
  add(tr);
  count++;
}

function addDropped(n) {
  const tr = document.createElement("tr");
  tr.className = "dropped";
  const td = cell(tr, "details", n + " records lost here: the viewer fell behind the log");
  td.colSpan = 7;
  add(tr);
}

function say(text, error) {
  state.textContent = text;
  state.className = error ? "error" : "";
}

async function read() {
  const q = new URLSearchParams();
  for (const k of ["user", "event", "status", "since", "until"]) {
    const v = params.get(k);
    if (v) q.set(k, v);
  }
  q.set("history", params.get("history") || "1000");
  q.set("follow", live() ? "true" : "false");
  let resp;
  try {
    resp = await fetch("/_logs?" + q, {
      headers: { "Authorization": "Bearer " + viewerKey() },
      cache: "no-store",
    });
  } catch (e) {
    say("Cannot reach the log: " + e, true);
    return;
  }
  if (resp.status === 401 || resp.status === 403) {
    say("No access to the log (" + resp.status + "): open the viewer address the demo printed, with its #key=…", true);
    return;
  }
  if (!resp.ok) {
    say("The log answered " + resp.status + ": " + (await resp.text()), true);
    return;
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const status = () => count + " records" + (live() ? ", live" : "");
  say(status());
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line) continue;
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof rec["tail.dropped"] === "number") addDropped(rec["tail.dropped"]);
      else addRecord(rec);
    }
    say(status());
  }
  say(count + " records" + (live() ? ", stream ended" : ""));
}

fillForm();
read();
