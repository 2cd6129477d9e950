// Sign-in. In Azure: MSAL (Entra ID), redirect flow, tokens for the portal API's scope. Under `make run`: the
// dev host's local issuer, which mints tokens with the same claims for a user and roles picked on our page.
// The API decides what a token may do; the portal only shows and hides what the roles allow.

const SESSION_KEY = "portal.session";
let config = null;
let msalApp = null;

export async function loadSignInConfig() {
  const response = await fetch("/api/portal/sign-in", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("The connector's sign-in settings could not be read.");
  config = await response.json();
  return config;
}

export const signInMethod = () => config?.method;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src, onload: resolve, onerror: reject });
    document.head.append(script);
  });
}

async function msal() {
  if (msalApp) return msalApp;
  await loadScript("vendor/msal-browser.min.js"); // about 300 kB: only fetched where Entra ID signs in
  msalApp = await window.msal.createStandardPublicClientApplication({
    auth: { clientId: config.client_id, authority: config.authority, redirectUri: `${window.location.origin}/` },
    cache: { cacheLocation: "sessionStorage" },
  });
  return msalApp;
}

// Call once at start: finishes an Entra ID redirect sign-in if the page is its return.
export async function completeSignIn() {
  if (config.method !== "entra") return;
  const app = await msal();
  const result = await app.handleRedirectPromise();
  if (result?.account) app.setActiveAccount(result.account);
  else if (!app.getActiveAccount() && app.getAllAccounts().length) app.setActiveAccount(app.getAllAccounts()[0]);
}

export async function signInWithEntra() {
  const app = await msal();
  await app.loginRedirect({ scopes: config.scopes });
}

export async function signInLocally({ username, roles, tenantId }) {
  const form = new URLSearchParams({ username });
  for (const role of roles) form.append("roles", role);
  if (tenantId) form.set("tenant_id", tenantId);
  const response = await fetch(`${config.local_issuer}/token`, { method: "POST", body: form });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || "The local issuer refused the sign-in.");
  const session = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export async function accessToken() {
  if (config?.method === "entra") {
    const app = await msal();
    const account = app.getActiveAccount();
    if (!account) return null;
    try {
      return (await app.acquireTokenSilent({ scopes: config.scopes, account })).accessToken;
    } catch {
      return null; // the API answers 401 and the portal asks to sign in again
    }
  }
  const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  return session && session.expiresAt > Date.now() ? session.token : null;
}

export async function hasSession() {
  return (await accessToken()) !== null;
}

export async function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  if (config?.method === "entra" && msalApp) {
    await msalApp.logoutRedirect({ postLogoutRedirectUri: `${window.location.origin}/` });
  }
}
