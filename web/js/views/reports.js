// Reports: visits over a period (filters narrow the table, the totals, the charts and the CSV alike), texts,
// and call quality where the meeting provider reports it.

import { download, get } from "../api.js";
import { barChart } from "../charts.js";
import {
  act, alertBox, clearProblem, duration, field, h, load, section, showProblem, table, when, zoneLabel,
} from "../ui.js";

const STATUS = { completed: "Completed", no_show: "No-show", in_progress: "In progress" };
const WAIT_BINS = [[0, 60, "<1"], [60, 120, "1–2"], [120, 300, "2–5"], [300, 600, "5–10"], [600, 900, "10–15"], [900, Infinity, "15+"]];
const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

function daysOf(range) {
  const days = [];
  for (let d = new Date(`${range.start}T00:00:00Z`); d <= new Date(`${range.end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

function visitsPerDay(report) {
  const days = daysOf(report.range);
  const counts = new Map(days.map((d) => [d, 0]));
  for (const row of report.items) {
    const at = row.day;
    if (counts.has(at)) counts.set(at, counts.get(at) + 1);
  }
  const values = days.map((d) => counts.get(d));
  const busiest = Math.max(0, ...values);
  return barChart({
    title: "Visits per day (UTC)",
    label: "Visits",
    labels: days.map((d) => dayLabel.format(new Date(`${d}T00:00:00Z`))),
    values,
    summary: `${report.items.length} visits over ${days.length} days; at most ${busiest} in one day.`,
  });
}

function lobbyWaits(report) {
  const waits = report.items.map((r) => r.lobby_wait_seconds).filter((w) => w !== null && w !== undefined);
  const values = WAIT_BINS.map(([low, high]) => waits.filter((w) => w >= low && w < high).length);
  return barChart({
    title: "Lobby wait (minutes)",
    label: "Visits",
    labels: WAIT_BINS.map(([, , text]) => text),
    values,
    color: "#7a4eab",
    summary: waits.length
      ? `${waits.length} patients waited in the lobby; ${values[0]} of them under a minute.`
      : "No lobby waits in this period.",
  });
}

function smsOutcomes(sms) {
  const names = [["sent", "Sent"], ["delivered", "Delivered"], ["failed", "Failed"], ["opted_out", "Opted out"], ["skipped", "Not sent"]];
  return barChart({
    title: "SMS delivery outcomes",
    label: "Texts",
    labels: names.map(([, text]) => text),
    values: names.map(([key]) => sms.totals[key]),
    color: "#1f7a5a",
    summary: `${sms.totals.sent} texts sent in ${sms.totals.segments} SMS segments, ${sms.totals.delivered} delivered, ${sms.totals.failed} failed, ${sms.totals.opted_out} opted out, ${sms.totals.skipped} not sent; ${sms.confirmations ?? 0} visits confirmed by reply.`,
  });
}

function tiles(totals) {
  const items = [
    ["Visits", totals.visits],
    ["Completed", totals.completed],
    ["No-shows", totals.no_show],
    ["Average duration", duration(totals.average_duration_seconds)],
    [totals.lobby_waits_estimated ? `Average lobby wait (${totals.lobby_waits_estimated} estimated)` : "Average lobby wait",
      duration(totals.average_lobby_wait_seconds)],
    ["Texts sent", totals.sms_sent],
  ];
  return h("dl", { class: "tiles" }, items.map(([name, value]) => h("div", { class: "tile" }, h("dt", {}, name), h("dd", {}, String(value)))));
}

function visitsTable(report, endpoints) {
  const name = (id) => endpoints.get(id) || id;
  return table([
    ["Visit", (r) => when(r.scheduled_start || r.start)],
    ["FHIR endpoint", (r) => name(r.endpoint_id)],
    ["Department", (r) => r.department_id || "—"],
    ["Scheduled", (r) => when(r.scheduled_start)],
    ["Start", (r) => when(r.start)],
    ["Duration", (r) => duration(r.duration_seconds)],
    ["Lobby wait", (r) => r.lobby_wait_seconds != null && r.lobby_wait_estimated ? `${duration(r.lobby_wait_seconds)} (estimated)` : duration(r.lobby_wait_seconds)],
    ["Attendees", (r) => attendees(r)],
    ["Status", (r) => h("span", { class: `badge badge-${r.status}` }, STATUS[r.status] || r.status)],
    ["Texts", (r) => String(r.sms_sent)],
  ], report.items, { caption: "Visits", empty: "No visits in this period with these filters." });
}

function attendees(row) {
  const guessed = row.estimated_roles || [];
  if (!guessed.length) return String(row.attendees);
  const counts = {};
  for (const role of guessed) counts[role] = (counts[role] || 0) + 1;
  const said = Object.entries(counts).map(([role, n]) => `${n} ${role}${n > 1 ? "s" : ""}`).join(", ");
  return `${row.attendees} (estimated: ${said})`;
}

function estimateNote(report) {
  const notes = [];
  if (report.totals.lobby_waits_estimated) {
    notes.push(h("p", { class: "hint" }, "Estimated lobby waits run from when the connector sent the patient to the meeting (their launch or text link) to their first appearance in it: Teams reports no lobby events."));
  }
  if (report.totals.visits_with_estimated_roles) {
    notes.push(h("p", { class: "hint" }, "Estimated roles: the meeting service does not say who a participant without a Microsoft 365 account is, so the connector matches them to the links it opened (the patient's, an interpreter's, a guest's). Where that cannot tell, the role is an estimate and the EHR is not told the patient arrived."));
  }
  return notes.length ? h("div", {}, notes) : null;
}

const share = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`);

function surveySection(surveys, endpoints, exportButton) {
  const t = surveys.totals;
  return section("Post-visit surveys",
    h("dl", { class: "tiles" },
      h("div", { class: "tile" }, h("dt", {}, "Surveys sent"), h("dd", {}, String(t.sent))),
      h("div", { class: "tile" }, h("dt", {}, "Response rate"), h("dd", {}, share(t.response_rate))),
      h("div", { class: "tile" }, h("dt", {}, "Average rating (1 to 5)"), h("dd", {}, num(t.average_rating))),
      h("div", { class: "tile" }, h("dt", {}, "Would choose video again"), h("dd", {}, share(t.would_choose_video_again)))),
    h("div", { class: "actions" }, exportButton),
    table([
      ["FHIR endpoint", (r) => endpoints.get(r.endpoint_id) || r.endpoint_id],
      ["Department", (r) => r.department_id || "— (by endpoint only)"],
      ["Sent", (r) => String(r.sent)],
      ["Answered", (r) => String(r.answered)],
      ["Response rate", (r) => share(r.response_rate)],
      ["Average rating", (r) => num(r.average_rating)],
      ["Would choose video again", (r) => share(r.would_choose_video_again)],
    ], surveys.items, { caption: "Surveys by endpoint and department", empty: "No surveys texted in this period." }),
    h("p", { class: "hint" }, surveys.note));
}

function smsTable(sms) {
  const rows = Object.entries(sms.by_type).map(([type, counts]) => ({ type, ...counts }));
  return table([
    ["Type", (r) => r.type],
    ["Sent", (r) => String(r.sent)],
    ["Segments", (r) => String(r.segments)],
    ["Delivered", (r) => String(r.delivered)],
    ["Failed", (r) => String(r.failed)],
    ["Opted out", (r) => String(r.opted_out)],
    ["Not sent", (r) => String(r.skipped)],
  ], rows, { caption: "Texts by type" });
}

function skipTable(sms) {
  const rows = Object.entries(sms.skip_reasons || {}).map(([reason, count]) => ({ reason, count }));
  return table([
    ["Why not sent", (r) => r.reason],
    ["Texts", (r) => String(r.count)],
  ], rows, { caption: "Texts not sent, by reason" });
}

const ROLE = { clinician: "Clinician", patient: "Patient", guest: "Guest" };
const utcDay = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }); // call records' UTC days
const num = (v, unit = "") => (v === null || v === undefined ? "—" : `${Math.round(v * 10) / 10}${unit}`);

function poorCallsPerDay(quality) {
  const days = daysOf(quality.range);
  const poor = new Map(quality.by_day.map((d) => [d.day, d.poor_calls]));
  const values = days.map((d) => poor.get(d) || 0);
  return barChart({
    title: "Visits with a poor stream, per day (UTC)",
    label: "Visits",
    labels: days.map((d) => dayLabel.format(new Date(`${d}T00:00:00Z`))),
    values,
    color: "#b3261e",
    summary: `${quality.poor_calls} of ${quality.calls} visits with a call record had a poor stream.`,
  });
}

function qualityTable(quality, endpoints) {
  return table([
    ["Visit", (r) => utcDay.format(new Date(`${r.day}T00:00:00Z`))],
    ["FHIR endpoint", (r) => endpoints.get(r.endpoint_id) || r.endpoint_id],
    ["Role", (r) => ROLE[r.role] || r.role],
    ["Jitter (avg / worst)", (r) => `${num(r.average_jitter_ms, " ms")} / ${num(r.worst_jitter_ms, " ms")}`],
    ["Packet loss (avg / worst)", (r) => `${num(r.average_packet_loss_percent, " %")} / ${num(r.worst_packet_loss_percent, " %")}`],
    ["Round trip (avg / worst)", (r) => `${num(r.average_round_trip_ms, " ms")} / ${num(r.worst_round_trip_ms, " ms")}`],
    ["Audio degradation", (r) => num(r.average_audio_degradation)],
    ["Quality", (r) => h("span", { class: `badge badge-${r.poor ? "failed" : "completed"}` },
      r.poor ? `Poor (${r.poor_streams} of ${r.streams} streams)` : "Good")],
  ], quality.items, { caption: "Call quality by visit and role", empty: "No call records in this period with these filters." });
}

function qualitySection(quality, endpoints, exportButton) {
  if (!quality.reported) return section("Call quality", h("p", {}, quality.detail));
  const roles = Object.entries(quality.by_role).map(([role, f]) =>
    h("div", { class: "tile" }, h("dt", {}, `${ROLE[role] || role}: jitter, loss, round trip`),
      h("dd", {}, `${num(f.average_jitter_ms, " ms")}, ${num(f.average_packet_loss_percent, " %")}, ${num(f.average_round_trip_ms, " ms")}`)));
  return section("Call quality",
    h("p", { class: "hint" }, quality.detail),
    h("dl", { class: "tiles" },
      h("div", { class: "tile" }, h("dt", {}, "Visits with call records"), h("dd", {}, String(quality.calls))),
      h("div", { class: "tile" }, h("dt", {}, "With a poor stream"), h("dd", {}, String(quality.poor_calls))), ...roles),
    h("div", { class: "charts" }, poorCallsPerDay(quality)),
    h("div", { class: "actions" }, exportButton), qualityTable(quality, endpoints));
}

function filterForm(endpoints, onShow) {
  const alert = alertBox();
  const days = field({ label: "Period", name: "days", type: "select", value: "30",
    options: [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"], ["custom", "Custom range"]] });
  const start = field({ label: "From", name: "start", type: "date" });
  const end = field({ label: "To (inclusive)", name: "end", type: "date" });
  const custom = h("div", { class: "grid", hidden: true }, start, end);
  const departments = h("datalist", { id: "departments" });
  const submit = h("button", { type: "submit", class: "primary" }, "Show");
  const form = h("form", { class: "filters card", novalidate: true, "aria-label": "Report period and filters" },
    alert,
    h("div", { class: "grid" }, days,
      field({ label: "FHIR endpoint", name: "endpoint_id", type: "select", value: "",
        options: [["", "All"], ...[...endpoints].map(([id, label]) => [id, label])] }),
      field({ label: "Department", name: "department_id", attrs: { list: "departments" }, hint: "As the EHR names it; blank for all." }),
      field({ label: "Status", name: "status", type: "select", value: "",
        options: [["", "All"], ["completed", "Completed"], ["no_show", "No-show"], ["in_progress", "In progress"]] })),
    custom, departments, submit);
  const select = days.querySelector("select");
  select.addEventListener("change", () => { custom.hidden = select.value !== "custom"; });
  const query = () => {
    const v = (n) => form.elements[n].value.trim();
    const range = v("days") === "custom" ? { start: v("start"), end: v("end") } : { days: v("days") };
    return { range, filters: { endpoint_id: v("endpoint_id"), department_id: v("department_id"), status: v("status") } };
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, () => onShow(query(), form));
  });
  return { form, query, departments };
}

export function reportsPage(main) {
  const results = h("div", { class: "report", "aria-live": "polite" });
  main.append(h("h1", {}, "Reports"),
    h("p", {}, `Times are in the organisation's time zone, ${zoneLabel()}; days, and the period, are UTC days. A visit starts when a clinician and a patient are first both connected and lasts until the last one leaves.`));
  const holder = h("div");
  main.append(holder);
  load(holder, () => get("portal/endpoints"), ({ items }) => {
    const endpoints = new Map(items.map((e) => [e.id, e.display_name || e.base_url]));
    const seen = new Set();
    const show = async ({ range, filters }, scope) => {
      const [visits, sms, quality, surveys] = await Promise.all([
        get("portal/reports/visits", { ...range, ...filters }),
        get("portal/reports/sms", range),
        get("portal/reports/call-quality", { ...range, endpoint_id: filters.endpoint_id, department_id: filters.department_id }),
        get("portal/reports/surveys", range),
      ]);
      clearProblem(scope);
      for (const row of visits.items) if (row.department_id) seen.add(row.department_id);
      controls.departments.replaceChildren(...[...seen].sort().map((d) => h("option", { value: d })));
      const exportVisits = h("button", { type: "button" }, "Export visits (CSV)");
      const exportSms = h("button", { type: "button" }, "Export texts (CSV)");
      const exportAlert = alertBox();
      exportVisits.addEventListener("click", () => act(exportVisits, exportAlert.parentElement, () => download("portal/reports/visits", { ...range, ...filters }, "visits.csv")));
      const exportQuality = h("button", { type: "button" }, "Export call quality (CSV)");
      const qualityFilters = { ...range, endpoint_id: filters.endpoint_id, department_id: filters.department_id };
      exportQuality.addEventListener("click", () => act(exportQuality, exportQuality.parentElement, () => download("portal/reports/call-quality", qualityFilters, "call-quality.csv")));
      const exportSurveys = h("button", { type: "button" }, "Export surveys (CSV)");
      exportSurveys.addEventListener("click", () => act(exportSurveys, exportSurveys.parentElement, () => download("portal/reports/surveys", range, "surveys.csv")));
      exportSms.addEventListener("click", () => act(exportSms, exportAlert.parentElement, () => download("portal/reports/sms", range, "sms.csv")));
      results.replaceChildren(
        h("p", { class: "range" }, `${visits.range.start} to ${visits.range.end}`),
        tiles(visits.totals),
        h("div", { class: "charts" }, visitsPerDay(visits), lobbyWaits(visits), smsOutcomes(sms)),
        section("Visits", h("div", { class: "actions" }, exportVisits, exportSms), exportAlert, visitsTable(visits, endpoints), estimateNote(visits)),
        section("Texts", smsTable(sms), skipTable(sms)),
        surveySection(surveys, endpoints, exportSurveys),
        qualitySection(quality, endpoints, exportQuality));
    };
    const controls = filterForm(endpoints, show);
    holder.append(controls.form, results);
    results.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading the reports…"));
    show(controls.query(), controls.form).catch((error) => {
      results.replaceChildren();
      showProblem(controls.form, error);
    });
  }, "Loading the reports");
}
