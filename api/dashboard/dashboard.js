// The dashboard: reads the insights API with the bearer token kept in this tab's session, draws it with Plotly
// (served by the API from the plotly package), and refreshes every REFRESH_MS.
"use strict";

const REFRESH_MS = 10000;
// ?surge_interval=PT1M judges surges by the minute (and draws the last hour by the minute); by default, the engine's
// interval and the last two days by the hour.
const SURGE_INTERVAL = new URLSearchParams(location.search).get("surge_interval");
const BY_MINUTE = SURGE_INTERVAL !== null && /^PT[0-9]+M$/.test(SURGE_INTERVAL);
const SHOWN = BY_MINUTE ? { step: "minute", hours: 1 } : { step: "hour", hours: 48 };
const TOKEN_KEY = "settlement-token";
const LAYOUT = { margin: { t: 10, r: 10, b: 40, l: 50 }, legend: { orientation: "h" }, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
const CONFIG = { displayModeBar: false, responsive: true };

class SignedOut extends Error {}

let timer = null;

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path) {
  const answer = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (answer.status === 401 || answer.status === 403) {
    throw new SignedOut((await answer.json()).detail || answer.statusText);
  }
  if (!answer.ok) {
    throw new Error(`${path}: ${answer.status}`);
  }
  return answer.json();
}

function show(signedIn) {
  document.getElementById("login").hidden = signedIn;
  document.getElementById("board").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
}

// The unit durations read best in: seconds, minutes, hours or days, by the longest shown.
const UNITS = [["days", 86400], ["hours", 3600], ["minutes", 60], ["seconds", 1]];

function unitFor(longest) {
  return UNITS.find(([, size]) => longest >= 2 * size) || UNITS[UNITS.length - 1];
}

function drawVolume(volume, surges) {
  const byRegion = new Map();
  for (const point of volume.points) {
    const series = byRegion.get(point.region) || new Map();
    series.set(point.at, (series.get(point.at) || 0) + point.orders);  // every currency's orders together
    byRegion.set(point.region, series);
  }
  const traces = [...byRegion.entries()].map(([region, series]) => {
    const times = [...series.keys()].sort();
    return { name: region, x: times, y: times.map((t) => series.get(t)), type: "scatter", mode: "lines+markers" };
  });
  const surging = surges.regions.filter((r) => r.surging);
  if (surging.length) {
    traces.push({
      name: "surge",
      x: surging.map(() => surges.interval_start),
      y: surging.map((r) => r.orders),
      text: surging.map((r) => `${r.region}: ${r.orders} orders, ${r.score} deviations above ${Math.round(r.baseline)}`),
      type: "scatter",
      mode: "markers+text",
      textposition: "top center",
      marker: { symbol: "triangle-up", size: 14, color: "#b3261e" },
    });
  }
  Plotly.react("volume", traces, { ...LAYOUT, yaxis: { title: { text: "orders" } } }, CONFIG);
  document.getElementById("surges").textContent = surging.length
    ? `Surging now: ${surging.map((r) => `${r.region} (${r.orders} orders against a baseline of ${Math.round(r.baseline)})`).join(", ")}`
    : "";
}

function drawFunnel(funnel) {
  const statuses = Object.keys(funnel.statuses);
  Plotly.react("funnel", [{ x: statuses, y: statuses.map((s) => funnel.statuses[s]), type: "bar" }], { ...LAYOUT, yaxis: { title: { text: "orders" } } }, CONFIG);
  const stages = funnel.stages.filter((s) => s.orders);
  const [unit, size] = unitFor(Math.max(0, ...stages.map((s) => s.p90_seconds || 0)));
  const inUnit = (seconds) => (seconds === null ? null : Math.round((seconds / size) * 10) / 10);
  Plotly.react(
    "stages",
    [
      { name: "median", x: stages.map((s) => s.stage), y: stages.map((s) => inUnit(s.p50_seconds)), type: "bar" },
      { name: "90th percentile", x: stages.map((s) => s.stage), y: stages.map((s) => inUnit(s.p90_seconds)), type: "bar" },
    ],
    { ...LAYOUT, barmode: "group", yaxis: { title: { text: unit } } },
    CONFIG,
  );
}

function drawRates(element, groups, rates) {
  const traces = rates.map(([field, label]) => ({
    name: label,
    x: groups.map((g) => g.key),
    y: groups.map((g) => (g[field] === null ? 0 : g[field] * 100)),
    type: "bar",
  }));
  Plotly.react(element, traces, { ...LAYOUT, barmode: "group", yaxis: { title: { text: "% of orders" }, ticksuffix: "%" } }, CONFIG);
}

function drawAttention(page) {
  const rows = page.orders.map((order) => {
    const row = document.createElement("tr");
    const since = order.timeline.length ? order.timeline[order.timeline.length - 1].at : "";
    for (const text of [order.order_id, order.attention?.step, order.attention?.reason, since]) {
      const cell = document.createElement("td");
      cell.textContent = text || "";
      row.append(cell);
    }
    const link = document.createElement("a");
    link.href = order.workflow.ui_url;
    link.textContent = "open";
    link.target = "_blank";
    link.rel = "noopener";
    const cell = document.createElement("td");
    cell.append(link);
    row.append(cell);
    return row;
  });
  document.querySelector("#attention tbody").replaceChildren(...rows);
}

async function refresh() {
  const since = new Date(Date.now() - SHOWN.hours * 3600 * 1000).toISOString();
  const surgesQuery = SURGE_INTERVAL ? `?interval=${encodeURIComponent(SURGE_INTERVAL)}` : "";
  const [volume, surges, funnel, sellers, centres, attention] = await Promise.all([
    api(`/v1/insights/volume?step=${SHOWN.step}&limit=5000&since=${encodeURIComponent(since)}`),
    api(`/v1/insights/surges${surgesQuery}`),
    api("/v1/insights/funnel"),
    api("/v1/insights/disputes?group_by=seller&limit=20"),
    api("/v1/insights/disputes?group_by=fulfillment_center&limit=20"),
    api("/v1/orders?status=needs_attention&limit=50"),
  ]);
  document.getElementById("volume-step").textContent = `per ${SHOWN.step}, the last ${SHOWN.hours === 1 ? "hour" : `${SHOWN.hours} hours`}`;
  drawVolume(volume, surges);
  drawFunnel(funnel);
  drawRates("disputes", sellers.groups, [["dispute_rate", "disputed"], ["refund_rate", "refunded"], ["chargeback_rate", "chargebacks"]]);
  drawRates("losses", centres.groups, [["late_rate", "late"], ["lost_rate", "lost"], ["damaged_rate", "damaged"]]);
  drawAttention(attention);
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

async function loop() {
  try {
    await refresh();
  } catch (error) {
    if (error instanceof SignedOut) {
      sessionStorage.removeItem(TOKEN_KEY);
      show(false);
      document.getElementById("login-error").textContent = `Not accepted: ${error.message}`;
      return;
    }
    document.getElementById("updated").textContent = `could not refresh: ${error.message}`;
  }
  timer = setTimeout(loop, REFRESH_MS);
}

function restart() {
  clearTimeout(timer);
  loop();
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  document.getElementById("login-error").textContent = "";
  show(true);
  restart();
});

document.getElementById("logout").addEventListener("click", () => {
  clearTimeout(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  show(false);
});

if (token()) {
  show(true);
  restart();
} else {
  show(false);
}
