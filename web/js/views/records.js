// Integration records: what the EHR analyst enters into the EHR for each approved FHIR base URL, every value
// with a copy button; one page per environment, printable and exportable as CSV.

import { download, get } from "../api.js";
import { act, alertBox, copyButton, empty, h, load, section } from "../ui.js";

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

const ENVIRONMENTS = [["test", "Test"], ["prod", "Production"]];

export function recordsPage(main, ctx, environment = "test") {
  const name = ENVIRONMENTS.find(([value]) => value === environment)[1];
  const alert = alertBox();
  const exportButton = h("button", { type: "button" }, `Export ${name.toLowerCase()} records (CSV)`);
  const print = h("button", { type: "button" }, "Print");
  exportButton.addEventListener("click", () => act(exportButton, alert.parentElement,
    () => download("portal/integration-records", { environment }, `integration-records-${environment}.csv`)));
  print.addEventListener("click", () => window.print());
  const body = h("div");
  main.append(h("h1", {}, `Integration records: ${name.toLowerCase()}`),
    h("nav", { class: "tabs no-print", "aria-label": "Environment" }, h("ul", {}, ENVIRONMENTS.map(([value, text]) =>
      h("li", {}, h("a", { href: `#/records/${value}`, "aria-current": value === environment ? "page" : null }, text))))),
    h("p", {}, `Enter these into the EHR's ${name.toLowerCase()} environment: the provider and patient launch records, the writeback client where writeback is set, the SMS records and the device test record.`),
    h("div", { class: "actions no-print" }, exportButton, print), alert, body);
  load(body, () => get("portal/integration-records", { environment }), ({ items }) => {
    if (!items.length) {
      body.append(empty(`No ${name.toLowerCase()} FHIR base URL is approved yet: its records appear here once its approver approves it.`));
    }
    for (const endpoint of items) {
      const label = endpoint.display_name || endpoint.base_url;
      body.append(section(label, h("p", { class: "hint" }, endpoint.base_url),
        ...endpoint.records.map((r) => recordCard(label, r))));
    }
  }, "Loading the integration records");
}
