/* Settings for administrators: create and edit connections (a form per type, built from its schemas;
   credentials write-only), users and roles, the two-factor policy, and the audit log. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  if (!J.can("admin") || document.body.dataset.scope !== "full") return;
  const ROLES = ["viewer", "operator", "admin"];

  /* ---- connections: new and edit, the form built from the type's schemas ---- */
  const connDialog = J.$("#conn-dialog"), connForm = J.$("#conn-form"), typeSelect = J.$("#cf-type");
  let types = null, editing = null, parts = null;
  async function loadTypes() {
    if (!types) types = Object.fromEntries((await J.get("/api/connection-types")).map((t) => [t.name, t]));
    return types;
  }
  function buildParts(type, conn) {
    const t = types[type];
    J.$("#cf-type-desc").textContent = t ? t.description : "";
    const common = { omitDefaults: true, values: conn ? conn.config : {} };
    parts = {
      config: J.schemaForm(t && t.config_schema, { ...common, prefix: "config.", empty: "This type takes no settings." }),
      credentials: J.schemaForm(t && t.credentials_schema, { prefix: "credentials.", stored: conn ? conn.credential_hints : {},
        empty: "This type takes no credentials." }),
    };
    J.clear(J.$("#cf-config .conn-fields"), parts.config.node);
    J.clear(J.$("#cf-creds .conn-fields"), parts.credentials.node);
  }
  async function openConnection(conn) {
    try { await loadTypes(); } catch (err) { return J.toast(err.message, "error"); }
    editing = conn || null;
    connForm.reset();
    J.clearErrors(connForm);
    J.clear(typeSelect, Object.values(types).map((t) => el("option", { value: t.name, text: t.name + " — " + t.title })));
    typeSelect.disabled = !!conn;           // a connection keeps its type; make another for another type
    if (conn) {
      connForm.name.value = conn.name;
      connForm.environment.value = conn.environment || "";
      typeSelect.value = conn.type;
    }
    J.$("#conn-dialog-h").textContent = conn ? "Edit connection " + conn.name : "New connection";
    J.$("#conn-submit").textContent = conn ? "Save" : "Create";
    buildParts(typeSelect.value, conn);
    connDialog.showModal();
    J.$("#cf-name").focus();
  }
  J.$("#conn-new").addEventListener("click", () => openConnection(null));
  J.editConnection = openConnection;
  typeSelect.addEventListener("change", () => buildParts(typeSelect.value, null));
  J.inlineValidation(connForm);
  connForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(connForm);
    if (!connForm.checkValidity()) return connForm.reportValidity();
    let config, credentials;
    try {
      config = parts.config.collect();
      credentials = parts.credentials.collect();
    } catch (err) { return J.showErrors(connForm, err); }
    const body = { name: connForm.name.value.trim(), environment: connForm.environment.value.trim(), config };
    try {
      if (editing) {
        if (Object.keys(credentials).length) body.credentials = credentials;    // empty secrets are kept
        await J.patch("/api/connections/" + editing.id, body);
      } else {
        await J.post("/api/connections", { ...body, type: typeSelect.value, credentials });
      }
      connDialog.close();
      J.toast(editing ? "Connection saved." : "Connection created.", "ok");
      J.loadConnections();
    } catch (err) {
      J.showErrors(connForm, err);
    }
  });

  /* ---- users ---- */
  async function loadUsers() {
    const body = J.$("#users-body");
    let users;
    try { users = await J.get("/api/users"); } catch (err) { return J.clear(body, el("div.notice", { text: err.message })); }
    const myEmail = document.body.dataset.userEmail;
    J.clear(body, el("div.table-wrap", el("table",
      el("thead", el("tr", ["User", "Role", "Active", "Two-factor", "Last sign-in", ""].map((h, i) => el("th" + (i > 2 && i < 5 ? ".hide-sm" : ""), { scope: "col", text: h })))),
      el("tbody", users.map((u) => {
        const self = u.email === myEmail;
        const role = el("select", { "aria-label": "Role of " + u.email, disabled: self },
          ROLES.map((r) => el("option", { value: r, text: r, selected: r === u.role })));
        role.addEventListener("change", () => update(u, { role: role.value }));
        const active = el("input", { type: "checkbox", checked: u.active, disabled: self, "aria-label": "Account of " + u.email + " active" });
        active.addEventListener("change", () => update(u, { active: active.checked }));
        return el("tr",
          el("td", el("strong", { text: u.name || u.email }), u.name ? el("div.muted", { text: u.email }) : null),
          el("td", role), el("td", active),
          el("td.hide-sm", J.badge(u.totp_enabled ? "ok" : "unknown", u.totp_enabled ? "on" : "off")),
          el("td.hide-sm", { text: J.ago(u.last_login_at) }),
          el("td", self ? el("span.muted", { text: "you" }) : el("button.btn.small.danger.mutating", { type: "button", text: "Delete", "aria-label": "Delete " + u.email,
            onclick: async () => {
              if (!confirm(`Delete ${u.email}?`)) return;
              try { await J.del("/api/users/" + u.id); loadUsers(); } catch (err) { J.toast(err.message, "error"); }
            } })));
      })))));
  }
  async function update(u, patch) {
    try { await J.patch("/api/users/" + u.id, patch); J.toast("Saved.", "ok"); } catch (err) { J.toast(err.message, "error"); loadUsers(); }
  }
  const userDialog = J.$("#user-dialog"), userForm = J.$("#user-form");
  J.$("#user-new").addEventListener("click", () => { userForm.reset(); J.clearErrors(userForm); userDialog.showModal(); J.$("#uf-email").focus(); });
  J.inlineValidation(userForm);
  userForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(userForm);
    if (!userForm.checkValidity()) return userForm.reportValidity();
    try {
      await J.post("/api/users", { email: userForm.email.value.trim(), name: userForm.name.value.trim(), role: userForm.role.value, password: userForm.password.value });
      userDialog.close();
      J.toast("User created.", "ok");
      loadUsers();
    } catch (err) { J.showErrors(userForm, err); }
  });
  for (const b of J.$$(".close-dialog")) b.addEventListener("click", () => b.closest("dialog").close());

  /* ---- two-factor policy ---- */
  async function loadPolicy() {
    const box = J.$("#policy-roles");
    let policy;
    try { policy = await J.get("/api/auth/policy"); } catch (err) { return J.clear(box, el("div.notice", { text: err.message })); }
    J.clear(box, ROLES.map((r) => el("label.check", { for: "pol-" + r },
      el("input", { type: "checkbox", id: "pol-" + r, name: "roles", value: r, checked: policy.totp_required_roles.includes(r) }), " " + r)));
  }
  J.$("#policy-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const roles = J.$$("#policy-roles input:checked").map((i) => i.value);
    try { await J.put("/api/auth/policy", { totp_required_roles: roles }); J.toast("Policy saved.", "ok"); } catch (err) { J.toast(err.message, "error"); }
  });

  /* ---- audit ---- */
  const LIMIT = 50;
  let offset = 0;
  const auditForm = J.$("#audit-filters");
  async function loadAudit() {
    const p = new URLSearchParams({ offset, limit: LIMIT });
    for (const name of ["user", "action", "result", "ip"]) if (auditForm[name].value.trim()) p.set(name, auditForm[name].value.trim());
    for (const name of ["since", "until"]) if (auditForm[name].value) p.set(name, new Date(auditForm[name].value).toISOString());
    const body = J.$("#audit-body");
    let page;
    try { page = await J.get("/api/audit?" + p); } catch (err) { return J.clear(body, el("div.notice", { role: "alert", text: err.message })); }
    if (!page.items.length) J.clear(body, J.empty("No audit entry matches", "Change the filters.", null));
    else J.clear(body, el("div.table-wrap", el("table",
      el("thead", el("tr", ["When", "User", "Action", "Target", "Result", "IP"].map((h, i) => el("th" + (i > 3 && i !== 4 ? ".hide-sm" : ""), { scope: "col", text: h })))),
      el("tbody", page.items.map((a) => el("tr",
        el("td", { text: J.fmtDate(a.at) }), el("td", { text: a.user_email || "—" }), el("td.mono", { text: a.action }),
        el("td", { text: a.target || "—" }), el("td", J.badge(a.result === "success" ? "ok" : a.result === "denied" ? "pending" : "error", a.result + " " + a.status)),
        el("td.hide-sm.mono", { text: a.ip })))))));
    const end = offset + page.items.length;
    J.$("#audit-range").textContent = page.total ? `${offset + 1}–${end} of ${page.total}` : "";
    J.$("#audit-prev").disabled = offset === 0;
    J.$("#audit-next").disabled = end >= page.total;
  }
  auditForm.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; loadAudit(); });
  J.$("#audit-prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); loadAudit(); });
  J.$("#audit-next").addEventListener("click", () => { offset += LIMIT; loadAudit(); });

  J.settingsLoaders = J.settingsLoaders || {};
  J.settingsLoaders.users = () => { loadUsers(); loadPolicy(); };
  J.settingsLoaders.audit = loadAudit;
})();
