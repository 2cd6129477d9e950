// SMS notifications: the two consents, phone numbers (acquired by a job that takes up to a few minutes),
// which FHIR base URLs each number serves, per-URL SMS settings, and the HL7 signing certificate of each
// environment. Also the local outbox, where texts land under `make run`.

import { ApiError, get, post, put, remove } from "../api.js";
import {
  act, alertBox, announce, day, empty, field, formValues, h, load, section, table, when,
} from "../ui.js";

const POLL_MS = 1000;
const JOB_STEPS = { queued: 1, searching: 2, purchasing: 3, releasing: 2, succeeded: 4, failed: 4 };
const JOB_TEXT = {
  queued: "Waiting to start",
  searching: "Searching for an available number",
  purchasing: "Buying the number",
  releasing: "Releasing the number",
  succeeded: "Done",
  failed: "Failed",
};
// The wording of each locale patients read: English is the endpoint's own templates, others override a translation.
const WORDINGS = [
  { locale: "en_US", language: "English", prefix: "templates", own: (s) => s?.templates, suffix: "" },
  { locale: "es_US", language: "Spanish", prefix: "locale_templates.es_US", own: (s) => s?.locale_templates?.es_US, suffix: " (Spanish)" },
];
const outputKey = (wording, kind) => (wording.locale === "en_US" ? kind : `${wording.locale}-${kind}`);

function wordingOf(values, wording) {
  const templates = {};
  for (const [kind] of SMS_TYPES) {
    const text = values[`${wording.prefix}.${kind}`];
    delete values[`${wording.prefix}.${kind}`];
    if (text) templates[kind] = text;
  }
  return templates;
}

const SMS_TYPES = [
  ["scheduled", "Booked"],
  ["rescheduled", "Moved"],
  ["cancelled", "Cancelled"],
  ["reminder", "Reminder"],
  ["reminder2", "Second reminder"],
  ["reminder3", "Third reminder"],
  ["confirmed", "Answer to a confirmation (C or YES)"],
];

// Calls onState(complete) each time it has read the consents.
export function consentsPanel(container, onState) {
  load(container, () => get("portal/sms/consents"), (consents) => {
    onState?.(consents.complete);
    const alert = alertBox();
    const boxes = consents.items.map((c) => field({
      label: c.text, name: c.name, type: "checkbox", value: Boolean(c.accepted_at),
      hint: c.accepted_at ? `Given ${when(c.accepted_at)}` : null,
      attrs: { disabled: Boolean(c.accepted_at) },
    }));
    const submit = h("button", { type: "submit", class: "primary" }, "Give consent");
    const form = h("form", { novalidate: true }, alert,
      h("fieldset", {}, h("legend", {}, "Both are needed before texts can be set up"), boxes),
      consents.complete ? h("p", { class: "notice success" }, "Both consents are given.") : submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(submit, form, async () => {
        const missing = consents.items.filter((c) => !c.accepted_at && !form.elements[c.name].checked);
        if (missing.length) {
          throw new ApiError(400, { title: "Both consents are needed", detail: "Tick both boxes to give the consents.",
            errors: missing.map((c) => ({ field: c.name, message: "tick this box to consent" })) });
        }
        for (const c of consents.items.filter((item) => !item.accepted_at)) await post(`portal/sms/consents/${c.name}`);
        announce("Consents given");
        consentsPanel(container, onState);
      });
    });
    container.append(form);
  }, "Loading the consents");
}

// Polls a phone-number job until it is done, showing its progress in `box`.
async function followJob(box, job, onDone) {
  const progress = h("progress", { max: 4, value: JOB_STEPS[job.status] || 1, "aria-label": "Progress" });
  const text = h("p", { role: "status" });
  box.replaceChildren(h("div", { class: "job" }, progress, text));
  let current = job;
  for (;;) {
    progress.value = JOB_STEPS[current.status] || 1;
    const what = current.kind === "release" ? `Releasing ${current.number}` : "Acquiring a phone number";
    text.textContent = `${what}: ${JOB_TEXT[current.status] || current.status}`;
    if (current.done || !box.isConnected) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      current = await get(`portal/phone-number-jobs/${current.id}`);
    } catch (error) {
      text.textContent = `${error.title}: ${error.detail}`;
      return;
    }
  }
  if (current.status === "failed") {
    box.replaceChildren(h("div", { class: "alert", role: "alert" }, h("strong", {}, "The phone number job failed"),
      h("p", {}, current.error || "No reason was given; try again.")));
  } else if (current.done) {
    text.textContent = current.kind === "release" ? `${current.number} released.` : `${current.number} is ready.`;
  }
  if (current.done) await onDone?.(current);
}

function orderForm(jobBox, onDone) {
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Generate a phone number");
  const form = h("form", { novalidate: true, "aria-labelledby": "order-title" },
    h("h3", { id: "order-title" }, "Generate a phone number"),
    h("p", { class: "hint" }, "Searching and buying take up to about two minutes; you can leave this page meanwhile."),
    alert,
    h("div", { class: "grid" },
      field({ label: "Country", name: "country_code", value: "US", hint: "ISO code, e.g. US.", required: true }),
      field({ label: "Number type", name: "number_type", type: "select", value: "toll_free",
        options: [["toll_free", "Toll-free (recommended for appointment texts)"], ["geographic", "Geographic"]] }),
      field({ label: "Area code", name: "area_code", hint: "Optional, three digits." })),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      const values = formValues(form);
      if (values.area_code === null) delete values.area_code;
      const job = await post("portal/phone-numbers", values);
      await followJob(jobBox, job, onDone);
    });
  });
  return form;
}

function linkForm(number, endpoints, onSaved) {
  const alert = alertBox();
  const submit = h("button", { type: "submit" }, "Save links");
  const linked = new Set(number.linked_endpoint_ids);
  const form = h("form", { class: "links", novalidate: true }, alert,
    h("fieldset", {}, h("legend", {}, `FHIR base URLs that text from ${number.number}`),
      endpoints.length
        ? endpoints.map((e) => h("div", { class: "field check" },
          h("input", { type: "checkbox", id: `link-${number.number}-${e.id}`, name: "endpoint_ids", value: e.id, checked: linked.has(e.id) }),
          h("label", { for: `link-${number.number}-${e.id}` }, e.display_name || e.base_url)))
        : h("p", {}, "Add a FHIR base URL first.")),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      const ids = [...form.querySelectorAll("input[name=endpoint_ids]:checked")].map((box) => box.value);
      await put(`portal/phone-numbers/${encodeURIComponent(number.number)}/endpoints`, { endpoint_ids: ids });
      announce(`Links of ${number.number} saved`);
      await onSaved();
    });
  });
  return form;
}

export function numbersPanel(container, { onChange } = {}) {
  const jobBox = h("div", { class: "job-box" });
  const list = h("div");
  const refresh = async () => {
    await load(list, () => Promise.all([get("portal/phone-numbers"), get("portal/endpoints")]), ([numbers, endpoints]) => {
      const running = numbers.jobs.find((job) => !job.done);
      if (running && !jobBox.hasChildNodes()) followJob(jobBox, running, refresh);
      if (!numbers.items.length) list.append(empty("No phone numbers yet."));
      for (const number of numbers.items) {
        const alert = alertBox();
        const release = h("button", { type: "button", class: "danger" }, "Release");
        const card = h("article", { class: "number" },
          h("h3", {}, number.number, " ", h("span", { class: "badge" }, number.status === "active" ? "Active" : "Releasing")),
          h("p", { class: "hint" }, `${number.number_type === "toll_free" ? "Toll-free" : "Geographic"}, ${number.country_code}, since ${day(number.acquired_at)}${number.monthly_cost ? `, ${number.monthly_cost} a month` : ""}`),
          alert, linkForm(number, endpoints.items, refresh), release);
        release.addEventListener("click", () => {
          if (!window.confirm(`Release ${number.number}? Texts can no longer come from it.`)) return;
          act(release, card, async () => followJob(jobBox, await remove(`portal/phone-numbers/${encodeURIComponent(number.number)}`), refresh));
        });
        list.append(card);
      }
      onChange?.(numbers, endpoints.items);
    }, "Loading phone numbers");
  };
  container.append(list, orderForm(jobBox, refresh), jobBox);
  refresh();
}

// SMS settings of one FHIR base URL; `known` is the phone number list when the caller has just read it.
export function smsSettingsPanel(container, endpoint, known) {
  const read = async () => {
    const numbers = known || await get("portal/phone-numbers");
    try {
      return [await get(`portal/endpoints/${endpoint.id}/sms-settings`), numbers];
    } catch (error) {
      if (error.status === 404) return [null, numbers];
      throw error;
    }
  };
  load(container, read, ([settings, numbers]) => {
    const s = settings || { confirm_scheduled: true, confirm_rescheduled: true, confirm_cancelled: true, reminder_enabled: true, reminder_minutes_before: 1440 };
    const alert = alertBox();
    const submit = h("button", { type: "submit", class: "primary" }, "Save SMS settings");
    const active = numbers.items.filter((n) => n.status === "active");
    const form = h("form", { novalidate: true, class: "sms-settings" }, alert,
      settings ? null : h("p", { class: "notice" }, "No SMS settings yet: no texts are sent for this URL."),
      settings ? h("p", { class: "notice", role: "note" }, "Changing the number or these settings can interrupt texts already scheduled: a reminder due soon may go out late, from the new number, or not at all if its text is turned off.") : null,
      h("div", { class: "grid" },
        field({ label: "Clinic name in texts", name: "clinic_name", value: s.clinic_name, required: true,
          hint: "How texts name the sender, up to 60 characters." }),
        field({ label: "Send from", name: "sender_number", type: "select", value: s.sender_number || "",
          options: [["", "No number: no texts"], ...active.map((n) => [n.number, n.number])],
          hint: active.length ? null : "Generate a phone number first." }),
        field({ label: "Clinic phone number", name: "clinic_phone", type: "tel", value: s.clinic_phone || "",
          hint: "E.164, such as +12175550100. Patients who text HELP or another reply get it (toll-free numbers: the carrier answers HELP). Blank: no such answers.",
          attrs: { autocomplete: "off", inputmode: "tel" } })),
      h("fieldset", {}, h("legend", {}, "Texts to send"),
        field({ label: "When an appointment is booked", name: "confirm_scheduled", type: "checkbox", value: s.confirm_scheduled }),
        field({ label: "When its time or clinician changes", name: "confirm_rescheduled", type: "checkbox", value: s.confirm_rescheduled }),
        field({ label: "When it is cancelled", name: "confirm_cancelled", type: "checkbox", value: s.confirm_cancelled }),
        field({ label: "A reminder before the visit", name: "reminder_enabled", type: "checkbox", value: s.reminder_enabled }),
        field({ label: "Answer a reply C or YES (SÍ) by confirming the next visit", name: "confirm_by_reply", type: "checkbox", value: s.confirm_by_reply ?? true }),
        field({ label: "A two-question survey after the visit", name: "survey_after_visit", type: "checkbox", value: s.survey_after_visit,
          hint: "When the call ends: how was the video visit (1 to 5), would they choose video again. No free text." })),
      h("fieldset", {}, h("legend", {}, "Reminders: one to three, each with its own wording"),
        h("div", { class: "grid" },
          field({ label: "Reminder, minutes before the visit", name: "reminder_minutes_before", type: "number",
            value: s.reminder_minutes_before, hint: "5 to 10080 (a week); 1440 is a day.", attrs: { min: 5, max: 10080 } }),
          field({ label: "Second reminder, minutes before (optional)", name: "reminder2_minutes_before", type: "number",
            value: s.reminder2_minutes_before, hint: "Blank: none. 120 is two hours.", attrs: { min: 5, max: 10080 } }),
          field({ label: "Third reminder, minutes before (optional)", name: "reminder3_minutes_before", type: "number",
            value: s.reminder3_minutes_before, hint: "Blank: none. Each reminder at its own time.", attrs: { min: 5, max: 10080 } }),
          field({ label: "The reminders' link opens the device test first", name: "device_check_first", type: "checkbox",
            value: s.device_check_first, hint: "Patients check their camera, microphone and speaker, then join the visit with one tap." }))),
      h("details", {}, h("summary", {}, "Wording of the texts"),
        h("p", { class: "hint" }, "Blank keeps the default. Use {clinic}, {date}, {time}, {link} and {dial_in} (the meeting's phone number, once it has one). Each patient gets the wording of their language (from the appointment, else the URL's patients' language)."),
        WORDINGS.map((wording) => h("fieldset", { class: "wording", lang: wording.locale.slice(0, 2) },
          h("legend", { lang: "en" }, wording.language),
          SMS_TYPES.map(([kind, label]) => field({ label: label + wording.suffix, name: `${wording.prefix}.${kind}`,
            type: "textarea", value: wording.own(settings)?.[kind] }))))),
      submit);
    segmentCounts(form, endpoint);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(submit, form, async () => {
        const values = formValues(form);
        const [templates, spanish] = WORDINGS.map((wording) => wordingOf(values, wording));
        await put(`portal/endpoints/${endpoint.id}/sms-settings`, { ...values, templates, locale_templates: { es_US: spanish } });
        announce("SMS settings saved");
      });
    });
    container.append(form);
  }, "Loading SMS settings");
}

// Under each template, what its text costs at most and how it reads: the server renders it, in the wording's
// locale, with the longest date, time and link.
function segmentCounts(form, endpoint) {
  const outputs = new Map(WORDINGS.flatMap((wording) => SMS_TYPES.map(([kind]) => {
    const key = outputKey(wording, kind);
    const output = h("p", { class: "segments hint", "aria-live": "polite", "data-segments": key, lang: "en" });
    const preview = h("p", { class: "preview", "data-preview": key, lang: wording.locale.slice(0, 2) });
    form.querySelector(`[data-field="${wording.prefix}.${kind}"]`).append(output, preview);
    return [key, { output, preview }];
  })));
  let timer;
  let asked = 0;
  const measure = async () => {
    const mine = ++asked;
    await Promise.all(WORDINGS.map(async (wording) => {
      const values = formValues(form);
      const templates = wordingOf(values, wording);
      try {
        const lengths = await post(`portal/endpoints/${endpoint.id}/sms-settings/lengths`,
          { clinic_name: values.clinic_name, locale: wording.locale, templates });
        if (mine !== asked) return;
        for (const [kind] of SMS_TYPES) {
          const l = lengths.items[kind];
          const { output, preview } = outputs.get(outputKey(wording, kind));
          const parts = l.segments === 1 ? "1 SMS segment" : `${l.segments} SMS segments`;
          const why = l.encoding === "UCS-2" ? ": a character outside GSM-7 (such as á or a curly quote) halves each segment" : "";
          output.textContent = `At its longest: ${parts}, ${l.characters} characters, ${l.encoding}${why}.`;
          preview.textContent = l.preview;
        }
      } catch (error) {
        if (mine !== asked) return;
        const text = error instanceof ApiError && error.status === 400
          ? "Enter the clinic name and a template of up to 480 characters to see what the text costs."
          : "The length of the texts could not be worked out; try again.";
        for (const [kind] of SMS_TYPES) {
          const { output, preview } = outputs.get(outputKey(wording, kind));
          output.textContent = text;
          preview.textContent = "";
        }
      }
    }));
  };
  form.addEventListener("input", (event) => {
    if (!/^(templates\.|locale_templates\.|clinic_name$)/.test(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(measure, 300);  // while typing, one question per pause
  });
  measure();
}

function settingsPerEndpoint(container, endpoints, numbers) {
  if (!endpoints.length) return container.replaceChildren(empty("Add a FHIR base URL first."));
  const panel = h("div");
  const picker = field({ label: "FHIR base URL", name: "settings-endpoint", type: "select", value: endpoints[0].id,
    options: endpoints.map((e) => [e.id, e.display_name || e.base_url]) });
  const select = picker.querySelector("select");
  const show = () => {
    panel.replaceChildren();
    smsSettingsPanel(panel, endpoints.find((e) => e.id === select.value), numbers);
  };
  select.addEventListener("change", show);
  container.replaceChildren(picker, panel);
  show();
}

function readCertificate(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const bytes = new Uint8Array(reader.result);
      const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      // PEM and Base64 .cer files are text; a binary DER file is sent as the Base64 of its bytes.
      if (/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text)) return resolve(text);
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      resolve(btoa(binary));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

function certificateCard(environment, current, onSaved) {
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, `Upload the ${environment} certificate`);
  const title = environment === "prod" ? "Production" : "Test";
  const form = h("form", { novalidate: true, class: "certificate", "data-environment": environment },
    h("h3", {}, title),
    current
      ? h("dl", { class: "details" },
        h("dt", {}, "Thumbprint (SHA-1)"), h("dd", {}, h("code", { class: "thumbprint" }, current.thumbprint)),
        h("dt", {}, "Subject"), h("dd", {}, current.subject),
        h("dt", {}, "Expires"), h("dd", { class: "expiry" }, day(current.not_after)),
        h("dt", {}, "Uploaded"), h("dd", {}, when(current.uploaded_at)))
      : h("p", {}, "None uploaded: HL7 messages from this environment are refused."),
    alert,
    field({ label: `${title} certificate file (.cer)`, name: "file", type: "file", attrs: { accept: ".cer,.crt,.pem" },
      hint: "The public-key certificate the EHR signs HL7 scheduling messages with (Base64 or PEM)." }),
    field({ label: "Or paste it", name: "certificate", type: "textarea" }),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(submit, form, async () => {
      const file = form.elements.file.files[0];
      const certificate = file ? await readCertificate(file) : form.elements.certificate.value.trim();
      if (!certificate) {
        throw new ApiError(400, { title: "Choose a certificate", detail: "Choose the .cer file or paste its text.",
          errors: [{ field: "file", message: "choose a .cer file" }] });
      }
      let saved;
      try {
        saved = await put(`portal/certificates/${environment}`, { certificate });
      } catch (error) {
        // The API names the `certificate` it was sent; show its complaint next to the control the person used.
        if (file) for (const item of error.errors || []) if (item.field === "certificate") item.field = "file";
        throw error;
      }
      announce(`${title} certificate uploaded, thumbprint ${saved.thumbprint}`);
      await onSaved();
    });
  });
  return form;
}

export function certificatesPanel(container) {
  const refresh = () => load(container, () => get("portal/certificates"), ({ items }) => {
    const by = Object.fromEntries(items.map((c) => [c.environment, c]));
    container.append(h("div", { class: "grid two" },
      certificateCard("test", by.test, refresh), certificateCard("prod", by.prod, refresh)));
  }, "Loading certificates");
  refresh();
}

// The SMS part of setup, in order: consents, numbers and links, settings per URL, certificates.
export function smsSetup(container) {
  const numbers = h("div");
  const settings = h("div");
  const certificates = h("div");
  const gated = [numbers, settings];
  const consents = h("div");
  const onConsents = (complete) => {
    for (const part of gated) part.replaceChildren(...(complete ? [] : [empty("Give both consents first.")]));
    if (complete) numbersPanel(numbers, { onChange: (list, endpoints) => settingsPerEndpoint(settings, endpoints, list) });
  };
  consentsPanel(consents, onConsents);
  container.append(
    section("1. Consents", consents),
    section("2. Phone numbers and the URLs they serve", numbers),
    section("3. SMS settings per FHIR base URL", settings),
    section("4. HL7 signing certificates", h("p", {}, "The EHR signs the scheduling messages it sends; the connector checks each with the certificate of its environment."), certificates));
  certificatesPanel(certificates);
}

export function smsPage(main, ctx) {
  main.append(h("h1", {}, "SMS notifications"),
    h("p", {}, "Appointment confirmations and reminders by text. Optional: visits work without them."),
    ctx.isAdmin ? h("p", {}, h("a", { href: "#/sms/outbox" }, "Texts in the local outbox")) : null);
  if (!ctx.isAdmin) {
    const list = h("div");
    main.append(section("Phone numbers", list));
    load(list, () => get("portal/phone-numbers"), ({ items }) => list.append(table(
      [["Number", (n) => n.number], ["Status", (n) => n.status], ["Serves", (n) => String(n.linked_endpoint_ids.length)]],
      items, { caption: "Phone numbers", empty: "No phone numbers yet." })));
    return;
  }
  smsSetup(main);
  const failed = h("div", { "aria-live": "polite" });
  main.append(section("Texts that could not be sent", h("p", {},
    "Texts Azure Communication Services refused, or that kept failing through every try, in the last 30 days. ",
    "Busy numbers and rate limits only delay texts; they are not listed here."), failed));
  failedTextsPanel(failed);
}

const TYPE_NAMES = Object.fromEntries(SMS_TYPES);

function failedTextsPanel(container) {
  load(container, () => get("portal/sms/failed"), ({ items }) => {
    const alert = alertBox();
    const resend = (text) => {
      const button = h("button", { type: "button" }, "Resend");
      button.addEventListener("click", () => act(button, container, async () => {
        await post(`portal/sms/failed/${text.endpoint_id}/${text.id}/resend`);
        announce("Text queued again");
        failedTextsPanel(container);
      }));
      button.setAttribute("aria-label", `Resend the ${TYPE_NAMES[text.type] || text.type} text that failed ${when(text.updated_at)}`);
      return button;
    };
    container.append(alert, table([
      ["Failed", (t) => when(t.updated_at)],
      ["Type", (t) => TYPE_NAMES[t.type] || t.type],
      ["Reason", (t) => t.reason || "Not given"],
      ["Tries", (t) => String(t.attempts)],
      ["", resend],
    ], items, { caption: "Failed texts, newest first", empty: "No failed texts." }));
  }, "Loading failed texts");
}

export function outboxPage(main) {
  const list = h("div", { "aria-live": "polite" });
  const refreshButton = h("button", { type: "button" }, "Refresh");
  const refresh = () => load(list, () => get("portal/sms/outbox"), ({ items }) => list.append(table([
    ["Sent", (m) => when(m.created_at)],
    ["To", (m) => m.to_masked],
    ["From", (m) => m.sender],
    ["Text", (m) => h("span", { class: "sms-body" }, m.body)],
  ], items, { caption: "Texts in the outbox, newest first", empty: "No texts yet. Book a visit with SMS settings on (make demo does)." })), "Loading the outbox");
  refreshButton.addEventListener("click", refresh);
  main.append(h("h1", {}, "Local SMS outbox"),
    h("p", {}, "Under make run texts are kept here instead of being sent; phone numbers are masked."),
    refreshButton, list);
  refresh();
}
