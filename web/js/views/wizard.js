// The configuration wizard, in the order an organisation sets up: FHIR base URLs, SMS (optional), approval,
// then the integration records to copy into the EHR. Each step is the same panel its own page uses.

import { get } from "../api.js";
import { empty, h, load, section, STATUS_TEXT } from "../ui.js";
import { approvalPanel } from "./approval.js";
import { endpointName, endpointsPanel } from "./endpoints.js";
import { recordsPanel } from "./records.js";
import { smsSetup } from "./sms.js";

const STEPS = [
  ["endpoints", "FHIR base URLs", "Register each FHIR base URL the EHR launches from, mark it test or production, and name the EHR analyst who approves it."],
  ["sms", "SMS notifications", "Optional: confirmations and reminders by text. Give the consents, generate a number, link it to URLs, choose what is sent, and upload each environment's HL7 signing certificate."],
  ["approve", "Approve", "Submit each URL; its approver signs in here, signs in to the EHR, then approves or rejects it."],
  ["review", "Review and finish", "Copy these integration records into the EHR."],
];

function approveStep(container, ctx) {
  const body = h("div");
  container.append(body);
  const refresh = () => load(body, () => get("portal/endpoints"), ({ items }) => {
    if (!items.length) return body.append(empty("Add a FHIR base URL first.", h("a", { href: "#/setup/endpoints" }, "Go to FHIR base URLs")));
    for (const endpoint of items) {
      const panel = h("div");
      approvalPanel(panel, ctx, endpoint, refresh);
      body.append(section(endpointName(endpoint),
        h("p", { class: "hint" }, `${endpoint.environment === "prod" ? "Production" : "Test"} · approver ${endpoint.approver} · `,
          h("a", { href: `#/endpoints/${endpoint.id}` }, "details")), panel));
    }
  }, "Loading FHIR base URLs");
  refresh();
}

// What still stands between the organisation and its first visit, each with the step that does it.
export function stillMissing(endpoints) {
  if (!endpoints.length) return [["No FHIR base URL is registered yet.", "#/setup/endpoints", "Add one"]];
  const waiting = endpoints.filter((e) => e.status !== "approved");
  const lines = waiting.map((e) => [
    `${endpointName(e)} is not approved yet (${(STATUS_TEXT[e.status] || e.status).toLowerCase()}): `
      + (e.status === "draft" ? "submit it for approval."
        : e.status === "rejected" ? "change what its approver asked for, then submit it again."
          : `its approver (${e.approver}) signs in to the EHR and approves it.`),
    e.status === "draft" ? "#/setup/endpoints" : "#/setup/approve",
    e.status === "draft" ? "Go to FHIR base URLs" : "Go to Approve",
  ]);
  if (waiting.length === endpoints.length) lines.unshift(["No FHIR base URL is approved, so no visit can start yet.", null, null]);
  return lines;
}

function finishButton(missing) {
  const button = h("button", { type: "button", class: "primary" }, "Finish");
  button.addEventListener("click", async () => {
    const { items } = await get("portal/endpoints");
    const lines = stillMissing(items);
    if (!lines.length) {
      window.location.hash = "#/reports";
      return;
    }
    missing.replaceChildren(h("strong", { class: "alert-title" }, "Not finished yet"),
      h("ul", {}, lines.map(([text, href, label]) => h("li", {}, text, href ? " " : null,
        href ? h("a", { href }, label) : null))),
      h("p", {}, h("a", { href: "#/reports" }, "Finish anyway and go to the reports")));
    missing.hidden = false;
    missing.focus();
  });
  return button;
}

export function wizardPage(main, ctx, stepName) {
  const index = Math.max(0, STEPS.findIndex(([name]) => name === stepName));
  const [name, title, intro] = STEPS[index];
  const steps = h("nav", { class: "stepper", "aria-label": "Setup steps" }, h("ol", {}, STEPS.map(([n, t], i) =>
    h("li", { class: i < index ? "done" : i === index ? "current" : "" },
      h("a", { href: `#/setup/${n}`, "aria-current": i === index ? "step" : null },
        h("span", { class: "step-number", "aria-hidden": "true" }, String(i + 1)), t)))));
  const body = h("div", { class: "step-body" });
  const back = index > 0 ? h("a", { class: "button", href: `#/setup/${STEPS[index - 1][0]}` }, "Back") : h("span");
  const missing = h("div", { class: "alert", role: "alert", tabindex: "-1", hidden: true });
  const next = index < STEPS.length - 1
    ? h("a", { class: "button primary", href: `#/setup/${STEPS[index + 1][0]}` }, name === "sms" ? "Next (or skip SMS)" : "Next")
    : finishButton(missing);
  main.append(h("h1", {}, `Set up: ${title}`), steps, h("p", { class: "lead" }, `Step ${index + 1} of ${STEPS.length}. ${intro}`), body,
    missing, h("div", { class: "wizard-nav" }, back, next));
  if (name === "endpoints") endpointsPanel(body, ctx);
  else if (name === "sms") smsSetup(body);
  else if (name === "approve") approveStep(body, ctx);
  else recordsPanel(body);
}
