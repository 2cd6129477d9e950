// Integration records: what the EHR analyst enters into the EHR for each approved FHIR base URL, every value
// with a copy button.

import { get } from "../api.js";
import { copyButton, empty, h, load, section } from "../ui.js";

function recordCard(endpointLabel, record) {
  return h("article", { class: "record", "data-kind": record.kind },
    h("h3", {}, record.title),
    h("p", { class: "hint" }, record.description),
    h("dl", { class: "values" }, record.values.flatMap((item) => [
      h("dt", {}, item.name),
      h("dd", {}, h("code", {}, item.value), copyButton(item.value, `${record.title}: ${item.name} (${endpointLabel})`)),
    ])));
}

export function recordsPanel(container) {
  load(container, () => get("portal/endpoints"), async ({ items }) => {
    const approved = items.filter((e) => e.status === "approved");
    const waiting = items.filter((e) => e.status !== "approved");
    if (!approved.length) {
      container.append(empty("No FHIR base URL is approved yet: the records appear here once its approver approves it."));
    }
    for (const endpoint of approved) {
      const label = endpoint.display_name || endpoint.base_url;
      const body = h("div");
      container.append(section(label, h("p", { class: "hint" }, endpoint.base_url), body));
      await load(body, () => get(`portal/endpoints/${endpoint.id}/integration-records`),
        (records) => body.append(...records.records.map((r) => recordCard(label, r))), "Loading the records");
    }
    if (waiting.length) {
      container.append(h("p", { class: "hint" }, `Not approved yet: ${waiting.map((e) => e.display_name || e.base_url).join(", ")}.`));
    }
  }, "Loading the integration records");
}

export function recordsPage(main) {
  main.append(h("h1", {}, "Integration records"),
    h("p", {}, "Enter these into the EHR: the provider and patient launch records, the SMS records and the device test record."));
  const body = h("div");
  main.append(body);
  recordsPanel(body);
}
