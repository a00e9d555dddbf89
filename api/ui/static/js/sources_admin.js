/* GitOps → Sources for administrators: add a source (POST), edit it (PATCH), delete it (DELETE).
   The webhook secret is write-only: the form never receives it, only whether one is set.
   Loaded only for admins; the server refuses these calls to anyone else anyway. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const dialog = J.$("#source-dialog"), form = J.$("#source-form");
  if (!dialog || !form) return;
  const CONNECTION_TYPES = ["github", "ssh"];   // what the controller can clone with
  const secretHint = J.$("#sf-secret-hint"), secretHintText = secretHint.textContent;
  let editing = null;   // the source being edited, or null when adding

  /* "a, b\nc" → ["a", "b", "c"]; an empty list is left for the server to refuse next to the field. */
  const splitPaths = (text) => text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean);

  async function fillConnections(selected) {
    const sel = form.connection;
    J.clear(sel, el("option", { value: "", text: "None (public repository or local path)" }));
    let conns = [];
    try {
      conns = (await J.get("/api/connections")).filter((c) => CONNECTION_TYPES.includes(c.type));
    } catch (err) {
      J.toast("Could not list the connections: " + err.message, "error");
    }
    for (const c of conns) {
      sel.append(el("option", { value: c.name, text: `${c.name} (${c.type}${c.environment ? ", " + c.environment : ""})` }));
    }
    if (selected && !conns.some((c) => c.name === selected)) {   // still show what the source uses
      sel.append(el("option", { value: selected, text: selected + " (not a github or ssh connection)" }));
    }
    sel.value = selected || "";
  }

  function openDialog(s) {
    editing = s || null;
    form.reset();
    J.clearErrors(form);
    J.$("#source-dialog-h").textContent = s ? "Edit " + s.name : "Add a source";
    J.$("#source-submit").textContent = s ? "Save changes" : "Add source";
    form.name.readOnly = !!s;
    if (s) {
      form.name.value = s.name;
      form.url.value = s.url;
      form.branch.value = s.branch;
      form.paths.value = (s.paths || []).join("\n");
      form.poll_interval.value = s.poll_interval;
      form.enabled.checked = s.enabled;
    }
    form.webhook_secret.placeholder = s && s.has_webhook_secret ? "secret set: leave empty to keep it" : "";
    secretHint.textContent = s && s.has_webhook_secret
      ? "A secret is set. Type a new one to replace it; it is never shown. " + webhookUrl()
      : secretHintText + " " + webhookUrl();
    fillConnections(s ? s.connection : "");
    dialog.showModal();
    (s ? form.url : form.name).focus();
  }
  const webhookUrl = () => "GitHub webhook URL: " + location.origin + "/api/webhooks/github";

  function body() {
    const out = {
      url: form.url.value.trim(),
      branch: form.branch.value.trim(),
      paths: splitPaths(form.paths.value),
      poll_interval: Number(form.poll_interval.value),
      enabled: form.enabled.checked,
    };
    const conn = form.connection.value;
    if (!editing) {
      out.name = form.name.value.trim();
      out.connection = conn || null;
    } else if (conn !== (editing.connection || "")) {
      out.connection = conn;   // "" clears it: null would mean "unchanged" to PATCH
    }
    if (form.webhook_secret.value) out.webhook_secret = form.webhook_secret.value;
    return out;
  }

  J.inlineValidation(form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(form);
    if (!form.checkValidity()) return form.reportValidity();
    const btn = J.$("#source-submit");
    btn.disabled = true;
    try {
      const saved = editing ? await J.patch("/api/sources/" + editing.id, body()) : await J.post("/api/sources", body());
      dialog.close();
      J.toast(editing ? `Source ${saved.name} saved.` : `Source ${saved.name} added: its first sync is requested.`, "ok");
      await J.sources.load();
    } catch (err) {
      if (err.status === 409 && !Object.keys(err.fields).length) err.fields = { name: err.message };   // name taken
      J.showErrors(form, err);
    } finally {
      btn.disabled = false;
    }
  });
  for (const b of J.$$(".close-dialog", dialog)) b.addEventListener("click", () => dialog.close());

  async function remove(s, btn) {
    if (!confirm(`Delete the source ${s.name}? Jarvis stops reconciling it; nothing it deployed is removed.`)) return;
    btn.disabled = true;
    try {
      await J.del("/api/sources/" + s.id);
      J.toast(`Source ${s.name} deleted.`, "ok");
      await J.sources.load();
    } catch (err) {
      J.toast("Delete refused: " + err.message, "error");
      btn.disabled = false;
    }
  }

  J.$("#source-new").addEventListener("click", () => openDialog(null));
  J.sourceAdmin = { create: () => openDialog(null), edit: openDialog, remove };
})();
