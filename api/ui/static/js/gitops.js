/* GitOps: the tabs, drift per manifest/target/resource with field diffs, and plans waiting for
   approval (Approve sends the checksum of the changes shown). The Sources tab is sources.js. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const enc = encodeURIComponent;
  const notAvailable = (what, err) => el("div.notice", { role: "alert",
    text: err.status === 404 ? `The ${what} API is not available on this server yet.` : `Could not load the ${what}: ${err.message}` });

  /* ---- field diffs: orch.yaml terms first, the engine's own fields on demand ---- */
  const scalar = (v) => v === null || ["string", "number", "boolean"].includes(typeof v);
  const show = (v) => (v === undefined || v === null ? "∅" : typeof v === "string" ? v
    : Array.isArray(v) && v.every(scalar) ? v.join(", ") : JSON.stringify(v, null, 1));
  const table = (head, rows, cls) => el("div.table-wrap", el("table.diff" + (cls || ""),
    el("thead", el("tr", head.map((h) => el("th", { scope: "col", text: h })))), el("tbody", rows)));
  // a create has no live side and a delete no Git side: one value column, so phones keep it readable
  const SIDES = { create: [["after", "Value (Git)"]], delete: [["before", "Value (live)"]] };
  function diffTable(fields, spec, action) {
    if (!fields || !fields.length) return el("p.muted", { text: "No field difference." });
    const sides = SIDES[action] || [["before", "Before (live)"], ["after", "After (Git)"]];
    const value = (f, side) => (f.manifest_path ? f["manifest_" + side] : f[side]);
    const rows = fields.map((f) => el(f.manifest_path ? "tr" : "tr.engine-only",
      el("td", el("code", { text: f.manifest_path || f.path }),
        f.manifest_path ? null : [" ", el("span.badge.plain", { text: "engine field", title: "Not set in orch.yaml: the engine's own field" })]),
      sides.map(([side, label]) => el("td." + side, { "data-label": label, text: show(value(f, side)) }))));
    const cls = sides.length === 1 ? ".one-side" : "";
    const engine = el("details.engine-spec",
      el("summary", { text: "Engine spec" }),
      table(["Engine field", ...sides.map(([, label]) => label)], fields.map((f) => el("tr",
        el("td", el("code", { text: f.path })),
        sides.map(([side, label]) => el("td." + side, { "data-label": label, text: show(f[side]) })))), cls),
      spec ? el("pre.spec", { text: JSON.stringify(spec, null, 2), "aria-label": "The engine spec to apply" }) : null);
    return [table(["Field (orch.yaml)", ...sides.map(([, label]) => label)], rows, cls), engine];
  }

  /* ---- drift ---- */
  // an error of several lines (a manifest's errors at file:line:column) reads as a list, one per line;
  // "Settings → Connections" in a hint is the link to where connections are added
  const WHERE = "Settings → Connections";
  const withLink = (line) => line.split(WHERE).flatMap((part, n) => (n ? [el("a", { href: "/settings#connections", text: WHERE }), part] : [part]));
  function errorNotice(text) {
    const [head, ...rest] = text.split("\n").filter((l) => l.trim());
    return el("div.notice.lines", { role: "status" }, el("p", withLink(head)),
      rest.length ? el("ul", rest.map((line) => el("li", withLink(line)))) : null);
  }
  let drift = null;
  async function loadDrift() {
    try {
      drift = await J.get("/api/drift");
    } catch (err) {
      J.clear(J.$("#drift-summary"));
      return J.clear(J.$("#drift-body"), notAvailable("drift", err));
    }
    const labels = [["in_sync", "In sync"], ["drifted", "Drifted"], ["pending", "Pending approval"], ["error", "Errors"], ["unknown", "Unknown"]];
    J.clear(J.$("#drift-summary"), labels.map(([k, l]) => el("div.card",
      el("div.widget-label", { text: l }), el("div.metric", el("span.badge.plain." + k, { text: String(drift.summary[k] || 0) })))));
    renderDrift();
  }
  function renderDrift() {
    if (!drift) return;
    const status = J.$("#drift-status").value, q = J.$("#drift-q").value.trim().toLowerCase();
    const items = drift.items.filter((i) => (status === "all" || (status ? i.status === status : i.status !== "in_sync")) &&
      (!q || [i.source, i.manifest, i.target, i.resource].join(" ").toLowerCase().includes(q)));
    if (!items.length) {
      return J.clear(J.$("#drift-body"), J.empty(drift.items.length ? "Nothing matches" : "No drift",
        drift.items.length ? "Change the filters." : "What runs matches what Git says, or no source has been compared yet.", null));
    }
    J.clear(J.$("#drift-body"), items.map((i) => el("details.drift",
      el("summary", J.badge(i.status), i.resource ? el("strong", { text: i.resource }) : null,
        el("span.muted", { text: `${i.source} / ${i.manifest}` + (i.target ? ` → ${i.target}` : "") })),
      i.error ? errorNotice(i.error) : null,
      i.error && !(i.fields || []).length ? null : diffTable(i.fields, null, i.action),
      i.plan_id ? el("p", el("button.link-btn", { type: "button", text: "Open its plan", onclick: () => { tabs.show("plans"); openPlan(i.plan_id); } })) : null)));
  }
  J.$("#drift-status").addEventListener("change", renderDrift);
  J.$("#drift-q").addEventListener("input", renderDrift);
  J.$("#drift-filters").addEventListener("submit", (e) => e.preventDefault());

  /* ---- plans ---- */
  async function loadPlans() {
    const body = J.$("#plans-body");
    let plans;
    try {
      plans = (await J.get("/api/plans")).filter((p) => p.status === "pending" || p.status === "held");
      // #plan-N (from an apply job's page): that plan is shown even once decided
      if (linked && !plans.some((p) => p.id === linked)) plans.unshift(await J.get("/api/plans/" + enc(linked)));
    } catch (err) {
      return J.clear(body, el("div.card", notAvailable("plans", err)));
    }
    const count = J.$("#plans-count"), waiting = plans.filter((p) => p.status === "pending" || p.status === "held").length;
    count.hidden = !waiting;
    count.textContent = waiting;
    if (!plans.length) return J.clear(body, el("div.card", J.empty("Nothing waits for approval", "Plans that need a human decision show up here.", null)));
    J.clear(body, plans.map((p) => el("article.card.plan", { id: "plan-" + p.id, "aria-labelledby": "plan-h-" + p.id },
      el("div.card-head",
        el("div", el("h2", { id: "plan-h-" + p.id, text: `${p.source} / ${p.manifest} → ${p.target}` }),
          el("div.muted", "revision ", el("code", { text: (p.revision || "").slice(0, 10) }), " · " + J.ago(p.created_at))),
        el("div.row", J.badge(p.status), ["create", "update", "delete"].map((k) => el("span.badge.plain." + k, { text: `${p.counts[k] || 0} ${k}` })))),
      (p.held_reasons || []).length ? el("div.notice.info", { text: "Held: " + p.held_reasons.join("; ") }) : null,
      el("div.plan-changes", { id: "changes-" + p.id },
        el("button.btn", { type: "button", text: "Show the changes", onclick: () => openPlan(p.id) })))));
    if (linked) openPlan(linked);
  }

  async function openPlan(id) {
    const box = document.getElementById("changes-" + id);
    if (!box) return;
    J.clear(box, el("div.skeleton"));
    let plan;
    try {
      plan = await J.get("/api/plans/" + enc(id));
    } catch (err) {
      return J.clear(box, notAvailable("plan", err));
    }
    const actions = J.can("operator") && (plan.status === "pending" || plan.status === "held") ? el("div.row.plan-actions",
      el("button.btn.primary.mutating", { type: "button", text: "Approve", "aria-label": "Approve these changes", onclick: (e) => decide(plan, "approve", e.currentTarget) }),
      el("button.btn.danger.mutating", { type: "button", text: "Reject", onclick: (e) => decide(plan, "reject", e.currentTarget) }),
      el("span.muted", { text: "checksum " + String(plan.checksum).slice(0, 12) })) : null;
    J.clear(box,
      (plan.changes || []).map((c) => el("div.change",
        el("div.row", J.badge(c.action, c.action), el("strong", { text: c.resource }), c.risk ? el("span.badge.plain", { text: "risk " + c.risk }) : null),
        diffTable(c.fields, c.desired, c.action))),
      actions);
    box.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  async function decide(plan, verb, btn) {
    btn.disabled = true;
    try {
      const res = await J.post(`/api/plans/${enc(plan.id)}/${verb}`, verb === "approve" ? { checksum: plan.checksum } : {});
      const box = document.getElementById("changes-" + plan.id);
      J.clear(box, el("div.notice.ok", { role: "status" }, verb === "approve" ? "Approved. " : "Rejected.",
        res && res.job_id ? el("a", { href: "/jobs/" + enc(res.job_id), text: "Follow the job" }) : null));
      J.toast(verb === "approve" ? "Plan approved." : "Plan rejected.", "ok");
    } catch (err) {
      J.toast((verb === "approve" ? "Approval" : "Rejection") + " refused: " + err.message, "error");
      btn.disabled = false;
    }
  }

  const linked = Number((location.hash.match(/^#plan-(\d+)$/) || [])[1]) || null;
  const loaded = {};
  const loaders = { sources: J.sources.load, drift: loadDrift, plans: loadPlans };
  const tabs = J.tabs(J.$(".tabs"), (name) => { if (!loaded[name]) { loaded[name] = true; loaders[name](); } });
  if (linked) tabs.show("plans");
  if (!loaded.plans) { loaded.plans = true; loadPlans(); }   // the count on the tab
})();
