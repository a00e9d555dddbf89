/* Dashboard widgets from GET /api/dashboard, refreshed every 10 s without reloading the page:
   the controller's state (a banner when none runs), plans waiting, drift, sources in alert, backups. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const updated = J.$("#dash-updated"), errBox = J.$("#dash-error");
  /* Problems on targets are null until a target has been observed: say which connections exist but are
     not observed yet (a target is observed when a source's sync plans it), or that there is none. */
  function missingNote(kinds) {
    const have = (kinds || []).filter((k) => k.connections).map((k) => k.connection_type);
    return have.length ? "Not observed yet: " + [...new Set(have)].join(", ") + " connection added, no source deploys to it yet"
      : "No target connection yet";
  }

  function metric(name, value, note) {
    const box = J.$(`[data-metric="${name}"]`);
    if (value === null || value === undefined) {
      J.clear(box, el("small", { text: note || "not available" }));
    } else {
      J.clear(box, String(value));
    }
  }

  /* The bar compares what runs with Git; errors are not drift: resources that could not be compared
     and manifests that could not be read are listed apart, with the sources they concern. */
  function drift(d, list) {
    const parts = [["in_sync", "In sync"], ["drifted", "Drifted"], ["pending", "Pending approval"], ["unknown", "Unknown"]];
    const total = parts.reduce((n, [k]) => n + (d[k] || 0), 0);
    const broken = (list || []).filter((s) => s.status === "degraded" || s.status === "error");
    const errors = (d.error || 0) || broken.length ? el("div.drift-errors", { role: "status" },
      el("div.row", el("span.badge.error", { text: "Errors" }), d.error
        ? el("strong", { text: d.error + (d.error === 1 ? " item" : " items") + " in error, not compared" })
        : el("strong", { text: "manifests that could not be read" })),
      broken.length ? el("ul.plain-list", broken.map((s) => el("li", { dataset: { source: s.name } },
        el("a", { href: "/gitops#sources", text: s.name }), " ", J.badge(s.status, s.status_text)))) : null) : null;
    if (!total) {
      return el("div", errors ? el("p.muted", { text: "Nothing compared yet." }) : J.empty("Nothing to compare yet", "Add a Git source in GitOps: its manifests are compared with what runs.",
        J.can("admin") ? el("a.btn", { href: "/gitops", text: "Go to GitOps" }) : null), errors);
    }
    return el("div",
      el("div.drift-bar", { role: "img", "aria-label": parts.map(([k, l]) => `${l}: ${d[k] || 0}`).join(", ") },
        parts.filter(([k]) => d[k]).map(([k]) => {
          const seg = el("span.seg." + k, { title: k });
          seg.style.flexGrow = d[k];   // CSSOM, allowed by the CSP (no style attribute in markup)
          return seg;
        })),
      el("div.summary-strip", parts.map(([k, l]) => el("div",
        el("div.widget-label", { text: l }), el("div.metric", el("span.badge.plain." + k, { text: String(d[k] || 0) }))))),
      errors);
  }

  /* One block per installed kind, one row per observed target: the same for every kind, from the
     summary its reconciler made of the last observation (health, labelled counts, errors). */
  const HEALTH = { ok: "ok", degraded: "pending", down: "error", unknown: "plain" };
  function targets(kinds) {
    const list = kinds || [];
    if (!list.some((k) => k.connections || k.targets.length)) {
      return J.empty("No target connection yet", "Add one in Settings → Connections: " +
        list.map((k) => k.title + " (" + k.connection_type + ")").join(", ") + ".",
        J.can("admin") ? el("a.btn", { href: "/settings#connections", text: "Add a connection" }) : null);
    }
    return el("div.kinds", list.filter((k) => k.connections || k.targets.length).map((k) =>
      el("div.kind", { dataset: { kind: k.kind } },
        el("h3", { text: k.title }),
        k.targets.length ? el("ul.plain-list", k.targets.map((t) => el("li", { dataset: { target: t.target } },
          el("div.row", el("strong", { text: t.connection }), J.badge(HEALTH[t.health] || "plain", t.health),
            t.drifted ? el("span.badge.plain.drifted", { text: t.drifted + " drifted" }) : null,
            t.unknown ? el("span.badge.plain.unknown", { text: t.unknown + " unknown", title: "declared, but the target could not be observed" }) : null,
            el("small.muted", { title: J.fmtDate(t.observed_at), text: J.ago(t.observed_at) })),
          el("div.row.counts", Object.entries(t.counts).map(([label, n]) => el("span.badge.plain", { text: label + " · " + n }))),
          t.errors.length ? el("ul.plain-list.errors", t.errors.slice(0, 3).map((e) => el("li.muted.wrap", { text: e }))) : null)))
          : el("p.muted", { text: "Not observed yet: " + k.connections + " " + k.connection_type +
            " connection(s), no source deploys to them yet." }))));
  }

  /* The missing controller has its own banner: a row only repeats other reasons in full. */
  const controllerReason = (s) => /no controller/i.test(s.alert_reason || "");
  function sources(list, controllerDown) {
    if (!list || !list.length) return J.empty("No Git source yet", "Sources are added in GitOps.", null);
    return el("div.table-wrap", el("table",
      el("thead", el("tr", el("th", { scope: "col", text: "Source" }), el("th", { scope: "col", text: "Last reconcile" }),
        el("th", { scope: "col", text: "Status" }))),
      el("tbody", list.map((s) => el("tr" + (s.alert ? ".alerting" : ""), { dataset: { source: s.name } },
        el("td", el("a", { href: "/gitops#sources", text: s.name })),
        el("td", { title: J.fmtDate(s.last_reconcile_at), text: J.ago(s.last_reconcile_at) }),
        el("td", J.badge(s.status, s.status_text), s.alert ? el("span.badge.error.alert-badge", { text: "alert", title: s.alert_reason }) : null,
          s.alert && controllerDown && controllerReason(s) ? el("span.sr-only", { text: s.alert_reason })
            : s.alert ? el("div.alert-reason", { text: s.alert_reason }) : null,
          s.last_error ? el("div.muted.wrap", { text: s.last_error }) : null))))));
  }

  /* Sources in alert for a reason other than the missing controller (that one has its own banner). */
  function sourceAlerts(list, controllerDown) {
    const byReason = new Map();
    for (const s of (list || []).filter((x) => x.alert)) {
      if (controllerDown && controllerReason(s)) continue;
      const reason = s.alert_reason || "needs attention";
      byReason.set(reason, [...(byReason.get(reason) || []), s.name]);
    }
    return [...byReason].map(([reason, names]) => el("div.notice.alert", { role: "alert" },
      el("strong", { text: names.join(", ") + ":" }), " ", reason, " ", el("a", { href: "/gitops#sources", text: "Open GitOps" })));
  }

  function incidents(list) {
    if (!list || !list.length) return el("p.muted.quiet", { text: "No incident recorded. All quiet." });
    return el("ul.plain-list", list.map((i) => el("li",
      el("div.row", el("a", { href: "/incidents/" + encodeURIComponent(i.id) }, el("strong", { text: i.title })),
        i.service ? el("span.badge.plain", { text: i.service }) : null),
      el("div.muted", { text: J.ago(i.opened_at) },
        i.job_id ? [" · ", el("a", { href: "/jobs/" + encodeURIComponent(i.job_id), text: "job" })] : null))));
  }

  /* One row per scheduled backup: its state (failed, overdue, ok...), when it last succeeded and when it
     runs next; a failed or overdue one is flagged, with its open incident when there is one. */
  function backupState(b) {
    if (b.error) return ["error", "invalid"];
    if (b.last_status === "error") return ["error", "failed"];
    if (b.overdue) return ["error", "overdue"];
    if (b.last_status === "running") return ["running", "running"];
    if (b.last_status === "success") return ["ok", "ok"];
    return ["plain", "not run yet"];
  }
  /* The reason without the runbook task's preamble ("task 'x' failed on localhost: backup failed: "). */
  const reason = (text) => text.replace(/^task '[^']*' failed on [^:]+:\s*/, "").replace(/^\w+ failed:\s*/, "");
  function backups(list) {
    if (!list || !list.length) {
      return J.empty("No scheduled backup", "A manifest's backups: section schedules them.",
        el("a.btn", { href: "/backups", text: "Open Backups" }));
    }
    return el("div.table-wrap.dash-bk", el("table",
      el("thead", el("tr", el("th", { scope: "col", text: "Backup" }), el("th", { scope: "col", text: "Last success" }),
        el("th", { scope: "col", text: "Status" }))),
      el("tbody", list.map((b) => {
        const [tone, word] = backupState(b);
        const alerting = tone === "error";
        return el("tr" + (alerting ? ".alerting" : ""), { dataset: { backup: b.id } },
          el("td", el("a", { href: "/backups/" + encodeURIComponent(b.id), text: b.name }),
            el("div.muted.mono.sched", { text: b.schedule + (b.timezone && b.timezone !== "UTC" ? " · " + b.timezone : "") })),
          el("td", { title: b.last_success_at ? J.fmtDate(b.last_success_at) : "",
                     text: b.last_success_at ? J.ago(b.last_success_at) : "never" }),
          el("td", el("div.row", el("span.badge." + tone, { text: word, dataset: { status: word } }),
            b.incident_id ? el("a.badge.error.plain", { href: "/incidents/" + b.incident_id, text: "#" + b.incident_id,
              title: "open incident " + b.incident_id }) : null),
            b.overdue ? el("div.alert-reason", { text: b.overdue }) : null,
            b.last_status === "error" && b.last_error ? el("div.muted.wrap.why", { title: b.last_error, text: reason(b.last_error) }) : null,
            !alerting && b.next_run_at ? el("div.muted", { title: J.fmtDate(b.next_run_at), text: "next " + J.fmtDate(b.next_run_at) }) : null));
      }))));
  }

  async function load() {
    let d;
    try {
      d = await J.get("/api/dashboard");
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = err.status === 404
        ? "The dashboard API is not available on this server yet; the widgets fill in once it is."
        : "Could not load the dashboard: " + err.message;
      for (const m of J.$$("[data-metric]")) if (m.querySelector(".skeleton")) J.clear(m, el("small", { text: "—" }));
      for (const id of ["drift-body", "targets-body", "src-body", "bk-body", "inc-body"]) {
        const b = document.getElementById(id);
        if (b.querySelector(".skeleton")) J.clear(b, el("p.muted", { text: "No data." }));
      }
      updated.textContent = "Last attempt " + new Date().toLocaleTimeString();
      return;
    }
    errBox.hidden = true;
    metric("active_jobs", d.active_jobs);
    metric("target_problems", d.target_problems, missingNote(d.kinds));
    metric("plans_waiting", d.plans_waiting);
    const controllerDown = !!d.controller && d.controller.running === false;
    J.$("#dash-controller").hidden = !controllerDown;
    J.clear(J.$("#dash-alerts"), sourceAlerts(d.sources, controllerDown));
    J.clear(J.$("#drift-body"), drift(d.drift || {}, d.sources));
    J.clear(J.$("#targets-body"), targets(d.kinds));
    J.clear(J.$("#src-body"), sources(d.sources, controllerDown));
    J.clear(J.$("#bk-body"), backups(d.backups));
    J.clear(J.$("#inc-body"), incidents(d.incidents));
    if (J.setStatusFromDashboard) J.setStatusFromDashboard(d);
    updated.textContent = "Updated " + new Date().toLocaleTimeString() + " · refreshes every 10 s";
  }

  /* Live from the engines (every docker and portainer connection), so read apart and less often than
     the stored figures: an engine that is slow to answer never holds the other widgets back. */
  async function loadContainers() {
    try {
      const envs = (await J.get("/api/containers")).environments;
      const errors = envs.reduce((n, e) => n + e.stacks.reduce((m, s) => m + s.errors, 0), 0);
      const unread = envs.filter((e) => e.error).length;
      if (!envs.length) metric("container_errors", null, "No docker or portainer connection yet");
      else J.clear(J.$('[data-metric="container_errors"]'), String(errors),
        unread ? el("small", { text: " · " + unread + (unread === 1 ? " environment" : " environments") + " not read" }) : null);
    } catch (err) {
      metric("container_errors", null, "Could not read the containers");
    }
  }

  load();
  loadContainers();
  setInterval(() => { if (!document.hidden) load(); }, 10000);
  setInterval(() => { if (!document.hidden) loadContainers(); }, 30000);
  // back from another tab (e.g. Settings → Connections): show the new state at once
  document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
  window.addEventListener("jarvis:connections-changed", () => load());   // the connection offer accepted
})();
