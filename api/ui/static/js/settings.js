/* Settings: my account (profile, password, TOTP enrolment with a QR code drawn here, recovery
   codes) and the connections list (test for operators, delete for admins). */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  let me = null;

  /* ---- profile ---- */
  async function loadMe() {
    try {
      me = await J.get("/api/auth/me");
    } catch (err) {
      return J.clear(J.$("#me"), el("div.notice", { text: err.message }));
    }
    const rows = [["Email", me.email], ["Name", me.name || "—"], ["Role", me.role], ["Last sign-in", J.fmtDate(me.last_login_at)],
      ["Two-factor", me.totp_enabled ? "enabled" : me.totp_required ? "required for your role, not enrolled" : "not enabled"]];
    J.clear(J.$("#me"), rows.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    totp();
  }

  /* ---- password ---- */
  const pwForm = J.$("#password-form");
  J.inlineValidation(pwForm);
  pwForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(pwForm);
    if (!pwForm.checkValidity()) return pwForm.reportValidity();
    if (pwForm.new_password.value !== pwForm.confirm.value) return J.showErrors(pwForm, { fields: { confirm: "the two passwords differ" } });
    try {
      // the answer's fresh session is already in the cookies: the old one (and every other) ended
      const fresh = await J.post("/api/auth/password", { current_password: pwForm.current_password.value, new_password: pwForm.new_password.value });
      if (fresh.scope === "full") return location.assign("/dashboard");
      location.assign("/settings#account");   // still confined: two-factor is required for the role
      location.reload();
    } catch (err) {
      J.showErrors(pwForm, err);
    }
  });

  /* ---- TOTP ---- */
  const totpBody = J.$("#totp-body");
  function recoveryList(codes) {
    return el("div", el("div.notice.ok", { role: "status", text: "Keep these recovery codes somewhere safe. Each works once, and they are shown only now." }),
      el("div.recovery", { id: "recovery-codes" }, codes.map((c) => el("code", { text: c }))));
  }
  function totp() {
    if (me.totp_enabled) {
      const codeId = "rc-code", pwId = "dis-pw";
      const newCodes = el("form#recovery-form", { novalidate: true },
        el("h3", { text: "New recovery codes" }),
        J.field({ label: "Current authentication code", name: "code", id: codeId, required: true, autocomplete: "one-time-code" }),
        el("button.btn", { type: "submit", text: "Generate new codes" }));
      const disable = el("form#disable-form", { novalidate: true },
        el("h3", { text: "Turn off two-factor" }),
        J.field({ label: "Your password", name: "password", id: pwId, type: "password", required: true, autocomplete: "current-password" }),
        el("button.btn.danger", { type: "submit", text: "Turn off" }));
      const out = el("div#recovery-out");
      J.clear(totpBody, el("p", J.badge("ok", "enabled"), " Your account asks for a code from your authenticator app at sign-in."),
        el("div.grid.two", newCodes, disable), out);
      newCodes.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          const r = await J.post("/api/auth/totp/recovery-codes", { code: newCodes.code.value.trim() });
          J.clear(out, recoveryList(r.recovery_codes));
          newCodes.reset();
        } catch (err) { J.showErrors(newCodes, err); }
      });
      disable.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await J.post("/api/auth/totp/disable", { password: disable.password.value });
          J.toast("Two-factor authentication turned off.", "ok");
          loadMe();
        } catch (err) { J.showErrors(disable, err); }
      });
      return;
    }
    J.clear(totpBody,
      el("p.muted", { text: "Protect your account with a 6-digit code from an authenticator app (TOTP)." }),
      el("button.btn.primary#totp-start", { type: "button", text: "Set up two-factor", onclick: enrol }));
  }
  async function enrol() {
    let r;
    try {
      r = await J.post("/api/auth/totp/enroll", {});
    } catch (err) {
      return J.toast(err.message, "error");
    }
    const form = el("form#totp-verify", { novalidate: true },
      J.field({ label: "Code from the app", name: "code", id: "totp-code", required: true, autocomplete: "one-time-code",
        hint: "Enter the 6-digit code the app shows to confirm." }),
      el("button.btn.primary", { type: "submit", text: "Confirm" }));
    J.clear(totpBody, el("div.enrol",
      el("div.qr", { id: "totp-qr", dataset: { uri: r.otpauth_uri } }, J.qrSvg(r.otpauth_uri, "QR code to scan with an authenticator app")),
      el("div",
        el("ol.steps", el("li", { text: "Scan the code with your authenticator app." }),
          el("li", "Or type this key: ", el("code.secret", { text: r.secret.replace(/(.{4})/g, "$1 ").trim() })),
          el("li", { text: "Enter the code it shows." })),
        form)));
    J.$("#totp-code").focus();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      J.clearErrors(form);
      try {
        const res = await J.post("/api/auth/totp/verify", { code: form.code.value.trim() });
        J.clear(totpBody, recoveryList(res.recovery_codes),
          el("p", el("button.btn", { type: "button", text: "Done", onclick: () => (document.body.dataset.scope === "full" ? loadMe() : location.assign("/login")) })));
      } catch (err) {
        J.showErrors(form, err);
      }
    });
  }

  /* ---- connections ---- */
  async function loadConnections() {
    const body = J.$("#conn-body");
    if (!body) return;
    let conns;
    try {
      conns = await J.get("/api/connections");
    } catch (err) {
      return J.clear(body, el("div.notice", { role: "alert", text: err.message }));
    }
    if (!conns.length) {
      return J.clear(body, J.empty("No connection yet", "Connections hold the address and credentials of a target: a Swarm manager (docker), servers (ssh), Cloudflare, GitHub, Portainer or Hetzner.", null));
    }
    J.clear(body, el("div.table-wrap", el("table",
      el("thead", el("tr", ["Name", "Type", "Environment", "Credentials", "Last test", ""].map((h, i) => el("th" + (i === 2 || i === 3 ? ".hide-sm" : ""), { scope: "col", text: h })))),
      el("tbody", conns.map((c) => {
        const result = el("span", c.last_test_at ? [J.badge(c.last_test_ok ? "ok" : "error", c.last_test_ok ? "ok" : "failed"), el("div.muted", { text: c.last_test_message })] : el("span.muted", { text: "never" }));
        return el("tr",
          el("td", el("strong", { text: c.name })), el("td", { text: c.type }), el("td.hide-sm", { text: c.environment || "—" }),
          el("td.hide-sm.mono", { text: Object.entries(c.credential_hints || {}).map(([k, v]) => `${k}: ${v}`).join(", ") || "—" }),
          el("td", result),
          el("td.actions",
            J.can("operator") ? el("button.btn.small.mutating", { type: "button", text: "Test", "aria-label": "Test " + c.name, onclick: async (e) => {
              const b = e.currentTarget; b.disabled = true;
              try {
                const r = await J.post(`/api/connections/${c.id}/test`, {});
                J.clear(result, J.badge(r.ok ? "ok" : "error", r.ok ? "ok" : "failed"), el("div.muted", { text: r.message }));
              } catch (err) { J.toast(err.message, "error"); }
              b.disabled = false;
            } }) : null,
            J.can("admin") && J.editConnection ? el("button.btn.small.mutating", { type: "button", text: "Edit", "aria-label": "Edit " + c.name,
              onclick: () => J.editConnection(c) }) : null,
            J.can("admin") ? el("button.btn.small.danger.mutating", { type: "button", text: "Delete", "aria-label": "Delete " + c.name, onclick: async () => {
              if (!confirm(`Delete the connection ${c.name}?`)) return;
              try { await J.del(`/api/connections/${c.id}`); loadConnections(); } catch (err) { J.toast(err.message, "error"); }
            } }) : null));
      })))));
  }
  J.loadConnections = loadConnections;

  const loaded = {};
  J.settingsLoaders = J.settingsLoaders || {};
  J.settingsLoaders.connections = loadConnections;
  loadMe();
  document.addEventListener("DOMContentLoaded", () => {
    J.tabs(J.$(".tabs"), (name) => {
      const fn = J.settingsLoaders[name];
      if (fn && !loaded[name]) { loaded[name] = true; fn(); }
    });
  });
})();
