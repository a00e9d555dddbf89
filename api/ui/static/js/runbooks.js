/* The runbook catalog (search, category filter) and the Execute dialog with the generated form. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const catalog = J.$("#catalog"), errBox = J.$("#rb-error");
  const q = J.$("#rb-q"), cat = J.$("#rb-cat");
  const dialog = J.$("#run-dialog"), form = J.$("#run-form");
  let all = [], current = null, generated = null;
  let connectionTypes = null;     // the types that have at least one connection (null: not known)

  const mayRun = (rb) => J.can("operator") && J.can(rb.role || "operator");
  // a runbook that acts through a connection cannot run before one of its type exists
  const missing = (rb) => rb.connection_type && connectionTypes && !connectionTypes.has(rb.connection_type);

  function card(rb) {
    return el("article.card.runbook", { "aria-labelledby": "rb-" + rb.name },
      el("div.row", el("h2", { id: "rb-" + rb.name, text: rb.title || rb.name }), el("span.badge.plain", { text: rb.category || "general" })),
      el("p", { text: rb.description || "" }),
      el("div.row.muted",
        el("code", { text: rb.name }),
        el("span", { text: "role " + (rb.role || "operator") + " · timeout " + J.duration(rb.timeout) })),
      mayRun(rb) ? execute(rb) : null);
  }

  function execute(rb) {
    const label = "Execute " + (rb.title || rb.name);
    if (!missing(rb)) {
      return el("button.btn.primary.mutating", { type: "button", text: "Execute", "aria-label": label, onclick: () => open(rb) });
    }
    const why = "why-" + rb.name;
    return el("div.run-blocked",
      el("button.btn.primary.mutating", { type: "button", text: "Execute", "aria-label": label, disabled: true, "aria-describedby": why }),
      el("p.muted.hint", { id: why }, `Needs a ${rb.connection_type} connection, and none exists yet. `,
        J.can("admin") ? el("a", { href: "/settings#connections", text: "Add one in Settings → Connections." })
          : "An administrator adds one in Settings → Connections."));
  }

  function render() {
    const text = q.value.trim().toLowerCase(), c = cat.value;
    const shown = all.filter((rb) => (!c || rb.category === c) &&
      (!text || [rb.name, rb.title, rb.description].join(" ").toLowerCase().includes(text)));
    if (!all.length) {
      J.clear(catalog, el("div.card", J.empty("No runbook in the catalog",
        "Runbooks are folders with a runbook.yaml and a playbook; add folders to the runbook paths in the settings.", null)));
    } else if (!shown.length) {
      J.clear(catalog, el("div.card", J.empty("No runbook matches", "Change the search or the category.", null)));
    } else {
      J.clear(catalog, shown.map(card));
    }
  }

  async function load() {
    // the connections' types (never their credentials) decide which runbooks can run now
    const types = J.get("/api/connections").then((list) => { connectionTypes = new Set(list.map((c) => c.type)); if (all.length) render(); }, () => {});
    try {
      all = await J.get("/api/runbooks");
    } catch (err) {
      all = [];
      errBox.hidden = false;
      errBox.textContent = err.status === 404
        ? "The runbook API is not available on this server yet."
        : "Could not load the runbooks: " + err.message;
      J.clear(catalog);
      return;
    }
    const cats = [...new Set(all.map((r) => r.category || "general"))].sort();
    for (const c of cats) cat.append(el("option", { value: c, text: c }));
    const wanted = new URLSearchParams(location.search);
    if (wanted.get("q")) q.value = wanted.get("q");
    if (cats.includes(wanted.get("category"))) cat.value = wanted.get("category");
    render();
    if (wanted.get("run")) {
      await types;      // a ?run= link opens the dialog only once it is known that the runbook can run
      const rb = all.find((r) => r.name === wanted.get("run"));
      if (rb && mayRun(rb) && !missing(rb)) open(rb);
    }
  }

  async function open(rb) {
    current = rb;
    J.$("#run-title").textContent = "Run " + (rb.title || rb.name);
    J.$("#run-desc").textContent = rb.description || "";
    J.clearErrors(form);
    let connections = [];
    if (rb.connection_type) {
      try { connections = await J.get("/api/connections?type=" + encodeURIComponent(rb.connection_type)); } catch (e) { /* empty select says so */ }
    }
    let choices = {};
    try { choices = (await J.get("/api/runbooks/" + encodeURIComponent(rb.name) + "/choices")).choices; } catch (e) { /* free text only */ }
    generated = J.schemaForm(rb.input_schema, { connectionType: rb.connection_type, connections, choices });
    J.clear(J.$("#run-fields"), generated.node);
    dialog.showModal();
    const first = form.querySelector(".dialog-body input, .dialog-body select, .dialog-body textarea");
    if (first) first.focus();
  }

  for (const b of J.$$(".close-dialog", dialog)) b.addEventListener("click", () => dialog.close());
  J.inlineValidation(form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(form);
    if (!form.checkValidity()) { form.reportValidity(); return; }
    let input;
    try {
      input = generated.collect();
    } catch (err) {
      J.showErrors(form, err);
      return;
    }
    const btn = J.$("#run-submit");
    btn.disabled = true;
    try {
      const job = await J.post("/api/runbooks/" + encodeURIComponent(current.name) + "/execute", { input });
      location.assign("/jobs/" + encodeURIComponent(job.id));
    } catch (err) {
      J.showErrors(form, err, "input.");
    } finally {
      btn.disabled = false;
    }
  });

  q.addEventListener("input", render);
  cat.addEventListener("change", render);
  J.$("#rb-filters").addEventListener("submit", (e) => e.preventDefault());
  load();
})();
