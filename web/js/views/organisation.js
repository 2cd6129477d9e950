// First sign-in of an organisation: its name, geography (where its data is stored) and default time zone; and its
// settings page afterwards, for admins and approvers.

import { get, patch, post } from "../api.js";
import { act, alertBox, announce, field, formValues, h, load, useTimeZone } from "../ui.js";

export function organisationSetup(main, ctx, done) {
  if (!ctx.isAdmin) {
    main.replaceChildren(h("section", { class: "card narrow" }, h("h1", {}, "Your organisation is not set up yet"),
      h("p", {}, "An admin of your organisation (the Connector.Admin role) sets up the connector first; then you can approve its FHIR endpoints here.")));
    return;
  }
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Set up the organisation");
  const form = h("form", { class: "card narrow", novalidate: true },
    h("h1", {}, "Set up your organisation"),
    h("p", {}, "Once per Entra ID tenant. The geography decides which storage account keeps your appointments and visit data; it cannot be changed later."),
    alert,
    field({ label: "Organisation name", name: "display_name", required: true, hint: "As your staff know it." }),
    field({ label: "Geography", name: "geography", type: "select", value: "US", required: true,
      options: [["US", "United States"], ["EU", "European Union"], ["APAC", "Asia Pacific"]] }),
    field({ label: "Time zone", name: "time_zone", value: zone, required: true,
      hint: "IANA name, such as America/Chicago; the default for new FHIR endpoints." }),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => done(await post("portal/organisation", formValues(form))));
  });
  main.replaceChildren(form);
}

const GEOGRAPHIES = [["US", "United States"], ["EU", "European Union"], ["APAC", "Asia Pacific"]];
const LOCALES = [["en_US", "English (United States)"], ["es_US", "Spanish (United States)"]];

// Admins and approvers change the organisation's settings; the geography only while it has no FHIR endpoint.
export function settingsPage(main, ctx) {
  const holder = h("div");
  main.append(h("h1", {}, "Organisation settings"), holder);
  load(holder, () => get("portal/endpoints"), ({ items }) => {
    const org = ctx.organisation;
    const locked = items.length > 0;
    const alert = alertBox();
    const submit = h("button", { type: "submit", class: "primary" }, "Save settings");
    const geography = field({ label: "Geography", name: "geography", type: "select", value: org.geography, options: GEOGRAPHIES,
      hint: locked
        ? `Your data is stored in ${org.geography}: the geography cannot move once FHIR endpoints exist.`
        : "Where appointments and visit data are stored. It cannot move once you add a FHIR endpoint.",
      attrs: locked ? { disabled: true } : {} });
    const form = h("form", { class: "card narrow", novalidate: true, "aria-label": "Organisation settings" },
      alert,
      field({ label: "Organisation name", name: "display_name", value: org.display_name, required: true }),
      field({ label: "Time zone", name: "time_zone", value: org.time_zone, required: true,
        hint: "IANA name, such as America/Chicago: the portal shows every time in it; the default for new FHIR endpoints." }),
      field({ label: "SMS country", name: "sms_country", value: org.sms_country, required: true,
        hint: "Two letters (ISO 3166), such as US: one of the countries this connector texts patients in." }),
      field({ label: "Patients' default language", name: "default_locale", type: "select", value: org.default_locale || "en_US",
        options: LOCALES, hint: "For patients whose language the EHR does not send." }),
      geography,
      submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(submit, form, async () => {
        const values = formValues(form);
        if (locked) delete values.geography;
        ctx.organisation = await patch("portal/organisation", values);
        useTimeZone(ctx.organisation.time_zone);
        announce("Settings saved");
        ctx.navigate("settings");
      });
    });
    holder.append(form);
  }, "Loading the settings");
}
