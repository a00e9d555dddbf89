/* GitOps → Sources: each Git source with its revision, last sync, status and alert, Sync now for
   operators, and its reconcile history in a panel that expands under its row. Administrators also
   get Add / Edit / Delete: the form lives in sources_admin.js, which registers J.sourceAdmin. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const enc = encodeURIComponent;
  const open = new Set();   // ids whose history panel is expanded, kept across reloads
  let list = [];

  const notAvailable = (what, err) => el("div.notice", { role: "alert",
    text: err.status === 404 ? `The ${what} API is not available on this server yet.` : `Could not load the ${what}: ${err.message}` });

  /* One notice per distinct reason, naming the sources it concerns: an alert must not hide in a cell. */
  function alerts(sources) {
    const byReason = new Map();
    for (const s of sources.filter((x) => x.alert)) {
      const reason = s.alert_reason || "this source needs attention";
      if (!byReason.has(reason)) byReason.set(reason, []);
      byReason.get(reason).push(s.name);
    }
    return [...byReason].map(([reason, names]) => el("div.notice.alert", { role: "alert" },
      el("strong", { text: reason.charAt(0).toUpperCase() + reason.slice(1) + "." }), " ",
      el("span", { text: (names.length > 1 ? "Sources: " : "Source: ") + names.join(", ") })));
  }

  function describe(s) {
    return el("td",
      el("div.row", el("strong", { text: s.name }), s.enabled ? null : el("span.badge.plain", { text: "disabled" })),
      // no branch: a folder read as saved on disk (the embedded examples/), not a branch of a repository
      el("div.muted.mono.wrap", { text: s.branch ? s.url + " @ " + s.branch : s.url + " (files as saved on disk)" }),
      el("div.muted.small", { text: "paths: " + (s.paths || []).join(", ") + " · every " + J.duration(s.poll_interval) },
        s.connection ? " · via " + s.connection : null,
        s.has_webhook_secret ? [" · ", el("span.badge.plain.ok", { text: "secret set" })] : null));
  }

  function status(s) {
    return el("td.status",
      J.badge(s.status, s.status_text),
      s.alert ? el("span.badge.error.alert-badge", { text: "alert", title: s.alert_reason }) : null,
      s.alert ? el("div.alert-reason", { text: s.alert_reason }) : null,
      s.last_error ? el("div.muted.wrap", { text: s.last_error }) : null);
  }

  function actions(s) {
    const admin = J.sourceAdmin && J.can("admin");
    return el("td", el("div.row.actions",
      J.can("operator") ? el("button.btn.small.mutating", { type: "button", text: "Sync now", "aria-label": "Sync " + s.name + " now",
        onclick: (e) => sync(s, e.currentTarget) }) : null,
      el("button.btn.small", { type: "button", text: "History", "aria-label": "History of " + s.name,
        "aria-expanded": open.has(s.id) ? "true" : "false", "aria-controls": "history-" + s.id,
        onclick: (e) => toggleHistory(s, e.currentTarget) }),
      admin ? el("button.btn.small.mutating", { type: "button", text: "Edit", "aria-label": "Edit " + s.name,
        onclick: () => J.sourceAdmin.edit(s) }) : null,
      admin ? el("button.btn.small.danger.mutating", { type: "button", text: "Delete", "aria-label": "Delete " + s.name,
        onclick: (e) => J.sourceAdmin.remove(s, e.currentTarget) }) : null));
  }

  async function load() {
    const body = J.$("#sources-body");
    try {
      list = await J.get("/api/sources");
    } catch (err) {
      J.clear(J.$("#source-alerts"));
      return J.clear(body, notAvailable("sources", err));
    }
    J.clear(J.$("#source-alerts"), alerts(list));
    if (!list.length) {
      return J.clear(body, J.empty("No Git source yet",
        "A source is a Git repository (URL, branch, paths) holding orch.yaml manifests that Jarvis keeps deployed.",
        J.can("admin") && J.sourceAdmin ? el("button.btn.primary.mutating", { type: "button", text: "Add a source", onclick: () => J.sourceAdmin.create() })
          : el("p.muted", { text: "An administrator adds sources." })));
    }
    J.clear(body, el("div.table-wrap", el("table.sources",
      el("thead", el("tr", ["Source", "Revision", "Last sync", "Status", "Actions"].map((h, i) =>
        el("th", { scope: "col" }, i === 4 ? el("span.sr-only", { text: h }) : h)))),
      list.map((s) => el("tbody", { id: "source-" + s.id, dataset: { name: s.name } },
        el("tr" + (s.alert ? ".alerting" : ""),
          describe(s),
          el("td.revision", { dataset: { label: "Revision" } }, s.last_revision
            ? [el("code", { text: s.last_revision.sha.slice(0, 10) }), el("div.muted", { text: (s.last_revision.message || "").split("\n")[0] })]
            : el("span.muted", { text: "not fetched yet" })),
          el("td.last-sync", { title: J.fmtDate(s.last_sync_at), dataset: { label: "Last sync" }, text: J.ago(s.last_sync_at) }),
          status(s),
          actions(s)),
        el("tr.history-row", { id: "history-" + s.id, hidden: !open.has(s.id) },
          el("td", { colSpan: 5 }, el("div.history-panel", { "aria-live": "polite" }))))))));
    for (const id of open) {
      const s = list.find((x) => x.id === id);
      if (s) fillHistory(s);
      else open.delete(id);
    }
  }

  async function sync(s, btn) {
    btn.disabled = true;
    try {
      await J.post(`/api/sources/${s.id}/sync`, {});
      J.toast(`Sync of ${s.name} requested.`, "ok");
      setTimeout(load, 1500);
    } catch (err) {
      J.toast("Sync refused: " + err.message, "error");
    } finally {
      btn.disabled = false;
    }
  }

  function toggleHistory(s, btn) {
    const row = document.getElementById("history-" + s.id);
    const show = row.hidden;
    row.hidden = !show;
    btn.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) { open.add(s.id); fillHistory(s); } else open.delete(s.id);
  }

  async function fillHistory(s) {
    const box = J.$(`#history-${s.id} .history-panel`);
    if (!box) return;
    if (!box.childElementCount) J.clear(box, el("div.skeleton"));
    let rows;
    try {
      rows = await J.get(`/api/sources/${s.id}/history`);
    } catch (err) {
      return J.clear(box, notAvailable("history", err));
    }
    if (!rows.length) return J.clear(box, el("p.muted", { text: `No reconcile run of ${s.name} yet.` }));
    J.clear(box, el("h3.sr-only", { text: "History of " + s.name }), el("div.table-wrap", el("table.history",
      el("thead", el("tr", ["Started", "Trigger", "Revision", "Result", "Plan", "Duration", "Jobs"].map((h, i) =>
        el("th" + (i === 1 || i === 5 ? ".hide-sm" : ""), { scope: "col", text: h })))),
      el("tbody", rows.map((h) => el("tr",
        el("td", { text: J.fmtDate(h.started_at) }),
        el("td.hide-sm", { text: h.trigger || "—" }),
        el("td", el("code", { text: (h.revision || "—").slice(0, 10) })),
        el("td", J.badge(h.result, h.result_text), h.error ? el("div.muted.wrap", { text: h.error }) : null),
        el("td", h.plan_summary ? el("div.row", ["create", "update", "delete"].map((k) => el("span.badge.plain." + k, { text: `${h.plan_summary[k] || 0} ${k}` })),
          (h.plan_ids || []).length ? el("a", { href: "/gitops#plans", text: (h.plan_ids.length > 1 ? "plans" : "plan") }) : null) : "—"),
        el("td.hide-sm", { text: J.duration(h.duration_s) }),
        el("td", (h.job_ids || []).length ? h.job_ids.map((id, i) => [i ? ", " : "", el("a", { href: "/jobs/" + enc(id), text: "job " + id })]) : "—")))))));
  }

  J.sources = { load, get: () => list };
  // the connection offer accepted: the sources were asked to sync again
  window.addEventListener("jarvis:connections-changed", () => load());
})();
