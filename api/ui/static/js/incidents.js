/* Incidents: the list (filtered by state, newest first) and one incident's detail with its
   timeline; operators acknowledge, annotate, resolve (with a structured resolution) and reopen.
   /incidents/{id} opens one directly, so a link from the dashboard or a notification lands on it. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const root = J.$("#inc-root"), form = J.$("#inc-filters"), list = J.$("#inc-list");
  const detailBox = J.$("#inc-detail"), errBox = J.$("#inc-error");
  const dialog = J.$("#resolve-dialog"), resolveForm = J.$("#resolve-form");
  const LIMIT = 25;
  const SEVERITY = { critical: "error", warning: "pending", info: "unknown" };
  const STATE = { open: "error", acknowledged: "pending", resolved: "success" };
  const params = new URLSearchParams(location.search);
  let offset = 0, selected = parseInt(root.dataset.incidentId || "0", 10) || null, timer = null;
  if (params.has("state")) form.state.value = params.get("state") === "all" ? "" : params.get("state");

  const stateBadge = (s) => el("span.badge." + (STATE[s] || "unknown"), { text: s, dataset: { state: s } });
  const severityBadge = (s) => el("span.badge.plain.sev-" + (SEVERITY[s] || "unknown"), { text: s });

  function url() {
    const p = new URLSearchParams();
    if (form.state.value !== "active") p.set("state", form.state.value || "all");
    return (selected ? "/incidents/" + selected : "/incidents") + (p.toString() ? "?" + p : "");
  }

  function row(i) {
    const link = el("a", { href: "/incidents/" + i.id, text: i.title, onclick: (e) => { e.preventDefault(); open(i.id); } });
    return el("tr" + (i.id === selected ? ".selected" : ""), { dataset: { incident: i.id } },
      el("td", link, el("div.muted", { text: [i.target, i.resource].filter(Boolean).join(" · ") || i.origin })),
      el("td", stateBadge(i.state)),
      el("td.hide-sm", severityBadge(i.severity)),
      el("td.num.hide-sm", { title: "times seen", text: "×" + i.occurrences }),
      el("td.hide-sm", { title: J.fmtDate(i.last_seen_at || i.opened_at), text: J.ago(i.last_seen_at || i.opened_at) }));
  }

  async function load() {
    clearTimeout(timer);
    const state = form.state.value;
    const p = new URLSearchParams({ limit: LIMIT, offset });
    if (state) p.set("state", state);
    let page, counts;
    try {
      [page, counts] = await Promise.all([J.get("/api/incidents?" + p), J.get("/api/dashboard").then((d) => d.incident_counts)]);
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = "Could not load the incidents: " + err.message;
      J.clear(list);
      return;
    }
    errBox.hidden = true;
    J.$("#inc-counts").textContent = `${counts.open} open · ${counts.acknowledged} acknowledged · ${counts.resolved} resolved`;
    if (!page.items.length) {
      J.clear(list, J.empty(state === "active" ? "No incident is open" : "No incident matches",
        "Failed applies, services that do not converge, failed backups and Alertmanager alerts open incidents here."));
    } else {
      J.clear(list, el("div.table-wrap", el("table",
        el("thead", el("tr", el("th", { scope: "col", text: "Incident" }), el("th", { scope: "col", text: "State" }),
          el("th.hide-sm", { scope: "col", text: "Severity" }), el("th.num.hide-sm", { scope: "col", text: "Seen" }),
          el("th.hide-sm", { scope: "col", text: "Last seen" }))),
        el("tbody", page.items.map(row)))));
    }
    const end = Math.min(page.total, offset + page.items.length);
    J.$("#inc-range").textContent = page.total ? `${offset + 1}–${end} of ${page.total}` : "";
    J.$("#inc-prev").disabled = offset === 0;
    J.$("#inc-next").disabled = end >= page.total;
    timer = setTimeout(() => { if (!document.hidden) load(); }, 15000);
  }

  function timelineItem(e) {
    const links = [];
    if (e.data.job_id) links.push(el("a", { href: "/jobs/" + encodeURIComponent(e.data.job_id), text: "job " + e.data.job_id }));
    if (e.data.plan_id) links.push(el("a", { href: "/gitops#plans", text: "plan " + e.data.plan_id }));
    if (e.data.logs) links.push(el("span.mono", { text: `logs ${e.data.logs.selector} ${e.data.logs.since} → ${e.data.logs.until}` }));
    return el("li." + ({ opened: "error", resolved: "success", acknowledged: "running" }[e.kind] || "neutral"),
      el("div.row", el("strong", { text: e.kind }), el("span.muted", { text: e.actor + " · " + J.fmtDate(e.at) })),
      e.message ? el("div", { text: e.message }) : null,
      links.length ? el("div.row", links) : null);
  }

  function actions(i) {
    if (!J.can("operator")) return null;
    const move = (state) => change({ state }).then(() => J.toast("Incident " + state));
    const btns = [];
    if (i.state === "open") btns.push(el("button.btn.mutating", { type: "button", id: "inc-ack", text: "Acknowledge", onclick: () => move("acknowledged") }));
    if (i.state !== "resolved") btns.push(el("button.btn.primary.mutating", { type: "button", id: "inc-resolve", text: "Resolve…", onclick: () => { resolveForm.reset(); J.clearErrors(resolveForm); dialog.showModal(); J.$("#rf-cause").focus(); } }));
    else btns.push(el("button.btn.mutating", { type: "button", id: "inc-reopen", text: "Reopen", onclick: () => move("open") }));
    const note = el("form.row.inc-note", { onsubmit: async (e) => {
      e.preventDefault();
      const text = note.elements.note.value.trim();
      if (text) await change({ note: text });
    } }, el("label.sr-only", { for: "inc-note-text", text: "Note" }),
      el("input", { id: "inc-note-text", name: "note", maxlength: 5000, placeholder: "Add a note to the timeline" }),
      el("button.btn.small", { type: "submit", text: "Add note" }));
    return [el("div.row.inc-actions", btns), note];
  }

  function render(i) {
    const res = i.resolution || {};
    const labels = (i.detail && i.detail.labels) || null;
    J.clear(detailBox,
      el("div.card-head", el("h2", { id: "inc-title", text: i.title }), el("div.row", stateBadge(i.state), severityBadge(i.severity))),
      el("dl.kv",
        el("dt", { text: "Where" }), el("dd", { text: [i.target, i.resource].filter(Boolean).join(" · ") || "—" }),
        el("dt", { text: "From" }), el("dd", { text: i.origin || "—" }),
        el("dt", { text: "Opened" }), el("dd", { text: J.fmtDate(i.opened_at) + (i.occurrences > 1 ? ` · seen ${i.occurrences} times, last ${J.ago(i.last_seen_at)}` : "") }),
        i.acknowledged_by ? [el("dt", { text: "Acknowledged" }), el("dd", { text: i.acknowledged_by + " · " + J.fmtDate(i.acknowledged_at) })] : null,
        i.state === "resolved" ? [el("dt", { text: "Resolved" }), el("dd", { text: i.resolved_by + " · " + J.fmtDate(i.resolved_at) }),
          el("dt", { text: "Cause" }), el("dd", { id: "inc-cause", text: res.cause || "—" }),
          el("dt", { text: "Action" }), el("dd", { text: res.action || "—" }),
          res.runbook ? [el("dt", { text: "Runbook" }), el("dd.mono", { text: res.runbook })] : null] : null,
        i.job_id ? [el("dt", { text: "Job" }), el("dd", el("a", { href: "/jobs/" + encodeURIComponent(i.job_id), text: String(i.job_id) }))] : null,
        labels ? [el("dt", { text: "Labels" }), el("dd.mono.wrap", { text: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(" ") })] : null,
        i.detail && i.detail.errors && i.detail.errors.length ? [el("dt", { text: "Errors" }), el("dd", el("ul.plain-list", i.detail.errors.map((m) => el("li.mono.wrap", { text: m }))))] : null),
      actions(i),
      el("h3", { text: "Timeline" }),
      el("ol.timeline#inc-timeline", i.timeline.map(timelineItem)));
  }

  async function open(id) {
    selected = id;
    history.replaceState(null, "", url());
    for (const tr of J.$$("tr[data-incident]", list)) tr.classList.toggle("selected", tr.dataset.incident === String(id));
    try {
      render(await J.get("/api/incidents/" + id));
      if (matchMedia("(max-width: 900px)").matches) detailBox.scrollIntoView({ block: "start" });
    } catch (err) {
      J.clear(detailBox, el("div.notice", { role: "alert", text: err.status === 404 ? `Incident ${id} does not exist.` : "Could not load the incident: " + err.message }));
    }
  }

  async function change(body) {
    try {
      render(await J.patch("/api/incidents/" + selected, body));
      load();
    } catch (err) {
      J.toast(err.message, "error");
      throw err;
    }
  }

  resolveForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = resolveForm.elements;
    const body = { state: "resolved", note: f.note.value.trim(),
      resolution: { cause: f.cause.value.trim(), action: f.action.value.trim(), runbook: f.runbook.value.trim() } };
    try {
      render(await J.patch("/api/incidents/" + selected, body));
      dialog.close();
      J.toast("Incident resolved");
      load();
    } catch (err) {
      J.showErrors(resolveForm, err);
    }
  });
  for (const b of J.$$(".close-dialog", dialog)) b.addEventListener("click", () => dialog.close());
  J.inlineValidation(resolveForm);

  form.addEventListener("submit", (e) => e.preventDefault());
  form.state.addEventListener("change", () => { offset = 0; history.replaceState(null, "", url()); load(); });
  J.$("#inc-prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
  J.$("#inc-next").addEventListener("click", () => { offset += LIMIT; load(); });
  load();
  if (selected) open(selected);
})();
