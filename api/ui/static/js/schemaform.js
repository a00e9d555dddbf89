/* A form generated from a runbook's JSON Schema (type object): one labelled field per property.
   Jarvis.schemaForm(schema, {connections}) → {node, collect()}; collect() answers the input object. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;

  const isSecret = (p) => p.format === "password" || p.writeOnly === true;
  const labelOf = (name, p) => p.title || name.replace(/[_-]+/g, " ").replace(/^./, (c) => c.toUpperCase());
  let seq = 0;
  const uid = (name) => "sf-" + name.replace(/[^\w-]/g, "_") + "-" + ++seq;

  function scalarInput(name, p, id, value) {
    const type = Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type;
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
    const kind = secret ? "password" : p.format === "email" ? "email" : p.format === "uri" ? "url" : "text";
    const input = el("input", { id, name, type: kind, autocomplete: secret ? "new-password" : "off", spellcheck: "false" });
    if (p.pattern) input.pattern = p.pattern;
    if (p.minLength !== undefined) input.minLength = p.minLength;
    if (p.maxLength !== undefined) input.maxLength = p.maxLength;
    if (!secret && value !== undefined && value !== null) input.value = value;   // secrets are never pre-filled
    return input;
  }

  function readScalar(input, p) {
    const type = Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type;
    if (input.value === "") return undefined;
    if (input.tagName === "SELECT") return JSON.parse(input.value);
    if (type === "integer") return parseInt(input.value, 10);
    if (type === "number") return Number(input.value);
    return input.value;
  }

  function arrayField(name, p, required) {
    const items = p.items || { type: "string" };
    const label = labelOf(name, p);
    const list = el("div.array-items");
    const legendId = uid(name) + "-legend";
    const addRow = (value) => {
      const n = list.children.length + 1;
      const input = scalarInput(name, items, uid(name + "-" + n), value);
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
    const node = el("fieldset.field", { dataset: { field: name }, "aria-describedby": legendId + "-err" },
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

  function field(name, p, required, ctx) {
    if (name === "connection" && ctx.connectionType) {
      const options = (ctx.connections || []).map((c) => [c.name, c.name + (c.environment ? " (" + c.environment + ")" : "")]);
      const f = J.field({ label: p.title || "Connection", name, required: true, options: [["", "— choose a " + ctx.connectionType + " connection —"], ...options],
        hint: p.description || (options.length ? "A " + ctx.connectionType + " connection from Settings."
          : "No " + ctx.connectionType + " connection exists yet: add one in Settings → Connections.") });
      const sel = f.querySelector("select");
      if (options.length === 1) sel.value = options[0][0];
      return { node: f, collect: () => sel.value || undefined };
    }
    const type = Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type;
    if (type === "array") return arrayField(name, p, required);
    if (type === "boolean") {
      const id = uid(name);
      const box = el("input", { id, name, type: "checkbox", checked: p.default === true });
      const node = el("div.field", { dataset: { field: name } },
        el("label.check", { for: id }, box, " " + labelOf(name, p)),
        p.description ? el("span.hint", { text: p.description }) : null,
        el("span.error", { role: "alert" }));
      return { node, collect: () => box.checked };
    }
    if (type === "object" || (!type && !p.enum)) {
      const f = J.field({ label: labelOf(name, p), name, type: "textarea", required,
        value: p.default !== undefined ? JSON.stringify(p.default, null, 2) : "", hint: (p.description || "") + " (JSON)" });
      const ta = f.querySelector("textarea");
      return { node: f, collect: () => {
        if (!ta.value.trim()) return undefined;
        try { return JSON.parse(ta.value); } catch (e) { throw new FieldError(name, "not valid JSON: " + e.message); }
      } };
    }
    const input = scalarInput(name, p, uid(name), p.default);
    input.required = required;
    const hint = [p.description, isSecret(p) ? "Secret: sent once, never shown again." : null].filter(Boolean).join(" ");
    const f = J.field({ label: labelOf(name, p), name, required, hint: hint || undefined, input });
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
    if (!fields.length) node.append(el("p.muted", { text: "This runbook takes no input." }));
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
