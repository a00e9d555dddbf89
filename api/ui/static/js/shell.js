/* The page shell: sidebar toggle, user menu, log out, environment selector, status light,
   and removal of controls the user's role may not use. */
"use strict";
(function () {
  const J = window.Jarvis;
  const body = document.body;

  // controls marked data-min-role are removed (not just hidden) for lower roles
  for (const node of J.$$("[data-min-role]")) if (!J.can(node.dataset.minRole)) node.remove();

  /* ---- sidebar on narrow screens ---- */
  const toggle = J.$(".menu-toggle");
  const setNav = (open) => {
    body.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) J.$("#sidebar a[href]").focus();
  };
  toggle.addEventListener("click", () => setNav(!body.classList.contains("nav-open")));
  J.$(".backdrop").addEventListener("click", () => setNav(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && body.classList.contains("nav-open")) { setNav(false); toggle.focus(); }
  });

  /* ---- user menu ---- */
  const userBtn = J.$("#user-btn"), menu = J.$("#user-menu-list");
  const setMenu = (open, focusFirst) => {
    menu.hidden = !open;
    userBtn.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && focusFirst) menu.querySelector("[role=menuitem]").focus();
  };
  userBtn.addEventListener("click", () => setMenu(menu.hidden, true));
  document.addEventListener("click", (e) => { if (!e.target.closest(".user-menu")) setMenu(false); });
  menu.addEventListener("keydown", (e) => {
    const items = J.$$("[role=menuitem]", menu);
    const i = items.indexOf(document.activeElement);
    if (e.key === "Escape") { setMenu(false); userBtn.focus(); }
    else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  J.$("#logout-btn").addEventListener("click", async () => {
    try { await J.post("/api/auth/logout", {}, { noRedirect: true }); } catch (e) { /* gone already */ }
    location.assign("/login");
  });

  /* ---- environment selector: shared by pages through localStorage + an event ---- */
  const envSel = J.$("#env-select");
  J.environment = () => envSel.value;
  async function loadEnvironments() {
    try {
      const conns = await J.get("/api/connections");
      const envs = [...new Set(conns.map((c) => c.environment).filter(Boolean))].sort();
      for (const env of envs) envSel.append(J.el("option", { value: env, text: env }));
      const saved = localStorage.getItem("jarvis_env") || "";
      if (envs.includes(saved)) envSel.value = saved;
      if (!envs.length) envSel.title = "Environments come from the connections' environment field";
    } catch (e) { /* shown by the page that needs it */ }
  }
  envSel.addEventListener("change", () => {
    localStorage.setItem("jarvis_env", envSel.value);
    document.dispatchEvent(new CustomEvent("jarvis:environment", { detail: envSel.value }));
  });

  /* ---- infrastructure status light: the database (readyz) and the dashboard's error counts ---- */
  const light = J.$("#status-light"), lightText = J.$(".status-text", light);
  function setLight(state, text) {
    light.dataset.state = state;
    lightText.textContent = text;
    light.title = "Infrastructure: " + text;
  }
  J.setStatusFromDashboard = (d) => {
    const problems = (d.drift ? (d.drift.error || 0) : 0) + (d.target_problems || 0) +
      (d.sources || []).filter((s) => s.status === "error").length;
    // what is wrong, most pressing first; an open critical incident turns the light red
    const counts = d.incident_counts || { open: 0, acknowledged: 0 };
    const active = counts.open + counts.acknowledged;
    const critical = (d.incidents || []).some((i) => i.severity === "critical");
    const plural = (n, word) => n + " " + word + (n > 1 ? "s" : "");
    const parts = [];
    if (d.controller && d.controller.running === false) parts.push("No controller running");
    if (active) parts.push(plural(active, "open incident"));
    if (problems) parts.push(plural(problems, "problem"));
    if (!parts.length) setLight("ok", "All systems normal");
    else setLight(critical ? "error" : "warn", parts.join(" · "));
  };
  async function checkStatus() {
    try {
      const r = await fetch("/readyz", { credentials: "same-origin" });
      if (!r.ok) return setLight("error", "Database unreachable");
    } catch (e) {
      return setLight("error", "Server unreachable");
    }
    if (light.dataset.state === "unknown") setLight("ok", "Server ready");
    if (body.dataset.page === "dashboard") return;   // the dashboard feeds the light itself
    try {
      J.setStatusFromDashboard(await J.get("/api/dashboard"));
    } catch (e) { /* no dashboard API yet: the database answer is all we know */ }
  }

  if (body.dataset.scope === "full") {
    loadEnvironments();
  }
  checkStatus();
  setInterval(checkStatus, 30000);
})();
