/* Notifications: the channels (notify-* connections) with "Send a test", the rules (admins add, pause
   and remove them) and the deliveries with their state (operators send a failed one again). */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const errBox = J.$("#nt-error"), ruleForm = J.$("#nt-rule-form");
  const STATUS = { sent: "success", pending: "pending", sending: "running", retrying: "pending", failed: "error", suppressed: "unknown" };
  let channels = [], timer = null;

  function fail(what, err) {
    errBox.hidden = false;
    errBox.textContent = `Could not ${what}: ${err.message}`;
  }

  async function sendTest(ch, btn) {
    btn.disabled = true;
    try {
      const r = await J.post(`/api/connections/${ch.id}/test`);
      J.toast(r.message, r.ok ? "success" : "error");
    } catch (err) { J.toast(err.message, "error"); }
    btn.disabled = false;
  }

  function channelsTable() {
    if (!channels.length) return J.empty("No channel yet", "Add a connection of a notify-* type under Settings → Connections.");
    return el("div.table-wrap", el("table",
      el("thead", el("tr", ["Channel", "Type", "Environment", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", channels.map((ch) => {
        const btn = J.can("operator") ? el("button.btn.small", { type: "button", text: "Send a test", dataset: { channel: ch.name } }) : null;
        if (btn) btn.addEventListener("click", () => sendTest(ch, btn));
        return el("tr", el("td", { text: ch.name }), el("td.mono", { text: ch.type.replace("notify-", "") }),
          el("td", { text: ch.environment || "—" }), el("td", btn));
      }))));
  }

  function rulesTable(rules) {
    if (!rules.length) return J.empty("No rule yet", "A rule sends chosen events of an environment to a channel.");
    return el("div.table-wrap", el("table",
      el("thead", el("tr", ["Rule", "Channel", "Events", "Environment", "Limits", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", rules.map((r) => {
        const actions = [];
        if (J.can("admin")) {
          const toggle = el("button.btn.small", { type: "button", text: r.enabled ? "Pause" : "Resume" });
          toggle.addEventListener("click", async () => {
            try { await J.patch(`/api/notifications/rules/${r.id}`, { enabled: !r.enabled }); load(); } catch (err) { J.toast(err.message, "error"); }
          });
          const remove = el("button.btn.small.danger", { type: "button", text: "Remove" });
          remove.addEventListener("click", async () => {
            if (!confirm(`Remove the rule ${r.name}?`)) return;
            try { await J.del(`/api/notifications/rules/${r.id}`); load(); } catch (err) { J.toast(err.message, "error"); }
          });
          actions.push(toggle, remove);
        }
        return el("tr" + (r.enabled ? "" : ".muted"), { dataset: { rule: r.name } },
          el("td", { text: r.name + (r.enabled ? "" : " (paused)") }), el("td", { text: r.channel }),
          el("td.mono", { text: r.events.join(", ") }), el("td", { text: r.environment || "all" }),
          el("td", { text: `${r.dedupe_seconds}s de-dup · ${r.max_per_hour || "∞"}/h` }), el("td", actions));
      }))));
  }

  function deliveriesTable(page) {
    if (!page.items.length) return J.empty("No delivery", "Deliveries appear here as rules send events.");
    return el("div.table-wrap", el("table",
      el("thead", el("tr", ["#", "Event", "Channel", "Status", "Attempts", "When", "Error or answer", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", page.items.map((d) => {
        let retry = null;
        if (J.can("operator") && ["failed", "retrying", "suppressed"].includes(d.status)) {
          retry = el("button.btn.small", { type: "button", text: "Send again" });
          retry.addEventListener("click", async () => {
            try { await J.post(`/api/notifications/deliveries/${d.id}/retry`); load(); } catch (err) { J.toast(err.message, "error"); }
          });
        }
        const when = d.status === "retrying" && d.next_attempt_at ? "next " + J.fmtDate(d.next_attempt_at) : J.ago(d.sent_at || d.created_at);
        return el("tr", { dataset: { delivery: d.id, status: d.status } },
          el("td.num", { text: d.id }), el("td", el("div", { text: d.title }), el("div.muted.mono", { text: d.event })),
          el("td", { text: d.channel }), el("td", J.badge(STATUS[d.status] || "unknown", d.status)),
          el("td.num", { text: d.attempts }), el("td", { text: when }),
          el("td", { text: d.last_error || d.response }), el("td", retry));
      }))));
  }

  async function load() {
    clearTimeout(timer);
    const status = J.$("#nd-status").value;
    const p = new URLSearchParams({ limit: 50 });
    if (status) p.set("status", status);
    let conns, rules, page;
    try {
      [conns, rules, page] = await Promise.all([J.get("/api/connections"), J.get("/api/notifications/rules"),
        J.get("/api/notifications/deliveries?" + p)]);
    } catch (err) { fail("load the notifications", err); return; }
    errBox.hidden = true;
    channels = conns.filter((c) => c.type.startsWith("notify-"));
    J.clear(J.$("#nt-channels"), channelsTable());
    J.clear(J.$("#nt-rules"), rulesTable(rules));
    J.clear(J.$("#nt-deliveries"), deliveriesTable(page));
    const select = J.$("#nr-channel");
    const chosen = select.value;
    J.clear(select, channels.map((c) => el("option", { value: c.name, text: c.name, selected: c.name === chosen })));
    timer = setTimeout(() => { if (!document.hidden) load(); }, 10000);
  }

  async function setupForm() {
    if (!J.can("admin")) return;
    ruleForm.hidden = false;
    const events = await J.get("/api/notifications/events");
    J.clear(J.$("#nr-events"), events.map((e) => el("label.check", { title: e.description },
      el("input", { type: "checkbox", name: "events", value: e.name }), " " + e.name)));
    ruleForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      J.clearErrors(ruleForm);
      const f = ruleForm;
      const body = { name: f.name.value, channel: f.channel.value, environment: f.environment.value,
        events: J.$$("input[name=events]:checked", f).map((i) => i.value),
        dedupe_seconds: parseInt(f.dedupe_seconds.value || "0", 10), max_per_hour: parseInt(f.max_per_hour.value || "0", 10) };
      try {
        await J.post("/api/notifications/rules", body);
        f.reset();
        J.toast(`Rule ${body.name} added`, "success");
        load();
      } catch (err) { J.showErrors(f, err); }
    });
  }

  J.$("#nd-status").addEventListener("change", load);
  setupForm().catch((err) => fail("load the events", err));
  load();
})();
