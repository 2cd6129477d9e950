// Approval of one FHIR base URL: the named approver signs in to the EHR (which proves the URL and their EHR
// access), then approves or rejects with a comment. Everyone else sees where it stands.

import { post } from "../api.js";
import { act, alertBox, announce, field, formValues, h, when } from "../ui.js";

const isApproverOf = (ctx, endpoint) =>
  ctx.isApprover && ctx.caller.username.toLowerCase() === endpoint.approver.toLowerCase();

export function approvalPanel(container, ctx, endpoint, onChange) {
  const alert = alertBox();
  const parts = [alert];
  const { status } = endpoint;
  if (status === "draft") {
    parts.push(h("p", {}, "Not submitted yet. Submit it when its details are right; its approver then signs in to the EHR and approves it."));
    if (ctx.isAdmin) {
      const submit = h("button", { type: "button", class: "primary" }, "Submit for approval");
      submit.addEventListener("click", () => act(submit, container, async () => {
        const saved = await post(`portal/endpoints/${endpoint.id}/submit`);
        announce("Submitted for approval");
        await onChange(saved);
      }));
      parts.push(submit);
    }
  } else if (status === "approved") {
    parts.push(h("p", {}, `Approved ${when(endpoint.decided_at)}. `,
      h("a", { href: "#/records" }, "See the integration records to enter into the EHR.")));
  } else if (status === "rejected") {
    parts.push(h("p", { class: "notice error" }, h("strong", {}, "Rejected"),
      ` ${when(endpoint.decided_at)}: `, endpoint.decision_comment || "no comment given."));
    if (ctx.isAdmin) parts.push(h("p", {}, "Change the URL's details below to send it back for approval."));
  } else if (!isApproverOf(ctx, endpoint)) {
    parts.push(h("p", {}, `Waiting for ${endpoint.approver} to sign in to the EHR and approve or reject it.`),
      h("p", { class: "hint" }, "The approver signs in to this portal with the Approver role, opens this URL and follows the steps."));
  } else {
    parts.push(...approverSteps(container, endpoint, onChange));
  }
  container.replaceChildren(...parts);
}

function approverSteps(container, endpoint, onChange) {
  const signedIn = endpoint.status === "validated";
  const signIn = h("button", { type: "button", class: signedIn ? "" : "primary" },
    signedIn ? "Sign in to the EHR again" : "Sign in to the EHR");
  signIn.addEventListener("click", () => act(signIn, container, async () => {
    const { authorize_url: url } = await post(`portal/endpoints/${endpoint.id}/sign-in`);
    window.location.assign(url);
  }));
  const approve = h("button", { type: "button", class: "primary", disabled: !signedIn }, "Approve");
  approve.addEventListener("click", () => act(approve, container, async () => {
    const saved = await post(`portal/endpoints/${endpoint.id}/approve`);
    announce("Approved");
    await onChange(saved);
  }));
  const rejectButton = h("button", { type: "submit", class: "danger" }, "Reject");
  const reject = h("form", { class: "reject", novalidate: true },
    field({ label: "Comment for the admin", name: "comment", type: "textarea", required: true,
      hint: "Say why, and what to change." }),
    rejectButton);
  reject.addEventListener("submit", (event) => {
    event.preventDefault();
    act(rejectButton, container, async () => {
      const saved = await post(`portal/endpoints/${endpoint.id}/reject`, formValues(reject));
      announce("Rejected");
      await onChange(saved);
    });
  });
  return [
    h("ol", { class: "steps" },
      h("li", {}, h("p", {}, signedIn
        ? `Signed in to the EHR as ${endpoint.validated_ehr_user} ${when(endpoint.validated_at)}.`
        : "Sign in to the EHR at this URL. This proves the URL is your EHR and that you can use it."), signIn),
      h("li", {}, h("p", {}, "Approve it, or reject it with a comment."), approve)),
    h("details", { open: true }, h("summary", {}, "Reject with a comment"), reject),
  ];
}
