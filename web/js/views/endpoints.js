// FHIR endpoints: the list with its add form (the wizard's first step), and one endpoint's page: its details,
// approval, edits, SMS settings, EHR writeback settings and clinicians.

import { get, patch, post, put, remove } from "../api.js";
import {
  act, alertBox, announce, badge, copyButton, field, formValues, h, load, section, table, when,
} from "../ui.js";
import { approvalPanel } from "./approval.js";
import { cliniciansPanel } from "./clinicians.js";
import { smsSettingsPanel } from "./sms.js";

const ENVIRONMENTS = [["test", "Test"], ["prod", "Production"]];
const VENDORS = [["epic", "Epic"], ["smart", "Other SMART on FHIR EHR"]];
const CLIENT_TYPES = [
  ["public", "Public (PKCE only)"],
  ["confidential-asymmetric", "Confidential, asymmetric (private_key_jwt)"],
];
const PATIENT_LOCALES = [["en_US", "English (United States)"], ["es_US", "Spanish (United States)"]];
const LANDINGS = [
  ["teams", "Straight to the Teams meeting"],
  ["panel", "The visit panel: who is connected, and Teams"],
];

export const endpointName = (e) => e.display_name || e.base_url;

function endpointFields(values = {}) {
  return [
    field({ label: "FHIR base URL", name: "base_url", type: "url", value: values.base_url, required: true,
      hint: "The EHR's FHIR R4 base (the iss of launches), e.g. https://ehr.contoso.org/api/FHIR/R4." }),
    field({ label: "Environment", name: "environment", type: "select", value: values.environment || "test",
      options: ENVIRONMENTS, required: true, hint: "Decides which HL7 signing certificate verifies its messages." }),
    field({ label: "Approver", name: "approver", type: "email", value: values.approver, required: true,
      hint: "User principal name of the EHR analyst who approves this URL, e.g. analyst@contoso.org." }),
    field({ label: "SMART client ID", name: "client_id", value: values.client_id, required: true,
      hint: "The client ID registered for the connector in this EHR." }),
    field({ label: "Client type", name: "client_type", type: "select", value: values.client_type || "public",
      options: CLIENT_TYPES, hint: "As registered in the EHR. Confidential clients sign in with the organisation's "
        + "key: register its JWKS URL (shown in the integration records) with the EHR." }),
    field({ label: "EHR", name: "vendor", type: "select", value: values.vendor || "epic", options: VENDORS }),
    field({ label: "Display name", name: "display_name", value: values.display_name,
      hint: "Optional: how the portal names this URL." }),
    field({ label: "After a clinician's launch", name: "provider_landing", type: "select",
      value: values.provider_landing || "teams", options: LANDINGS,
      hint: "The visit panel opens Teams too, and shows who is connected while the visit goes on." }),
    field({ label: "Clinicians sign in to Microsoft 365 once", name: "clinician_sign_in", type: "checkbox",
      value: values.clinician_sign_in ?? true,
      hint: "On their first launch, so that their visits are their own Teams meetings (calendar, chat, policies)." }),
    field({ label: "Patients join through Teams Virtual Appointment links", name: "virtual_appointment_links",
      type: "checkbox", value: values.virtual_appointment_links ?? false,
      hint: "Join from a phone's browser without the Teams app, with the virtual lobby. Needs the Microsoft 365 "
        + "sign-in above and the VirtualAppointment.Read permission (see the README)." }),
    field({ label: "Patients' language", name: "patient_locale", type: "select",
      value: values.patient_locale || "en_US", options: PATIENT_LOCALES,
      hint: "Texts and pages for patients whose appointments name no language we ship (PID-15)." }),
    field({ label: "Time zone", name: "time_zone", value: values.time_zone,
      hint: "Optional: IANA time zone of the EHR's local times (default: the organisation's)." }),
  ];
}

function addEndpointForm(onAdded, defaults = {}) {
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Add FHIR base URL");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "add-endpoint-title" },
    h("h2", { id: "add-endpoint-title" }, "Add a FHIR base URL"),
    h("p", { class: "hint" }, "The connector reads the URL's SMART configuration to check it."),
    alert, h("div", { class: "grid" }, endpointFields(defaults)), submit);
  const grid = form.querySelector(".grid");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      const values = formValues(form);
      for (const optional of ["display_name", "time_zone"]) if (values[optional] === null) delete values[optional];
      const endpoint = await post("portal/endpoints", values);
      grid.replaceChildren(...endpointFields(defaults));  // a fresh form with its defaults (reset() would clear ticks)
      announce(`${endpointName(endpoint)} added as a draft`);
      await onAdded(endpoint);
    });
  });
  return form;
}

function endpointRows(items, ctx, refresh) {
  return table([
    ["FHIR base URL", (e) => h("a", { href: `#/endpoints/${e.id}` }, endpointName(e))],
    ["Environment", (e) => (e.environment === "prod" ? "Production" : "Test")],
    ["Approver", (e) => e.approver],
    ["Status", (e) => badge(e.status)],
    ["Action", (e) => {
      if (e.status === "draft" && ctx.isAdmin) {
        const button = h("button", { type: "button" }, "Submit for approval");
        const cell = h("div", {}, button, alertBox());
        button.addEventListener("click", () => act(button, cell, async () => {
          await post(`portal/endpoints/${e.id}/submit`);
          announce(`${endpointName(e)} submitted for approval`);
          await refresh();
        }));
        return cell;
      }
      return h("a", { href: `#/endpoints/${e.id}` }, e.status === "approved" ? "View" : "Open");
    }],
  ], items, { caption: "FHIR base URLs", empty: "No FHIR base URLs yet: add the first one below." });
}

// The list and, for admins, the add form.
export function endpointsPanel(container, ctx) {
  const list = h("div", { "aria-live": "polite" });
  const refresh = () => load(list, () => get("portal/endpoints"),
    ({ items }) => list.append(endpointRows(items, ctx, refresh)), "Loading FHIR base URLs");
  container.append(section("FHIR base URLs", list));
  // A new URL's patients' language starts as the organisation's default.
  if (ctx.isAdmin) container.append(addEndpointForm(refresh, { patient_locale: ctx.organisation?.default_locale }));
  refresh();
}

export function endpointsPage(main, ctx) {
  main.append(h("h1", {}, "FHIR endpoints"),
    h("p", {}, "Each FHIR base URL is approved on its own by its approver after an EHR sign-in."));
  endpointsPanel(main, ctx);
}

function details(endpoint) {
  const rows = [
    ["FHIR base URL", endpoint.base_url],
    ["Environment", endpoint.environment === "prod" ? "Production" : "Test"],
    ["Approver", endpoint.approver],
    ["SMART client ID", endpoint.client_id],
    ["Client type", endpoint.client_type === "confidential-asymmetric" ? "Confidential, asymmetric" : "Public"],
    ["EHR", endpoint.vendor === "epic" ? "Epic" : "SMART on FHIR"],
    ["Time zone", endpoint.time_zone],
    ["SMART configuration from", endpoint.discovery_source],
    ["Authorization endpoint", endpoint.authorization_endpoint],
    ["Token endpoint", endpoint.token_endpoint],
    ["Changed", when(endpoint.updated_at)],
  ];
  return h("dl", { class: "details" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value || "—")]));
}

function editForm(endpoint, onSaved) {
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Save changes");
  const form = h("form", { novalidate: true }, alert,
    endpoint.status !== "draft"
      ? h("p", { class: "notice" }, "Changing the display name, what a clinician's launch opens, the Microsoft 365 "
        + "sign-in, the Virtual Appointment links or the patients' language keeps the approval. Any other change (the URL, environment, approver, client ID or type, EHR or time "
        + "zone) sends this URL back for approval.")
      : null,
    h("div", { class: "grid" }, endpointFields(endpoint)), submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      const values = formValues(form);
      const changes = Object.fromEntries(Object.entries(values).filter(([k, v]) => (v ?? null) !== (endpoint[k] ?? null)));
      if (!Object.keys(changes).length) return announce("Nothing changed");
      const saved = await patch(`portal/endpoints/${endpoint.id}`, changes);
      announce("Changes saved");
      await onSaved(saved);
    });
  });
  return form;
}

function writebackPanel(endpoint, tenantId) {
  const body = h("div");
  const fetchSettings = async () => {
    try {
      return await get(`portal/endpoints/${endpoint.id}/writeback`);
    } catch (error) {
      if (error.status !== 404) throw error;
      // The organisation's own JWKS URL (its key is made when writeback is first saved).
      return { adapter: "none", jwks_url: `${window.location.origin}/api/.well-known/jwks/${encodeURIComponent(tenantId)}` };
    }
  };
  load(body, fetchSettings, (settings) => {
    const alert = alertBox();
    const submit = h("button", { type: "submit", class: "primary" }, "Save writeback settings");
    const form = h("form", { novalidate: true }, alert,
      field({ label: "Write back to the EHR", name: "adapter", type: "select", value: settings.adapter,
        options: [["none", "No writeback"], ["epic", "Epic telehealth connection status"], ["fhir", "FHIR AuditEvent and Appointment status"]] }),
      h("div", { class: "grid" },
        field({ label: "Backend-services client ID", name: "client_id", value: settings.client_id,
          hint: "Default: the endpoint's SMART client ID." }),
        field({ label: "Scopes", name: "scope", value: settings.scope, hint: "Default: what the adapter needs." }),
        field({ label: "Epic web service path", name: "epic_path", value: settings.epic_path, hint: "Default: Epic's connection-status service." }),
        field({ label: "Vendor name", name: "vendor_name", value: settings.vendor_name, hint: "How the EHR names the connector (default: ours)." })),
      h("p", {}, "Register this JWKS URL with the EHR for the client: ", h("code", {}, settings.jwks_url), " ",
        copyButton(settings.jwks_url, "JWKS URL")),
      submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(submit, form, async () => {
        const values = formValues(form);
        for (const name of ["epic_path", "vendor_name"]) if (values[name] === null) delete values[name];
        await put(`portal/endpoints/${endpoint.id}/writeback`, values);
        announce("Writeback settings saved");
      });
    });
    body.append(form);
  }, "Loading writeback settings");
  return section("EHR writeback", h("p", {}, "Participant connects and disconnects go back to the EHR."), body);
}

export async function endpointPage(main, ctx, id, query) {
  const render = (endpoint) => {
    main.replaceChildren(
      h("p", { class: "crumbs" }, h("a", { href: "#/endpoints" }, "FHIR endpoints")),
      h("h1", {}, endpointName(endpoint), " ", badge(endpoint.status)));
    if (query.get("signin") === "ok" && endpoint.validated_ehr_user) {
      main.append(h("p", { class: "notice success", role: "status" },
        `EHR sign-in accepted as ${endpoint.validated_ehr_user}. Approve or reject this URL below, then `,
        h("a", { href: ctx.isAdmin ? "#/setup/approve" : "#/endpoints" }, ctx.isAdmin ? "go back to setup" : "see all endpoints"), "."));
    }
    const approval = h("div");
    approvalPanel(approval, ctx, endpoint, render);
    main.append(section("Approval", approval), section("Details", details(endpoint)));
    if (ctx.isAdmin) {
      main.append(section("Change", editForm(endpoint, render)));
      const sms = h("div");
      smsSettingsPanel(sms, endpoint);
      main.append(section("SMS settings", sms), writebackPanel(endpoint, ctx.caller.tenant_id), cliniciansPanel(endpoint));
      const alert = alertBox();
      const button = h("button", { type: "button", class: "danger" }, "Remove this FHIR base URL");
      button.addEventListener("click", () => {
        if (!window.confirm(`Remove ${endpointName(endpoint)}? Launches from it stop working.`)) return;
        act(button, button.parentElement, async () => {
          await remove(`portal/endpoints/${endpoint.id}`);
          ctx.navigate("endpoints");
        });
      });
      main.append(section("Remove", alert, button));
    }
  };
  await load(main, () => get(`portal/endpoints/${id}`), render, "Loading the FHIR endpoint");
}
