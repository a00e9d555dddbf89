/* Backups: every scheduled backup of the manifests in force with its schedule, next and last run,
   last success, size and snapshot count, and an incident link when one is open; one backup's detail
   lists the snapshots the repository holds now and its check history. Operators run a backup now,
   test-restore it or check its repository; admins restore a snapshot (into a new volume or database
   unless an existing one is named, overwritten only when its name is typed to confirm). */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const root = J.$("#bk-root"), list = J.$("#bk-list"), detailBox = J.$("#bk-detail"), errBox = J.$("#bk-error");
  const dialog = J.$("#restore-dialog"), form = J.$("#restore-form");
  const STATUS = { success: "success", error: "error", running: "running", never: "never", invalid: "error" };
  const WORD = { success: "ok", error: "failed", running: "running", never: "not run yet", invalid: "invalid" };
  const FIELD = { "backup-volume": "volume", "backup-postgres": "database" };
  let selected = parseInt(root.dataset.backupId || "0", 10) || null, timer = null, current = null;

  const badge = (b) => el("span.badge." + (STATUS[b.last_status] || "unknown"),
    { text: WORD[b.last_status] || b.last_status, dataset: { status: b.last_status } });
  const incidentLink = (b) => b.incident_id
    ? el("a.badge.error.plain", { href: "/incidents/" + b.incident_id, text: "#" + b.incident_id, title: "open incident " + b.incident_id, dataset: { incident: b.incident_id } })
    : null;
  const inFuture = (iso) => {
    if (!iso) return "—";
    const m = Math.round((new Date(iso).getTime() - Date.now()) / 60000);
    return m < 1 ? "due now" : m < 60 ? "in " + m + " min" : m < 2880 ? "in " + Math.round(m / 60) + " h" : "in " + Math.round(m / 1440) + " d";
  };

  function row(b) {
    const link = el("a", { href: "/backups/" + b.id, text: b.name, onclick: (e) => { e.preventDefault(); open(b.id); } });
    return el("tr" + (b.id === selected ? ".selected" : ""), { dataset: { backup: b.id } },
      el("td", link, el("div.muted", { text: [b.runbook, b.target].filter(Boolean).join(" · ") })),
      el("td.hide-sm", el("code", { text: b.schedule }), el("div.muted", { text: (b.timezone || "UTC") + " · next " + inFuture(b.next_run_at), title: J.fmtDate(b.next_run_at) })),
      el("td.status", el("div.row", badge(b), incidentLink(b)),
        el("div.muted", { text: b.last_run_at ? "ran " + J.ago(b.last_run_at) : "" }),
        el("div.muted.last-ok", { title: J.fmtDate(b.last_success_at), text: "last ok " + (b.last_success_at ? J.ago(b.last_success_at) : "never") })),
      el("td.num.hide-sm", { text: J.bytes(b.last_size) }),
      el("td.num", { title: "snapshots in the repository", text: b.snapshot_count === null || b.snapshot_count === undefined ? "—" : String(b.snapshot_count) }));
  }

  async function load() {
    clearTimeout(timer);
    let items;
    try {
      items = await J.get("/api/backups");
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = "Could not load the backups: " + err.message;
      J.clear(list);
      return;
    }
    errBox.hidden = true;
    const failed = items.filter((b) => ["error", "invalid"].includes(b.last_status)).length;
    J.$("#bk-counts").textContent = `${items.length} backup${items.length === 1 ? "" : "s"} · ${failed} failing`;
    if (!items.length) {
      J.clear(list, J.empty("No backup is scheduled",
        "Add a backups: entry (name, runbook, schedule, with:) to an orch.yaml; it runs on its schedule once the manifest is synced."));
    } else {
      J.clear(list, el("div.table-wrap", el("table.backups",
        el("thead", el("tr", el("th", { scope: "col", text: "Backup" }), el("th.hide-sm", { scope: "col", text: "Schedule" }),
          el("th", { scope: "col", text: "Last run" }),
          el("th.num.hide-sm", { scope: "col", text: "Size" }), el("th.num", { scope: "col", text: "Snapshots" }))),
        el("tbody", items.map(row)))));
    }
    if (selected && !detailBox.dataset.loaded) open(selected, true);
    timer = setTimeout(() => { if (!document.hidden) load(); }, 15000);
  }

  async function act(label, url, body) {
    try {
      const res = await J.post(url, body);
      J.toast(label + ": job " + res.job_id + " queued", "success");
      setTimeout(() => { load(); open(selected, true); }, 1500);
    } catch (err) {
      J.toast(label + ": " + err.message, "error");
    }
  }

  function check(c) {
    return el("li." + (c.status === "ok" ? "success" : c.status === "failed" ? "error" : "running"),
      el("div.row", el("strong", { text: c.kind === "check" ? "repository check" : "test restore" }),
        J.badge(c.status), el("span.muted", { text: J.fmtDate(c.at) })),
      el("div", { text: c.detail }),
      c.job_id ? el("a", { href: "/jobs/" + c.job_id, text: "job " + c.job_id }) : null);
  }

  async function open(id, quiet) {
    selected = id;
    history.replaceState(null, "", "/backups/" + id);
    for (const tr of J.$$("#bk-list tr[data-backup]")) tr.classList.toggle("selected", Number(tr.dataset.backup) === id);
    if (!quiet) J.clear(detailBox, el("div.skeleton"));
    let b;
    try {
      b = await J.get("/api/backups/" + id);
    } catch (err) {
      J.clear(detailBox, el("div.notice", { role: "alert", text: "Could not load the backup: " + err.message }));
      return;
    }
    current = b;
    detailBox.dataset.loaded = "1";
    const operator = J.can("operator");
    const actions = operator ? el("div.row.bk-actions",
      el("button.btn.primary.mutating", { type: "button", id: "bk-run", text: "Run now", disabled: !!b.error || b.last_status === "running",
        onclick: () => act("Run now", "/api/backups/" + b.id + "/run") }),
      b.runbook === "backup-volume" ? el("button.btn.mutating", { type: "button", id: "bk-verify", text: "Test restore",
        onclick: () => act("Test restore", "/api/backups/" + b.id + "/check", { kind: "restore" }) }) : null,
      el("button.btn.mutating", { type: "button", id: "bk-check", text: "Check repository",
        onclick: () => act("Repository check", "/api/backups/" + b.id + "/check", { kind: "check" }) }),
      J.can("admin") && b.snapshots.length ? el("button.btn.mutating", { type: "button", id: "bk-restore", text: "Restore…", onclick: () => restore(b) }) : null)
      : null;
    const facts = [
      ["Runbook", b.runbook], ["Target", b.target || "—"], ["Repository", b.repository || "—"],
      ["Schedule", b.schedule + " (" + (b.timezone || "UTC") + ")"], ["Next run", J.fmtDate(b.next_run_at)],
      ["Last run", J.fmtDate(b.last_run_at)], ["Last success", J.fmtDate(b.last_success_at)],
      ["Size", J.bytes(b.last_size) + (b.last_added !== null && b.last_added !== undefined ? " (" + J.bytes(b.last_added) + " added)" : "")],
      ["Repository check", b.check_schedule ? b.check_schedule + " (" + (b.timezone || "UTC") + ")" : "not scheduled"],
      ["Last check", b.checked_at ? J.fmtDate(b.checked_at) + " · " + b.check_status : "—"],
      ["Manifest", b.manifest_path],
    ];
    J.clear(detailBox,
      el("div.row", el("h2", { id: "bk-title", text: b.name }), badge(b), incidentLink(b)),
      el(b.last_status === "success" ? "p#bk-status" : "p#bk-status.muted", { text: b.status_text }),
      b.last_job_id ? el("p", el("a", { href: "/jobs/" + b.last_job_id, text: "last job " + b.last_job_id })) : null,
      actions,
      el("dl.kv.bk-facts", facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
      el("h3", { text: "Snapshots" }),
      b.snapshots_error ? el("div.notice", { role: "alert", text: "The repository could not be read: " + b.snapshots_error }) : null,
      b.snapshots.length ? el("div.table-wrap", el("table#bk-snapshots",
        el("thead", el("tr", el("th", { scope: "col", text: "Time" }), el("th", { scope: "col", text: "Snapshot" }),
          el("th.num", { scope: "col", text: "Size" }))),
        el("tbody", b.snapshots.map((s) => el("tr", el("td", { text: J.fmtDate(s.time) }), el("td.mono", { text: s.short_id }),
          el("td.num", { text: J.bytes(s.size) }))))))
        : b.snapshots_error ? null : el("p.muted", { text: "No snapshot in the repository yet." }),
      el("h3", { text: "Verification history" }),
      b.checks.length ? el("ul.timeline#bk-checks", b.checks.map(check)) : el("p.muted", { text: "No check or test restore yet." }));
  }

  function restore(b) {
    const field = FIELD[b.runbook] || "target";
    const source = (b.input && b.input[field]) || "";
    J.$("#restore-h").textContent = "Restore " + b.name;
    J.$("#restore-desc").textContent = `Restores a snapshot of ${field} ${source} with ${b.runbook.replace("backup-", "restore-")}. ` +
      `By default into a new ${field}; an existing one is overwritten only when you tick the box and type its name.`;
    J.clear(J.$("#rs-snapshot"), b.snapshots.map((s, i) => el("option", { value: i === 0 ? "latest" : s.id, text: J.fmtDate(s.time) + " · " + s.short_id + (i === 0 ? " (latest)" : "") })));
    form.into.value = "";
    form.into.placeholder = field === "volume" ? source + "-restore-<snapshot>" : source + "_restore";
    J.$("#rs-into-hint").textContent = `Empty: a new ${field}. With overwrite and no name: ${source} itself.`;
    form.overwrite.checked = false;
    form.confirm.value = "";
    syncConfirm();
    J.clearErrors(form);
    dialog.showModal();
  }

  function syncConfirm() {
    const field = current ? FIELD[current.runbook] : "";
    const name = form.into.value.trim() || (current && current.input ? current.input[field] || "" : "");
    J.$("#rs-confirm-wrap").hidden = !form.overwrite.checked;
    J.$("#rs-confirm-name").textContent = name;
  }
  form.overwrite.addEventListener("change", syncConfirm);
  form.into.addEventListener("input", syncConfirm);
  for (const b of J.$$(".close-dialog", dialog)) b.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    J.clearErrors(form);
    const btn = J.$("#rs-submit");
    btn.disabled = true;
    try {
      const res = await J.post("/api/backups/" + current.id + "/restore", {
        snapshot: form.snapshot.value, into: form.into.value.trim(), overwrite: form.overwrite.checked,
        confirm: form.overwrite.checked ? form.confirm.value.trim() : "" });
      location.assign("/jobs/" + encodeURIComponent(res.job_id));
    } catch (err) {
      J.showErrors(form, err);
    } finally {
      btn.disabled = false;
    }
  });

  load();
})();
