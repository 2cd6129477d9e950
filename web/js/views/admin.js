// What an admin looks after once the connector runs: failed EHR writebacks (with replay) and the audit log.

import { get, post } from "../api.js";
import { act, alertBox, announce, h, load, table, when } from "../ui.js";

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

export function auditPage(main) {
  const rows = [];
  const list = h("div");
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let continuation = null;
  const render = () => {
    list.replaceChildren(table([
      ["When", (e) => when(e.at)],
      ["Who", (e) => e.user_id],
      ["Action", (e) => e.action],
      ["What", (e) => `${e.entity} ${e.entity_id}`],
      ["Fields", (e) => e.fields.join(", ") || "—"],
    ], rows, { caption: "Audit log, newest first", empty: "Nothing has been changed yet." }));
    more.hidden = !continuation;
  };
  const add = (result) => {
    rows.push(...result.items);
    continuation = result.continuation;
    render();
  };
  more.addEventListener("click", () => act(more, main, async () => add(await get("portal/audit", { continuation }))));
  main.append(h("h1", {}, "Audit log"), h("p", {}, "Who changed what and when. Field names only, never values."), alertBox(), list, more);
  load(list, () => get("portal/audit"), add, "Loading the audit log");
}
