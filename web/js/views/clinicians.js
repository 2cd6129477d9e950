// An endpoint's clinicians: who has launched visits through it, whether each organises their own meetings (their
// one-time Microsoft 365 sign-in), and unlinking one (audited; they are asked to sign in again on their next launch).

import { get, post } from "../api.js";
import { act, alertBox, announce, h, load, section, table, when } from "../ui.js";

export function cliniciansPanel(endpoint) {
  const body = h("div");
  const rows = [];
  const render = (page, refresh) => {
    rows.push(...page.items);
    const more = page.continuation ? h("button", { type: "button" }, "Show more") : null;
    more?.addEventListener("click", () => act(more, body, async () => {
      render(await get(`portal/endpoints/${endpoint.id}/clinicians`, { continuation: page.continuation }), refresh);
    }));
    body.replaceChildren(table([
      ["EHR user", (c) => h("code", {}, c.ehr_user_id)],
      ["Microsoft 365", (c) => (c.linked ? `Linked ${when(c.linked_at)}` : "Not linked: the service organizer")],
      ["Last launch", (c) => when(c.last_seen_at)],
      ["Action", (c) => {
        if (!c.linked) return "—";
        const button = h("button", { type: "button", "aria-label": `Unlink ${c.ehr_user_id}` }, "Unlink");
        const cell = h("div", {}, button, alertBox());
        button.addEventListener("click", () => {
          if (!window.confirm(`Unlink ${c.ehr_user_id}? Their next meetings have the service organizer until they sign in again.`)) return;
          act(button, cell, async () => {
            await post(`portal/endpoints/${endpoint.id}/clinicians/unlink`, { ehr_user_id: c.ehr_user_id });
            announce(`${c.ehr_user_id} unlinked`);
            await refresh();
          });
        });
        return cell;
      }],
    ], rows, { caption: "Clinicians", empty: "No clinician has launched a visit through this URL yet." }), more || "");
  };
  const refresh = () => {
    rows.length = 0;
    return load(body, () => get(`portal/endpoints/${endpoint.id}/clinicians`), (page) => render(page, refresh),
      "Loading clinicians");
  };
  refresh();
  return section("Clinicians",
    h("p", {}, endpoint.clinician_sign_in
      ? "Clinicians sign in to Microsoft 365 on their first launch, and then organise their own meetings."
      : "Clinicians' Microsoft 365 sign-in is off for this URL: meetings have the service organizer."), body);
}
