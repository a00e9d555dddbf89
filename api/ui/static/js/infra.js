/* The Infra page: the servers of every hetzner connection from GET /api/infra/servers, grouped by
   connection and location (provider status, address, type, hardening state and drift, pinned host
   key, the plan that waits and the last jobs), refreshed without reload; a panel per server. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const form = J.$("#inf-filters"), body = J.$("#inf-body"), errBox = J.$("#inf-error"), panel = J.$("#inf-panel");
  const REFRESH_MS = 15000;
  const HARDENING = { compliant: "ok", drifted: "drifted", unknown: "unknown" };
  const STATUS = { running: "ok", off: "unknown", initializing: "running", starting: "running", stopping: "running",
    deleting: "running", rebuilding: "running", migrating: "running" };
  let data = { servers: [], targets: [], connections: [] }, timer = null, current = null;
  const params = new URLSearchParams(location.search);
  if (params.get("q")) form.q.value = params.get("q");
  if (params.get("hardening")) form.hardening.value = params.get("hardening");

  const inEnv = (x) => !J.environment || !J.environment() || x.environment === J.environment();
  const isError = (s) => Boolean(s.error) || s.sync === "error";
  function matches(s) {
    const q = form.q.value.trim().toLowerCase(), h = form.hardening.value;
    if (!inEnv(s)) return false;
    if (h === "errors" ? !isError(s) : h && s.hardening !== h) return false;
    return !q || [s.name, s.ipv4, s.type, s.location, s.image, s.connection].some((v) => v && v.toLowerCase().includes(q));
  }

  const statusBadge = (s) => s.status ? J.badge(STATUS[s.status] || "unknown", s.status)
    : J.badge(isError(s) ? "error" : "unknown", isError(s) ? "not created" : "not observed");
  const hardeningBadge = (s) => J.badge(HARDENING[s.hardening] || "unknown", s.hardening);
  const planLink = (s) => s.plan_id ? el("a", { href: "/gitops#plan-" + s.plan_id, text: "plan " + s.plan_id }) : null;
  const jobLink = (j) => el("a", { href: "/jobs/" + j.id, text: "job " + j.id });
  const driftCount = (s) => Object.keys(s.drift || {}).length;

  function syncCell(s) {
    const label = s.sync === "pending" && s.action ? "pending " + s.action : s.sync.replace("_", " ");
    return el("div", J.badge(s.sync, label), s.plan_id ? el("div", planLink(s)) : null);
  }

  function row(s) {
    const n = driftCount(s);
    return el("tr.ctr-row.inf-row", { tabindex: "0", dataset: { server: s.name, connection: s.connection },
      onclick: (e) => { if (!e.target.closest("a")) open(s); }, onkeydown: (e) => { if (e.key === "Enter") open(s); } },
      el("td", el("button.link-btn", { type: "button", text: s.name }),
        el("div.muted", { text: [s.type, s.image].filter(Boolean).join(" · ") || "—" }),
        el("div.muted.mono.show-sm", { text: s.ipv4 || "" }),
        s.error ? el("div.inf-err.show-sm", { text: s.error }) : null),
      el("td", statusBadge(s)),
      el("td.mono.hide-sm", { text: s.ipv4 || "—" }),
      el("td", hardeningBadge(s),
        el("div.muted.inf-when", { title: s.checked_at ? J.fmtDate(s.checked_at) : "", text: s.checked_at ? "checked " + J.ago(s.checked_at) : "never checked" })),
      el("td.hide-sm", n ? el("ul.plain-list.inf-drift-short", Object.keys(s.drift).slice(0, 3).map((k) => el("li.mono", { text: k })),
        n > 3 ? el("li.muted", { text: "and " + (n - 3) + " more" }) : null) : el("span.muted", { text: isError(s) ? "" : "none" }),
        s.error ? el("div.inf-err", { text: s.error }) : null),
      el("td.hide-sm", syncCell(s)),
      el("td.hide-sm", s.jobs.length ? el("div", jobLink(s.jobs[0]), " ", J.badge(s.jobs[0].status)) : el("span.muted", { text: "—" })));
  }

  function table(list) {
    return el("div.table-wrap", el("table.inf-table",
      el("thead", el("tr", el("th", { scope: "col", text: "Server" }), el("th", { scope: "col", text: "Status" }),
        el("th.hide-sm", { scope: "col", text: "IPv4" }), el("th", { scope: "col", text: "Hardening" }),
        el("th.hide-sm", { scope: "col", text: "Drift" }), el("th.hide-sm", { scope: "col", text: "Sync" }),
        el("th.hide-sm", { scope: "col", text: "Last job" }))),
      el("tbody", list.map(row))));
  }

  function groups(servers) {
    const byConn = new Map();
    for (const s of servers) {
      if (!byConn.has(s.connection)) byConn.set(s.connection, new Map());
      const loc = s.location || "not created";
      const m = byConn.get(s.connection);
      if (!m.has(loc)) m.set(loc, []);
      m.get(loc).push(s);
    }
    return byConn;
  }

  function summary(all) {
    const figures = [["Servers", all.filter((s) => s.status).length], ["Running", all.filter((s) => s.status === "running").length],
      ["Compliant", all.filter((s) => s.hardening === "compliant").length], ["Drifted", all.filter((s) => s.hardening === "drifted").length],
      ["Errors", all.filter(isError).length]];
    J.clear(J.$("#inf-summary"), figures.map(([label, n]) => el("div", { dataset: { figure: label.toLowerCase() } },
      el("div.widget-label", { text: label }), el("div.metric", { text: String(n) }))));
    const broken = data.targets.filter((t) => inEnv(t) && t.errors.length);
    J.clear(J.$("#inf-targets"), broken.map((t) => el("div.notice.warn", { dataset: { target: t.target } },
      el("strong", { text: t.connection + ": " }), t.errors.length + (t.errors.length === 1 ? " error" : " errors") +
        " at the last observation (" + J.ago(t.observed_at) + ")",
      el("ul.plain-list", t.errors.slice(0, 6).map((e) => el("li", { text: e }))))));
  }

  function render() {
    const all = data.servers.filter(inEnv);
    summary(all);
    const shown = all.filter(matches);
    if (!shown.length) {
      const conns = data.connections.filter(inEnv);
      const text = all.length ? "Change the search or the hardening filter."
        : conns.length ? "Connection " + conns.map((c) => c.name).join(", ") + " has no server observed yet: a source whose orch.yaml declares servers: with it fills this page."
          : "Add a hetzner connection in Settings → Connections and declare servers: in an orch.yaml.";
      J.clear(body, el("section.card", J.empty(all.length ? "No server matches" : "No server yet", text,
        !all.length && !conns.length && J.can("admin") ? el("a.btn.primary", { href: "/settings#connections", text: "Open Settings → Connections" }) : null)));
      return;
    }
    const target = (c) => data.targets.find((t) => t.connection === c);
    J.clear(body, [...groups(shown)].map(([conn, locs]) => {
      const t = target(conn), first = [...locs.values()][0][0];
      return el("section.card.inf-conn", { "aria-label": "Connection " + conn, dataset: { connection: conn } },
        el("div.card-head", el("h2", { text: conn }),
          el("span.muted", { text: [first.environment, t ? "observed " + J.ago(t.observed_at) : ""].filter(Boolean).join(" · ") }),
          el("div.spacer"), t ? J.badge(t.health === "ok" ? "ok" : "degraded", t.health) : null),
        [...locs].map(([loc, list]) => el("div.inf-loc", { dataset: { location: loc } },
          el("h3.widget-label", { text: loc + " · " + list.length + (list.length === 1 ? " server" : " servers") }), table(list))));
    }));
  }

  async function load() {
    clearTimeout(timer);
    const p = new URLSearchParams();
    if (form.q.value.trim()) p.set("q", form.q.value.trim());
    if (form.hardening.value) p.set("hardening", form.hardening.value);
    history.replaceState(null, "", "/infra" + (p.toString() ? "?" + p : ""));
    try {
      data = await J.get("/api/infra/servers");
      errBox.hidden = true;
      J.$("#inf-updated").textContent = "Updated " + new Date().toLocaleTimeString();
      render();
      if (current && panel.open) {
        const again = data.servers.find((s) => s.target === current.target && s.name === current.name);
        if (again) open(again);
      }
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = "Could not load the servers: " + err.message;
      J.clear(J.$("#inf-summary"));
      J.clear(body);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  /* ---- the panel ---- */
  function fact(label, value) {
    return [el("dt", { text: label }), el("dd", value instanceof Node ? value : { text: value === "" || value === null || value === undefined ? "—" : String(value) })];
  }

  function open(s) {
    current = s;
    J.$("#inf-panel-title").textContent = s.name;
    J.$("#inf-panel-where").textContent = [s.connection, s.environment, s.location].filter(Boolean).join(" · ");
    const box = J.$("#inf-panel-error");
    box.hidden = !s.error;
    box.textContent = s.error || "";
    J.clear(J.$("#inf-facts"),
      fact("Status", statusBadge(s)), fact("IPv4", s.ipv4), fact("Type", s.type), fact("Image", s.image),
      fact("Location", s.location), fact("Protected", s.protected ? "yes: never deleted" : "no"),
      fact("Hardening", el("span", hardeningBadge(s), " ", el("span.muted", { text: s.checked_at ? "checked " + J.fmtDate(s.checked_at) : "never checked" }))),
      fact("Host key", el("span.mono", { text: s.fingerprint || "not pinned yet" })),
      fact("Sync", syncCell(s)),
      fact("Declared in", s.source ? s.source + " · " + s.manifest_path : ""),
      fact("Observed", s.observed_at ? J.fmtDate(s.observed_at) : ""));
    const drift = Object.entries(s.drift || {});
    J.clear(J.$("#inf-drift"), drift.length ? el("ul.plain-list.inf-drift", drift.map(([k, v]) =>
      el("li", el("span.mono", { text: k }), el("div.muted", { text: v }))))
      : el("p.muted", { text: s.hardening === "compliant" ? "None: the server matches its hardening." : "Not checked yet." }));
    J.clear(J.$("#inf-jobs"), s.jobs.length ? el("ul.plain-list", s.jobs.map((j) => el("li",
      jobLink(j), " ", J.badge(j.status), " ", el("span", { text: j.title }), " ", el("span.muted", { title: J.fmtDate(j.created_at), text: J.ago(j.created_at) }))))
      : el("p.muted", { text: "No job has run on this server yet." }));
    if (!panel.open) panel.showModal();
  }

  for (const b of J.$$(".close-dialog", panel)) b.addEventListener("click", () => panel.close());
  panel.addEventListener("close", () => { current = null; });
  form.addEventListener("submit", (e) => e.preventDefault());
  form.q.addEventListener("input", () => { render(); history.replaceState(null, "", "/infra" + (form.q.value.trim() ? "?q=" + encodeURIComponent(form.q.value.trim()) : "")); });
  form.hardening.addEventListener("change", load);
  document.addEventListener("jarvis:environment", render);
  load();
})();
