// Small DOM helpers shared by every screen: element building, labelled fields, problem+json display, loading
// and empty states, copy buttons and dates. No framework: each screen renders into the element it is given.

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// h("button", { class: "primary", onclick }, "Save"): attributes, properties (on*, value, checked) and children.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (["value", "checked", "disabled", "selected", "hidden"].includes(name)) el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// A labelled control with its hint and an error slot the API's field errors go into.
export function field({ label, name, type = "text", value = "", hint, required, options, attrs = {} }) {
  const id = nextId(name.replace(/\W/g, "-"));
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const described = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (type === "select") {
    control = h("select", { id, name, required, "aria-describedby": described, ...attrs },
      options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text)));
  } else if (type === "textarea") {
    control = h("textarea", { id, name, required, rows: 3, "aria-describedby": described, ...attrs });
    control.value = value ?? "";
  } else if (type === "checkbox") {
    control = h("input", { id, name, type, checked: Boolean(value), "aria-describedby": described, ...attrs });
    return h("div", { class: "field check", "data-field": name },
      control, h("label", { for: id }, label),
      hint && h("p", { class: "hint", id: hintId }, hint), h("p", { class: "field-error", id: errorId }));
  } else {
    control = h("input", { id, name, type, required, "aria-describedby": described, ...attrs });
    control.value = value ?? "";
  }
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    hint && h("p", { class: "hint", id: hintId }, hint), control, h("p", { class: "field-error", id: errorId }));
}

// Where a form or action reports an error: the problem's title and detail, announced to screen readers.
export const alertBox = () => h("div", { class: "alert", role: "alert", hidden: true });

export function clearProblem(scope) {
  for (const el of scope.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of scope.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of scope.querySelectorAll(".alert")) {
    el.hidden = true;
    el.replaceChildren();
  }
}

// A field's message as a sentence: "must be https" reads "Must be https." next to its control.
const sentence = (text) => {
  const trimmed = String(text || "").trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
};

// Shows an ApiError: each field error next to its control (matched by name), the title and detail in the
// scope's alert box. Errors for fields the screen does not show stay in the alert, so nothing is hidden.
export function showProblem(scope, error, alert = scope.querySelector(".alert")) {
  clearProblem(scope);
  const unplaced = [];
  let first = null;
  for (const { field: name, message } of error.errors || []) {
    const control = scope.querySelector(`[name="${CSS.escape(name)}"]`);
    const slot = control && scope.querySelector(`#${CSS.escape(control.id)}-error`);
    if (slot) {
      slot.textContent = sentence(message);
      control.setAttribute("aria-invalid", "true");
      first ||= control;
    } else {
      unplaced.push(`${name}: ${message}`);
    }
  }
  if (alert) {
    alert.replaceChildren(...[h("strong", { class: "alert-title" }, error.title || "Something went wrong"),
      error.detail || error.message ? h("p", {}, error.detail || error.message) : null,
      unplaced.length ? h("ul", {}, unplaced.map((line) => h("li", {}, line))) : null].filter(Boolean));
    alert.hidden = false;
  }
  (first || alert)?.focus?.();
}

// Runs an action with its button disabled and marked busy; shows any error in `scope`.
export async function act(button, scope, action) {
  clearProblem(scope);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (error) {
    showProblem(scope, error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// The values of a form's named controls: checkboxes as booleans, number inputs as numbers, empty text as null.
export function formValues(form) {
  const values = {};
  for (const control of form.querySelectorAll("[name]")) {
    if (control.type === "checkbox") values[control.name] = control.checked;
    else if (control.type === "number") values[control.name] = control.value === "" ? null : Number(control.value);
    else values[control.name] = control.value.trim() === "" ? null : control.value.trim();
  }
  return values;
}

export const loading = (what = "Loading") =>
  h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), `${what}…`);

export const empty = (text, ...more) => h("div", { class: "empty" }, h("p", {}, text), ...more);

// Loads data into `target`, showing a loading state first and the problem if it fails.
export async function load(target, fetcher, render, what) {
  target.replaceChildren(loading(what));
  try {
    const data = await fetcher();
    target.replaceChildren();
    render(data);
  } catch (error) {
    if (error.status === 401) return; // the sign-in page has taken over
    const alert = alertBox();
    target.replaceChildren(alert);
    showProblem(target, error, alert);
  }
}

let announcer = null;
export function announce(text) {
  announcer ||= document.getElementById("announcer");
  announcer.textContent = "";
  setTimeout(() => { announcer.textContent = text; }, 50);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { class: "offscreen", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

export function copyButton(value, label) {
  const button = h("button", { type: "button", class: "copy", "aria-label": `Copy ${label}` }, "Copy");
  button.addEventListener("click", async () => {
    await copyText(value);
    // The accessible name keeps the visible word (WCAG 2.5.3, label in name) in both states.
    button.textContent = "Copied";
    button.setAttribute("aria-label", `Copied ${label}`);
    announce(`${label} copied`);
    setTimeout(() => {
      button.textContent = "Copy";
      button.setAttribute("aria-label", `Copy ${label}`);
    }, 2000);
  });
  return button;
}

// One clock: every time is shown in the organisation's time zone with the zone's name, whatever the browser's.
let zone = "UTC";
let dateTime;
let dateOnly;
export function useTimeZone(name) {
  zone = name || "UTC";
  dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZone: zone, timeZoneName: "short",
  });
  dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: zone });
}
useTimeZone("UTC");
// "America/Chicago (CST)": the zone and its name now.
export function zoneLabel() {
  const short = dateTime.formatToParts(new Date()).find((part) => part.type === "timeZoneName")?.value;
  return short && short !== zone ? `${zone} (${short})` : zone;
}
export const when = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
export const day = (iso) => (iso ? dateOnly.format(new Date(iso)) : "—");

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

export const STATUS_TEXT = {
  draft: "Draft",
  pending_approval: "Waiting for approval",
  validated: "EHR sign-in done, waiting for a decision",
  approved: "Approved",
  rejected: "Rejected",
};

export const badge = (status, text = STATUS_TEXT[status] || status) =>
  h("span", { class: `badge badge-${status}` }, text);

export function table(columns, rows, { caption, empty: emptyText = "Nothing here yet." } = {}) {
  if (!rows.length) return empty(emptyText);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || "Table" },
    h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([title, cell]) => {
        const content = cell(row);
        return h("td", { "data-label": title }, content instanceof Node ? content : String(content ?? "—"));
      }))))));
}

export const section = (title, ...children) =>
  h("section", { class: "card" }, h("h2", {}, title), ...children);
