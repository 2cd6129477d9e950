// The portal API client: one fetch wrapper that adds the bearer token and turns every failure into an
// ApiError carrying the problem+json title, detail and field errors, so each screen shows them where they belong.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title);
    this.status = status;
    this.title = problem.title || "Something went wrong";
    this.detail = problem.detail || "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

let tokenSource = async () => null;
let onUnauthenticated = () => {};

export function configureApi({ token, unauthenticated }) {
  tokenSource = token;
  onUnauthenticated = unauthenticated;
}

async function send(method, path, { body, query } = {}) {
  const url = new URL(`/api/${path}`, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json, application/problem+json, text/csv" };
  const token = await tokenSource();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, {
      title: "The connector cannot be reached",
      detail: "Check your network connection (or that `make run` is still running) and try again.",
    });
  }
  if (response.ok) return response;
  let problem;
  try {
    problem = await response.json();
  } catch {
    problem = { title: response.statusText || `Error ${response.status}`, detail: "The connector gave no details." };
  }
  const error = new ApiError(response.status, problem);
  if (response.status === 401) onUnauthenticated(error);
  throw error;
}

export async function api(method, path, options) {
  const response = await send(method, path, options);
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const remove = (path) => api("DELETE", path);

// Downloads a CSV through the API (the bearer token cannot ride on a plain link).
export async function download(path, query, fallbackName) {
  const response = await send("GET", path, { query: { ...query, format: "csv" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
