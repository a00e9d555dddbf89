/* One job: summary, steps timeline, artifacts, input/output, the live log with host/task filters,
   and Rerun / Cancel for operators. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const root = J.$("#job-root");
  const jobId = root.dataset.jobId;
  const logBox = J.$("#job-log"), stateBox = J.$("#log-state");
  const hostSel = J.$("#log-host"), taskSel = J.$("#log-task"), follow = J.$("#log-follow");
  const hosts = new Set(), tasks = new Set();
  const steps = new Map();
  const view = (J.jobView = { counters: [], log: null, lines: 0 });   // read by the browser tests
  let job = null, plan = null;

  const ACTIVE = new Set(["pending", "running"]);

  function setStatus(status) {
    if (job) job.status = status;
    J.clear(J.$("#job-status"), J.badge(status));
    const cancel = J.$("#job-cancel"), rerun = J.$("#job-rerun");
    if (cancel) cancel.hidden = !ACTIVE.has(status);
    if (rerun) rerun.hidden = ACTIVE.has(status) || !!(job && job.plan_id);   // an apply job is re-planned, not rerun
    const replan = J.$("#job-replan");
    if (replan) replan.hidden = !(job && job.plan_id && plan && !ACTIVE.has(status));
  }

  /* An apply job runs one stored plan: say which (source, manifest, revision) and link to it. */
  async function showPlan(j) {
    if (!j.plan_id) return;
    try {
      plan = await J.get("/api/plans/" + encodeURIComponent(j.plan_id));
    } catch (err) {
      plan = null;
      J.$("#job-meta").append(el("dt", { text: "Plan" }), el("dd", { text: "plan " + j.plan_id + " (" + err.message + ")" }));
      return;
    }
    J.$("#job-meta").append(el("dt", { text: "Applies plan" }), el("dd#job-plan",
      el("a", { href: "/gitops#plan-" + encodeURIComponent(plan.id), text: "plan " + plan.id }),
      " · " + plan.source + " / " + plan.manifest + " → " + plan.target + " · revision ", el("code", { text: (plan.revision || "").slice(0, 10) }),
      " ", J.badge(plan.status)));
    setStatus(j.status);
  }

  function meta(j) {
    const who = j.trigger === "manual" ? j.created_by : j.trigger + (j.created_by ? " (" + j.created_by + ")" : "");
    const rows = [["Runbook", j.runbook], ["Started by", who], ["Created", J.fmtDate(j.created_at)],
      ["Started", J.fmtDate(j.started_at)], ["Finished", J.fmtDate(j.finished_at)], ["Duration", J.duration(j.duration_s)],
      ["Attempt", String(j.attempt || 1)]];
    if (j.reason) rows.push(["Reason", j.reason]);
    const dl = J.clear(J.$("#job-meta"), rows.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: v || "—" })]));
    if (j.rerun_of) dl.append(el("dt", { text: "Rerun of" }), el("dd", el("a", { href: "/jobs/" + encodeURIComponent(j.rerun_of), text: String(j.rerun_of) })));
  }

  function renderSteps() {
    const list = J.$("#job-steps");
    if (!steps.size) return J.clear(list, el("li.muted", { text: "No step yet." }));
    J.clear(list, [...steps.values()].map((s) => el("li." + (s.status || "pending"),
      el("div.row", el("strong", { text: s.step_name || "step" }), J.badge(s.status)),
      el("div.muted", { text: (s.started_at ? J.fmtDate(s.started_at) : "not started") + (s.duration_s != null ? " · " + J.duration(s.duration_s) : "") }),
      s.error ? el("div.muted.step-error", { text: s.error }) : null)));
  }

  function artifacts(list) {
    const box = J.$("#job-artifacts");
    if (!list || !list.length) return J.clear(box, el("li.muted", { text: "None." }));
    J.clear(box, list.map((a) => el("li", el("a", { href: a.url, download: a.name, text: a.name }), " ", el("span.muted", { text: J.bytes(a.size) }))));
  }

  function option(sel, set, value) {
    if (!value || set.has(value)) return;
    set.add(value);
    sel.append(el("option", { value, text: value }));
  }

  function applyFilter() {
    const h = hostSel.value, t = taskSel.value;
    logBox.classList.toggle("filtered", !!(h || t));
    for (const line of logBox.children) {
      line.classList.toggle("hide", (h && line.dataset.host !== h) || (t && line.dataset.task !== t));
    }
  }

  function addEvent(ev) {
    view.counters.push(Number(ev.counter));
    logBox.dataset.lastCounter = ev.counter;
    option(hostSel, hosts, ev.host);
    option(taskSel, tasks, ev.task);
    const text = J.JobLog.text(ev);
    if (!text.trim()) return;
    const kind = /failed|unreachable/.test(ev.type || "") ? "failed" : (ev.data && ev.data.changed) ? "changed" : /_ok$/.test(ev.type || "") ? "ok" : "";
    // the gutter numbers the lines shown (events without text have none); the event's counter, which
    // resuming a stream relies on, stays in data-counter
    view.lines += 1;
    const line = el("span.line" + (kind ? "." + kind : ""), { dataset: { counter: ev.counter, host: ev.host || "", task: ev.task || "" } },
      el("span.ctr", { text: view.lines, "aria-hidden": "true" }), text.replace(/\n+$/, ""), "\n");
    const h = hostSel.value, t = taskSel.value;
    if ((h && ev.host !== h) || (t && ev.task !== t)) line.classList.add("hide");
    const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 30;
    logBox.append(line);
    if (follow.checked && atBottom) logBox.scrollTop = logBox.scrollHeight;
  }

  function setState(text) {
    stateBox.textContent = text === "live" ? "Live" : text;
    logBox.dataset.state = text;
  }

  async function refreshJob() {
    try {
      job = await J.get("/api/jobs/" + encodeURIComponent(jobId));
    } catch (err) {
      const box = J.$("#job-error");
      box.hidden = false;
      box.textContent = err.status === 404 ? "This job does not exist, or the jobs API is not available yet." : "Could not load the job: " + err.message;
      J.clear(J.$("#job-meta"));
      return null;
    }
    J.$("#job-title").textContent = job.title || job.runbook;
    document.title = (job.title || job.runbook) + " · Jarvis";
    meta(job);
    setStatus(job.status);
    await showPlan(job);
    steps.clear();
    for (const s of job.steps || []) steps.set(s.id, s);
    renderSteps();
    artifacts(job.artifacts);
    J.$("#job-input").textContent = JSON.stringify(job.input || {}, null, 2);
    J.$("#job-output").textContent = job.output && Object.keys(job.output).length ? JSON.stringify(job.output, null, 2) : "—";
    return job;
  }

  async function main() {
    const j = await refreshJob();
    if (!j) { setState("unavailable"); return; }
    const log = (view.log = new J.JobLog(jobId, {
      event: addEvent,
      step: (s) => { steps.set(s.id, { ...(steps.get(s.id) || {}), ...s }); renderSteps(); },
      status: setStatus,
      state: setState,
      end: (msg) => {
        setState("ended");
        stateBox.textContent = "Finished" + (msg.status ? " · " + msg.status : "");
        refreshJob();
      },
    }));
    log.start(0);
  }

  const rerun = J.$("#job-rerun"), cancel = J.$("#job-cancel");
  if (rerun) rerun.addEventListener("click", async () => {
    rerun.disabled = true;
    try {
      const next = await J.post("/api/jobs/" + encodeURIComponent(jobId) + "/rerun", {});
      location.assign("/jobs/" + encodeURIComponent(next.id));
    } catch (err) { J.toast("Rerun refused: " + err.message, "error"); rerun.disabled = false; }
  });
  const replan = J.$("#job-replan");
  if (replan) replan.addEventListener("click", async () => {
    replan.disabled = true;
    try {
      await J.post("/api/sources/" + encodeURIComponent(plan.source_id) + "/sync", {});
      J.toast("Sync of " + plan.source + " requested: its new plan will wait in GitOps → Approvals.", "ok");
      J.$("#job-replan-note").hidden = false;
    } catch (err) { J.toast("Sync refused: " + err.message, "error"); }
    replan.disabled = false;
  });
  if (cancel) cancel.addEventListener("click", async () => {
    if (!confirm("Cancel this job?")) return;
    cancel.disabled = true;
    try {
      await J.post("/api/jobs/" + encodeURIComponent(jobId) + "/cancel", {});
      J.toast("Cancellation requested.", "ok");
    } catch (err) { J.toast("Cancel refused: " + err.message, "error"); }
    cancel.disabled = false;
  });
  hostSel.addEventListener("change", applyFilter);
  taskSel.addEventListener("change", applyFilter);
  main();
})();
