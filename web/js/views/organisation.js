// First sign-in of an organisation: its name, geography (where its data is stored) and default time zone.

import { post } from "../api.js";
import { act, alertBox, field, formValues, h } from "../ui.js";

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
