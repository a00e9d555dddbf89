/* The jobs list: filters kept in the URL, pagination, status badges, live refresh while jobs run. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const form = J.$("#job-filters"), body = J.$("#jobs-body"), errBox = J.$("#jobs-error");
  const LIMIT = 25;
  let offset = 0, timer = null;
  const params = new URLSearchParams(location.search);
  for (const name of ["status", "trigger", "runbook", "user"]) if (params.get(name)) form[name].value = params.get(name);
  offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);

  function query() {
    const p = new URLSearchParams();
    for (const name of ["status", "trigger", "runbook", "user"]) if (form[name].value.trim()) p.set(name, form[name].value.trim());
    if (offset) p.set("offset", offset);
    return p;
  }

  function row(j) {
    const who = j.trigger === "manual" ? (j.created_by || "manual") : j.trigger + (j.created_by ? " · " + j.created_by : "");
    return el("tr",
      el("td", el("a", { href: "/jobs/" + encodeURIComponent(j.id), text: j.title || j.runbook }),
        el("div.muted.mono", { text: String(j.id).slice(0, 8) + (j.attempt > 1 ? " · attempt " + j.attempt : "") })),
      el("td", J.badge(j.status)),
      el("td.hide-sm", { text: who }),
      el("td.hide-sm", { title: J.fmtDate(j.created_at), text: J.ago(j.started_at || j.created_at) }),
      el("td.num", { text: J.duration(j.duration_s) }));
  }

  async function load() {
    clearTimeout(timer);
    const p = query();
    history.replaceState(null, "", "/jobs" + (p.toString() ? "?" + p : ""));
    p.set("limit", LIMIT);
    let page;
    try {
      page = await J.get("/api/jobs?" + p);
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = err.status === 404 ? "The jobs API is not available on this server yet." : "Could not load the jobs: " + err.message;
      J.clear(body);
      J.$("#jobs-range").textContent = "";
      return;
    }
    errBox.hidden = true;
    if (!page.items.length) {
      J.clear(body, J.empty(page.total ? "No job on this page" : "No job matches",
        "Jobs appear here when a runbook runs or a plan is applied.",
        J.can("operator") ? el("a.btn", { href: "/runbooks", text: "Open the runbooks" }) : null));
    } else {
      J.clear(body, el("div.table-wrap", el("table",
        el("thead", el("tr", el("th", { scope: "col", text: "Job" }), el("th", { scope: "col", text: "Status" }),
          el("th.hide-sm", { scope: "col", text: "Started by" }), el("th.hide-sm", { scope: "col", text: "Started" }),
          el("th.num", { scope: "col", text: "Duration" }))),
        el("tbody", page.items.map(row)))));
    }
    const end = Math.min(page.total, offset + page.items.length);
    J.$("#jobs-range").textContent = page.total ? `${offset + 1}–${end} of ${page.total}` : "";
    J.$("#jobs-prev").disabled = offset === 0;
    J.$("#jobs-next").disabled = end >= page.total;
    if (page.items.some((j) => j.status === "running" || j.status === "pending")) timer = setTimeout(load, 5000);
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  for (const sel of J.$$("select", form)) sel.addEventListener("change", () => { offset = 0; load(); });
  J.$("#jobs-prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
  J.$("#jobs-next").addEventListener("click", () => { offset += LIMIT; load(); });
  load();
})();
