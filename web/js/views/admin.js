// What an admin looks after once the connector runs: failed EHR writebacks (with replay) and the audit log.

import { download, get, post } from "../api.js";
import { act, alertBox, announce, field, h, load, table, when, zoneLabel } from "../ui.js";

const FAILURE_TEXT = { retrying: "Retrying", failed: "Failed", replayed: "Replayed" };

export function writebacksPage(main) {
  const list = h("div", { "aria-live": "polite" });
  const refresh = () => load(list, () => get("portal/writebacks/failed"), ({ items }) => list.append(table([
    ["Appointment", (f) => f.appointment_key],
    ["Event", (f) => f.event_type],
    ["Status", (f) => h("span", { class: `badge badge-${f.status}` }, FAILURE_TEXT[f.status] || f.status)],
    ["Attempts", (f) => String(f.attempts)],
    ["Last error", (f) => f.last_error],
    ["Last failed", (f) => when(f.last_failed_at)],
    ["Action", (f) => {
      if (f.status !== "failed") return f.replayed_at ? `Replayed ${when(f.replayed_at)}` : "—";
      const button = h("button", { type: "button", "aria-label": `Replay the writeback of ${f.appointment_key}` }, "Replay");
      const cell = h("div", {}, button, alertBox());
      button.addEventListener("click", () => act(button, cell, async () => {
        await post(`portal/writebacks/failed/${encodeURIComponent(f.id)}/replay`);
        announce("Writeback queued again");
        await refresh();
      }));
      return cell;
    }],
  ], items, { caption: "Writebacks that failed or are being retried", empty: "No failed writebacks: everything reached the EHR." })), "Loading failed writebacks");
  main.append(h("h1", {}, "Failed writebacks"),
    h("p", {}, "Connects and disconnects the EHR did not accept after every retry. Replay sends them again; events that reached the EHR before are not sent twice."),
    list);
  refresh();
}

const ACTIONS = [["", "All"], ["create", "Created"], ["update", "Changed"], ["submit", "Submitted for approval"],
  ["validate", "Signed in to the EHR"], ["approve", "Approved"], ["reject", "Rejected"], ["delete", "Deleted"],
  ["release_url", "Released a FHIR base URL"], ["upload", "Uploaded a certificate"], ["consent", "Accepted terms"],
  ["order", "Ordered a phone number"], ["release", "Released a phone number"], ["acquired", "Phone number acquired"],
  ["released", "Phone number released"], ["link", "Linked"], ["unlink", "Unlinked"], ["invite", "Invited a guest"],
  ["replay", "Replayed a writeback"], ["resend", "Sent a text again"]];

// Who: the name and e-mail their sign-in gave at the time; entries from before those were kept have the user ID only.
const who = (e) => (e.name || e.email
  ? h("span", {}, e.name || e.email, e.name && e.email ? h("br") : "", e.name && e.email ? h("small", {}, e.email) : "")
  : h("span", { title: "Recorded before names were kept" }, `User ${e.user_id}`));

export function auditPage(main) {
  const rows = [];
  const list = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Show");
  const exportButton = h("button", { type: "button" }, "Export CSV");
  const form = h("form", { class: "filters card", novalidate: true, "aria-label": "Audit log filters" },
    alert,
    h("div", { class: "grid" },
      field({ label: "Person", name: "person", hint: "E-mail or user ID; blank for everyone." }),
      field({ label: "Action", name: "action", type: "select", value: "", options: ACTIONS }),
      field({ label: "From", name: "start", type: "date" }),
      field({ label: "To (inclusive)", name: "end", type: "date" })),
    h("div", { class: "actions" }, submit, exportButton));
  let continuation = null;
  let filters = {};
  const render = () => {
    list.replaceChildren(table([
      ["When", (e) => when(e.at)],
      ["Who", who],
      ["What", (e) => e.summary],
      ["Fields", (e) => e.fields.join(", ") || "—"],
    ], rows, { caption: `Audit log, newest first (times in ${zoneLabel()})`, empty: "No changes match these filters." }));
    more.hidden = !continuation;
  };
  const add = (result) => {
    rows.push(...result.items);
    continuation = result.continuation;
    render();
  };
  const read = () => Object.fromEntries(["person", "action", "start", "end"].map((n) => [n, form.elements[n].value.trim()]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      filters = read();
      const result = await get("portal/audit", filters);
      rows.length = 0;
      add(result);
    });
  });
  exportButton.addEventListener("click", () => act(exportButton, form, () => download("portal/audit", read(), "audit-log.csv")));
  more.addEventListener("click", () => act(more, form, async () => add(await get("portal/audit", { ...filters, continuation }))));
  main.append(h("h1", {}, "Audit log"),
    h("p", {}, "Who changed what and when: each person as their sign-in named them at the time. Field names only, never values."),
    form, list, more);
  load(list, () => get("portal/audit"), add, "Loading the audit log");
}
