/* Pages whose live view is not served by this server yet: say honestly what exists and what to configure. */
"use strict";
(function () {
  const J = window.Jarvis;
  const card = J.$("#pending-card"), body = J.$("#pending-body");
  const type = card.dataset.connType;
  const settingsLink = () => J.can("admin")
    ? J.el("a.btn.primary", { href: "/settings#connections", text: "Open Settings → Connections" })
    : J.el("p.muted", { text: "Ask an administrator to add it." });

  async function render() {
    if (!type) {
      J.clear(body, J.empty("The assistant is not configured yet",
        "No language-model provider is configured on this server. Runbooks and jobs work without it.", null));
      return;
    }
    let conns = [];
    try {
      conns = await J.get("/api/connections?type=" + encodeURIComponent(type));
    } catch (err) {
      J.clear(body, J.el("div.notice", { role: "alert", text: "Could not read the connections: " + err.message }));
      return;
    }
    const env = J.environment ? J.environment() : "";
    const mine = env ? conns.filter((c) => c.environment === env) : conns;
    if (!mine.length) {
      J.clear(body, J.empty("No " + type + " connection yet" + (env ? " in " + env : ""),
        "Add one in Settings → Connections (type " + type + ") and this page will show its data.", settingsLink()));
      return;
    }
    J.clear(body,
      J.el("div.notice.info", { text: "This server does not serve the live view for this page yet. " +
        "These " + type + " connections will feed it:" }),
      J.el("div.table-wrap", J.el("table",
        J.el("thead", J.el("tr", ["Name", "Environment", "Last test"].map((h) => J.el("th", { scope: "col", text: h })))),
        J.el("tbody", mine.map((c) => J.el("tr",
          J.el("td", { text: c.name }), J.el("td", { text: c.environment || "—" }),
          J.el("td", c.last_test_at ? J.badge(c.last_test_ok ? "ok" : "error", c.last_test_ok ? "ok" : "failed")
            : J.el("span.muted", { text: "never tested" }))))))));
  }
  document.addEventListener("jarvis:environment", render);
  render();
})();
