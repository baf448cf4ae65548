// The live view: one <img> per MJPEG stream, the class legend, and the /diagnostics figures
// polled from /api/status. Plain JS, no build step, no network beyond this server.
"use strict";
const ORDER = ["overlay", "fused", "segmentation_color", "rgb", "thermal"];
const POLL_MS = 1000;
// The figures an engineer looks at first, per diagnostics status (all keys are shown below).
const KEY_FIGURES = [
  "rgb_rate_hz", "thermal_rate_hz", "output_rate_hz", "inference_p50_ms", "inference_p95_ms",
  "e2e_age_p50_ms", "e2e_age_p95_ms", "processed", "dropped_busy", "synced_pairs",
  "malformed", "malformed_recent", "since_last_pair_s", "stamp_offset_s", "sync_resets",
];
let streamsShown = "";
let legendShown = "";
let diagShown = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function countLoaded() {
  const imgs = [...document.querySelectorAll("#views img")];
  document.body.dataset.loaded = imgs.filter((i) => i.naturalWidth > 0).length;
  document.body.dataset.images = imgs.length;
}

function showStreams(streams) {
  const names = streams.map((s) => s.name);
  names.sort((a, b) => {
    const ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const key = names.join(",");
  if (key === streamsShown) return;
  streamsShown = key;
  const views = document.getElementById("views");
  views.replaceChildren();
  for (const name of names) {
    const img = el("img", { alt: name, src: `/stream/${encodeURIComponent(name)}.mjpg` });
    img.addEventListener("load", countLoaded);
    img.addEventListener("error", () => {  // refused (503) or server restarted: try again
      setTimeout(() => { img.src = `/stream/${encodeURIComponent(name)}.mjpg?t=${Date.now()}`; },
                 3000);
    });
    const snap = el("a", { href: `/snapshot/${encodeURIComponent(name)}.jpg`, target: "_blank" },
                    "snapshot");
    views.append(el("figure", {}, img, el("figcaption", {}, name, snap)));
  }
}

function showLegend(legend) {
  if (!legend || !legend.classes) return;
  const key = JSON.stringify(legend);
  if (key === legendShown) return;
  legendShown = key;
  const ul = document.getElementById("legend");
  ul.replaceChildren();
  for (const c of legend.classes) {
    const sw = el("span", { class: "swatch" });
    sw.style.background = `rgb(${c.color.join(",")})`;
    ul.append(el("li", {}, sw, `${c.id} ${c.name}`));
  }
  document.body.dataset.classes = legend.classes.length;
}

function showDiagnostics(statuses) {
  const box = document.getElementById("diagnostics");
  const key = JSON.stringify(statuses);
  if (!statuses.length || key === diagShown) return;
  diagShown = key;  // figures changed: count it (the page's own liveness, read by the tests)
  document.body.dataset.diagUpdates = Number(document.body.dataset.diagUpdates || 0) + 1;
  box.replaceChildren();
  for (const st of statuses) {
    const keys = Object.keys(st.values);
    keys.sort((a, b) => {
      const ia = KEY_FIGURES.indexOf(a), ib = KEY_FIGURES.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    const rows = keys.map((k) => {
      const td = el("td", {}, st.values[k]);
      td.dataset.key = k;
      return el("tr", {}, el("td", {}, k), td);
    });
    box.append(el("div", { class: `status ${st.level}` },
      el("strong", {}, st.name), " ", el("span", { class: `badge ${st.level}` }, st.level),
      el("div", {}, st.message), el("table", {}, ...rows)));
    if ("processed" in st.values) document.body.dataset.processed = st.values.processed;
  }
}

function showWeb(web) {
  const watching = web.clients.length;
  document.getElementById("web").textContent =
    `${watching} stream(s) served, at most ${web.max_clients}; ` +
    `${web.max_fps} frames/s per stream, JPEG quality ${web.quality}; refused ${web.refused}`;
}

async function poll() {
  const conn = document.getElementById("conn");
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    const s = await r.json();
    document.getElementById("title").textContent = `${s.title} live view`;
    document.title = `${s.title} live view`;
    showStreams(s.streams);
    showLegend(s.legend);
    showDiagnostics(s.diagnostics);
    showWeb(s.web);
    countLoaded();
    document.body.dataset.polls = Number(document.body.dataset.polls) + 1;
    conn.textContent = "live";
    conn.className = "badge OK";
  } catch (e) {
    conn.textContent = "disconnected";
    conn.className = "badge ERROR";
  }
  setTimeout(poll, POLL_MS);
}

poll();
