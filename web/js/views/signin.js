// Sign-in: Entra ID in Azure; under `make run`, the local issuer with a user and roles picked here.

import * as auth from "../auth.js";
import { alertBox, field, h, showProblem } from "../ui.js";

const LOCAL_TENANT = "10ca1000-0000-4000-8000-000000000001";

export function signInPage(main, message, done) {
  const alert = alertBox();
  const heading = h("h1", { tabindex: "-1" }, "Sign in to the connector portal");
  if (auth.signInMethod() === "entra") {
    const button = h("button", { type: "button", class: "primary" }, "Sign in with Microsoft");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await auth.signInWithEntra();
      } catch (error) {
        button.disabled = false;
        showProblem(main, { title: "Sign-in did not start", detail: String(error.message || error) }, alert);
      }
    });
    main.replaceChildren(h("section", { class: "card narrow" }, heading,
      h("p", {}, "Use your work account. Admins configure the connector; EHR analysts approve FHIR endpoints."),
      message ? h("p", { class: "notice" }, message) : null, alert, button));
    heading.focus();
    return;
  }
  const form = h("form", { class: "card narrow", novalidate: true },
    heading,
    h("p", {}, "Local sign-in (development only): the API trusts these tokens only when ENVIRONMENT=local."),
    message ? h("p", { class: "notice" }, message) : null,
    alert,
    field({ label: "User", name: "username", type: "email", value: "admin@contoso.example", required: true,
      hint: "Any name@organisation. An approver signs in as the approver named on the FHIR endpoint." }),
    h("fieldset", {}, h("legend", {}, "Roles"),
      field({ label: "Admin (configures the connector)", name: "role-admin", type: "checkbox", value: true }),
      field({ label: "Approver (EHR analyst)", name: "role-approver", type: "checkbox", value: true })),
    h("details", {}, h("summary", {}, "Organisation"),
      field({ label: "Tenant ID", name: "tenant_id", value: LOCAL_TENANT,
        hint: "The Entra ID tenant the token is for; each tenant is a separate organisation." })),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    if (!username.includes("@")) {
      return showProblem(form, { title: "Check the user", detail: "Enter a user such as admin@contoso.example.",
        errors: [{ field: "username", message: "must look like name@organisation" }] }, alert);
    }
    const roles = [];
    if (form.elements["role-admin"].checked) roles.push("Connector.Admin");
    if (form.elements["role-approver"].checked) roles.push("Connector.Approver");
    try {
      await auth.signInLocally({ username, roles, tenantId: form.elements.tenant_id.value.trim() });
      await done();
    } catch (error) {
      showProblem(form, { title: "Sign-in failed", detail: String(error.message || error) }, alert);
    }
  });
  main.replaceChildren(form);
  heading.focus();
}
