// The portal's start: sign-in, the caller and their organisation, the navigation, and a hash router (hash
// routes need no server rewrites, and the EHR sign-in returns to #/endpoints/{id}?signin=ok).

import { ApiError, configureApi, get } from "./api.js";
import * as auth from "./auth.js";
import { alertBox, h, showProblem, useTimeZone } from "./ui.js";
import { organisationSetup, settingsPage } from "./views/organisation.js";
import { signInPage } from "./views/signin.js";
import { wizardPage } from "./views/wizard.js";
import { endpointPage, endpointsPage } from "./views/endpoints.js";
import { smsPage, outboxPage } from "./views/sms.js";
import { auditPage, writebacksPage } from "./views/admin.js";
import { recordsPage } from "./views/records.js";
import { reportsPage } from "./views/reports.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const ctx = { caller: null, organisation: null, isAdmin: false, isApprover: false, navigate };

const ROUTES = [
  [/^setup(?:\/(\w+))?$/, (m, q) => wizardPage(main, ctx, m[1], q), "admin"],
  [/^endpoints$/, () => endpointsPage(main, ctx)],
  [/^endpoints\/([\w-]+)$/, (m, q) => endpointPage(main, ctx, m[1], q)],
  [/^records(?:\/(test|prod))?$/, (m) => recordsPage(main, ctx, m[1] || "test")],
  [/^sms$/, () => smsPage(main, ctx)],
  [/^sms\/outbox$/, () => outboxPage(main, ctx), "admin"],
  [/^writebacks$/, () => writebacksPage(main, ctx), "admin"],
  [/^audit$/, () => auditPage(main, ctx), "admin"],
  [/^reports$/, () => reportsPage(main, ctx), "admin"],
  [/^settings$/, () => settingsPage(main, ctx)],
];

const NAV = [
  ["setup", "Setup", "admin"],
  ["endpoints", "FHIR endpoints"],
  ["records", "Integration records"],
  ["sms", "SMS"],
  ["reports", "Reports", "admin"],
  ["writebacks", "Writebacks", "admin"],
  ["audit", "Audit log", "admin"],
  ["settings", "Settings"],
];

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, search] = raw.split("?");
  return { path, query: new URLSearchParams(search || "") };
}

function navigate(path) {
  if (window.location.hash === `#/${path}`) route();
  else window.location.hash = `#/${path}`;
}

const allowed = (need) => need !== "admin" || ctx.isAdmin;

function refreshShell() {
  const current = parseHash().path.split("/")[0];
  nav.replaceChildren(h("ul", {}, NAV.filter(([, , need]) => allowed(need)).map(([path, text]) =>
    h("li", {}, h("a", { href: `#/${path}`, "aria-current": current === path ? "page" : null }, text)))));
  nav.hidden = !ctx.organisation;
  const roles = [ctx.isAdmin && "Admin", ctx.isApprover && "Approver"].filter(Boolean).join(", ") || "no role";
  who.replaceChildren(
    h("span", { class: "who-name" }, ctx.caller.username),
    h("span", { class: "who-roles" }, `${ctx.organisation?.display_name || "No organisation yet"} · ${roles}`),
    h("button", { type: "button", class: "link", onclick: async () => { await auth.signOut(); window.location.hash = "#/"; window.location.reload(); } }, "Sign out"));
}

async function route() {
  window.scrollTo(0, 0);
  if (!ctx.caller) return;
  const { path, query } = parseHash();
  refreshShell();
  useTimeZone(ctx.organisation?.time_zone);
  if (!ctx.organisation) {
    return organisationSetup(main, ctx, async (organisation) => {
      ctx.organisation = organisation;
      navigate("setup");
    });
  }
  for (const [pattern, render, need] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (!allowed(need)) break;
    main.replaceChildren();
    await render(match, query);
    focusHeading();
    return;
  }
  navigate(ctx.isAdmin ? "setup" : "endpoints");
}

function focusHeading() {
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

async function signedIn() {
  ctx.caller = await get("portal/me");
  const roles = new Set(ctx.caller.roles);
  ctx.isAdmin = roles.has("Connector.Admin");
  ctx.isApprover = roles.has("Connector.Approver");
  try {
    ctx.organisation = await get("portal/organisation");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    ctx.organisation = null;
  }
}

function showSignIn(message) {
  ctx.caller = null;
  nav.hidden = true;
  who.replaceChildren();
  signInPage(main, message, async () => {
    await start();
  });
}

async function start() {
  try {
    if (!(await auth.hasSession())) return showSignIn();
    await signedIn();
    await route();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // the API client already asked to sign in
    const alert = alertBox();
    main.replaceChildren(h("h1", {}, "The portal could not start"), alert);
    showProblem(main, error instanceof ApiError ? error : { title: "The portal could not start", detail: String(error.message || error) }, alert);
  }
}

configureApi({
  token: auth.accessToken,
  unauthenticated: (error) => showSignIn(`${error.title}: ${error.detail}`),
});

window.addEventListener("hashchange", route);
try {
  await auth.loadSignInConfig();
  await auth.completeSignIn();
  await start();
} catch (error) {
  main.replaceChildren(h("h1", {}, "The portal could not start"),
    h("div", { class: "alert", role: "alert" }, h("strong", {}, "The connector cannot be reached"),
      h("p", {}, `${error.message} Check that the connector is running, then reload this page.`)));
}
