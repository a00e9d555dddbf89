/* A form generated from a JSON Schema (type object): one labelled field per property. Runbooks build
   their input form with it, Settings a connection's config and credentials (GET /api/connection-types).
   Jarvis.schemaForm(schema, ctx) → {node, collect()}; collect() answers the object.
   ctx: connectionType, connections  a runbook's connection select
        choices                      {input: [names]} for inputs marked x-jarvis-choices
        prefix        field names and error keys ("config." → data-field "config.base_url")
        values        current values to fill in (never secrets)
        stored        {key: hint} of secrets already stored: left empty they stay, an optional one can be
                      removed (collect() answers null for it)
        omitDefaults  leave defaults out: a default is a placeholder, a boolean at its default is not sent
        empty         the text shown when the schema has no property
   Secrets (writeOnly, or format password) are masked, never pre-filled, and never read back. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;

  const isSecret = (p) => p.format === "password" || p.writeOnly === true;
  const isText = (p) => typeof p.contentMediaType === "string";      // a PEM block, known_hosts lines
  const typeOf = (p) => (Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type);
  const labelOf = (name, p) => p.title || name.replace(/[_-]+/g, " ").replace(/^./, (c) => c.toUpperCase());
  let seq = 0;
  const uid = (name) => "sf-" + name.replace(/[^\w-]/g, "_") + "-" + ++seq;

  function scalarInput(name, p, id, value) {
    const type = typeOf(p);
    if (Array.isArray(p.enum)) {
      return el("select", { id, name },
        el("option", { value: "", text: "— choose —" }),
        p.enum.map((v) => el("option", { value: JSON.stringify(v), text: String(v), selected: value !== undefined && v === value })));
    }
    if (type === "integer" || type === "number") {
      const input = el("input", { id, name, type: "number", step: type === "integer" ? "1" : "any", inputmode: "decimal" });
      if (p.minimum !== undefined) input.min = p.minimum;
      if (p.maximum !== undefined) input.max = p.maximum;
      if (value !== undefined && value !== null) input.value = value;
      return input;
    }
    const secret = isSecret(p);
    const example = Array.isArray(p.examples) && p.examples.length ? String(p.examples[0])
      : p.default !== undefined ? String(p.default) : undefined;
    let input;
    if (isText(p)) {
      input = el("textarea" + (secret ? ".masked" : ""), { id, name, spellcheck: "false", autocomplete: "off", placeholder: example, rows: 3 });
    } else {
      const kind = secret ? "password" : p.format === "email" ? "email" : p.format === "uri" ? "url" : "text";
      input = el("input", { id, name, type: kind, autocomplete: secret ? "new-password" : "off", spellcheck: "false", placeholder: example });
      if (p.pattern) input.pattern = p.pattern;
    }
    if (p.minLength !== undefined) input.minLength = p.minLength;
    if (p.maxLength !== undefined) input.maxLength = p.maxLength;
    if (!secret && value !== undefined && value !== null) input.value = value;   // secrets are never pre-filled
    return input;
  }

  function readScalar(input, p) {
    const type = typeOf(p);
    if (input.value === "") return undefined;
    if (input.tagName === "SELECT") return JSON.parse(input.value);
    if (type === "integer") return parseInt(input.value, 10);
    if (type === "number") return Number(input.value);
    return input.value;
  }

  function arrayField(name, p, required, fname) {
    const items = p.items || { type: "string" };
    const label = labelOf(name, p);
    const list = el("div.array-items");
    const legendId = uid(name) + "-legend";
    const addRow = (value) => {
      const n = list.children.length + 1;
      const input = scalarInput(fname, items, uid(name + "-" + n), value);
      input.setAttribute("aria-label", label + " item " + n);
      if (required && n === 1) input.required = true;
      const remove = el("button.btn.small", { type: "button", "aria-label": "Remove " + label + " item " + n, text: "Remove",
        onclick: () => { row.remove(); renumber(); } });
      const row = el("div.array-row", input, remove);
      list.append(row);
      return input;
    };
    const renumber = () => J.$$(".array-row", list).forEach((row, i) => {
      row.querySelector("input,select").setAttribute("aria-label", label + " item " + (i + 1));
      row.querySelector("button").setAttribute("aria-label", "Remove " + label + " item " + (i + 1));
    });
    for (const v of Array.isArray(p.default) ? p.default : []) addRow(v);
    if (!list.children.length) addRow();
    const node = el("fieldset.field", { dataset: { field: fname }, "aria-describedby": legendId + "-err" },
      el("legend", { id: legendId }, label, required ? el("span.req", { "aria-hidden": "true", text: "*" }) : null),
      list,
      el("button.btn.small.add-item", { type: "button", text: "Add " + label.toLowerCase() + " item",
        onclick: () => addRow().focus() }),
      p.description ? el("span.hint", { text: p.description }) : null,
      el("span.error", { id: legendId + "-err", role: "alert" }));
    const collect = () => {
      const out = J.$$(".array-row", list).map((r) => readScalar(r.querySelector("input,select"), items))
        .filter((v) => v !== undefined);
      return out.length || required ? out : undefined;
    };
    return { node, collect };
  }

  /* A secret: masked; with a file picker when it is a PEM block; when one is stored, a hint that it is
     kept unless replaced, and (if it is optional) a box to remove it. */
  function secretField(name, p, required, ctx, fname) {
    const stored = (ctx.stored || {})[name];
    const input = scalarInput(fname, p, uid(fname), undefined);
    input.required = required && !stored;
    const hint = [p.description, stored ? "Stored (" + stored + "): leave empty to keep it." : "Secret: sent once, never shown again."]
      .filter(Boolean).join(" ");
    const f = J.field({ label: labelOf(name, p), name: fname, required: input.required, hint, input });
    let remove = null;
    if (isText(p)) {
      const picker = el("input", { type: "file", hidden: true, "aria-hidden": "true", tabindex: "-1" });
      picker.addEventListener("change", async () => {
        if (picker.files[0]) input.value = (await picker.files[0].text()).trim();
        picker.value = "";
      });
      f.querySelector("label").after(el("div.row.field-tools", picker,
        el("button.btn.small", { type: "button", text: "Load from a file", "aria-label": "Load " + labelOf(name, p) + " from a file",
          onclick: () => picker.click() })));
    }
    if (stored && !required) {
      remove = el("input", { type: "checkbox", id: uid(fname + "-remove") });
      f.querySelector(".hint").before(el("label.check", { for: remove.id }, remove, " Remove the stored value"));
    }
    return { node: f, collect: () => (remove && remove.checked ? null : readScalar(input, p)) };
  }

  function field(name, p, required, ctx) {
    const fname = (ctx.prefix || "") + name;
    const value = (ctx.values || {})[name];
    if (name === "connection" && ctx.connectionType) {
      const options = (ctx.connections || []).map((c) => [c.name, c.name + (c.environment ? " (" + c.environment + ")" : "")]);
      const f = J.field({ label: p.title || "Connection", name: fname, required: true, options: [["", "— choose a " + ctx.connectionType + " connection —"], ...options],
        hint: p.description || (options.length ? "A " + ctx.connectionType + " connection from Settings."
          : "No " + ctx.connectionType + " connection exists yet: add one in Settings → Connections.") });
      const sel = f.querySelector("select");
      if (options.length === 1) sel.value = options[0][0];
      return { node: f, collect: () => sel.value || undefined };
    }
    const type = typeOf(p);
    if (type === "array") return arrayField(name, p, required, fname);
    if (isSecret(p)) return secretField(name, p, required, ctx, fname);
    if (type === "boolean") {
      const id = uid(fname);
      const initial = value !== undefined ? value === true : p.default === true;
      const box = el("input", { id, name: fname, type: "checkbox", checked: initial });
      const node = el("div.field", { dataset: { field: fname } },
        el("label.check", { for: id }, box, " " + labelOf(name, p)),
        p.description ? el("span.hint", { text: p.description }) : null,
        el("span.error", { role: "alert" }));
      const keep = value !== undefined || !ctx.omitDefaults;
      return { node, collect: () => (keep || box.checked !== (p.default === true) ? box.checked : undefined) };
    }
    if (type === "object" || (!type && !p.enum)) {
      const shown = value !== undefined ? value : p.default;
      const f = J.field({ label: labelOf(name, p), name: fname, type: "textarea", required,
        value: shown !== undefined ? JSON.stringify(shown, null, 2) : "", hint: (p.description || "") + " (JSON)" });
      const ta = f.querySelector("textarea");
      return { node: f, collect: () => {
        if (!ta.value.trim()) return undefined;
        try { return JSON.parse(ta.value); } catch (e) { throw new FieldError(fname, "not valid JSON: " + e.message); }
      } };
    }
    const input = scalarInput(fname, p, uid(fname), value !== undefined ? value : ctx.omitDefaults ? undefined : p.default);
    input.required = required;
    // x-jarvis-choices: the names the last observation saw, offered as suggestions (free text stays allowed)
    const choices = p["x-jarvis-choices"] && (ctx.choices || {})[name];
    let list = null, hint = p.description;
    if (choices && choices.length) {
      list = el("datalist", { id: uid(fname + "-choices") }, choices.map((c) => el("option", { value: c })));
      input.setAttribute("list", list.id);
      input.autocomplete = "off";
      hint = hint || `Observed: ${choices.length} to choose from, or type another name.`;
    } else if (p["x-jarvis-choices"]) {
      hint = hint || "Nothing observed yet to choose from: type the name.";
    }
    const f = J.field({ label: labelOf(name, p), name: fname, required, hint: hint || undefined, input });
    if (list) f.append(list);
    return { node: f, collect: () => readScalar(input, p) };
  }

  class FieldError extends Error {
    constructor(field, message) { super(message); this.fields = { [field]: message }; }
  }

  J.schemaForm = (schema, ctx) => {
    ctx = ctx || {};
    schema = schema || { type: "object", properties: {} };
    const props = { ...(schema.properties || {}) };
    if (ctx.connectionType && !props.connection) props.connection = { type: "string", title: "Connection" };
    const required = new Set(schema.required || []);
    const fields = Object.entries(props).map(([name, p]) => [name, field(name, p || {}, required.has(name), ctx)]);
    const node = el("div.schema-form", fields.map(([, f]) => f.node));
    if (!fields.length) node.append(el("p.muted", { text: ctx.empty || "This runbook takes no input." }));
    const collect = () => {
      const out = {};
      for (const [name, f] of fields) {
        const v = f.collect();
        if (v !== undefined) out[name] = v;
      }
      return out;
    };
    return { node, collect };
  };
})();
