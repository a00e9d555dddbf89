/* The Containers page: environments and stacks as a tree (counts, error badges), a filterable table
   that refreshes without reload, and a panel per container (details, log, Restart for operators). */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const form = J.$("#ctr-filters"), body = J.$("#ctr-body"), tree = J.$("#ctr-tree"), errBox = J.$("#ctr-error");
  const panel = J.$("#ctr-panel"), confirmBox = J.$("#ctr-confirm"), logBox = J.$("#ctr-log");
  const REFRESH_MS = 10000, FOLLOW_MS = 3000;
  let envs = [], scope = null, current = null, timer = null, followTimer = null, lines = [];
  const params = new URLSearchParams(location.search);
  if (params.get("q")) form.q.value = params.get("q");
  if (params.get("state")) form.state.value = params.get("state");

  const path = (c) => "/api/containers/" + encodeURIComponent(c.connection) + "/" + encodeURIComponent(c.ref);
  const key = (env, stack) => env.connection + "|" + env.name + (stack === undefined ? "" : "|" + (stack === null ? "" : stack));
  const inError = (c) => c.health === "unhealthy" || c.state === "dead" || c.state === "restarting" ||
    (c.state === "exited" && c.exit_code !== 0 && c.exit_code !== null);

  function flat() {
    const out = [];
    for (const env of envs) for (const st of env.stacks) for (const svc of st.services) for (const c of svc.containers)
      out.push({ c, env, stack: st.name });
    return out;
  }

  function matches(item) {
    const q = form.q.value.trim().toLowerCase(), state = form.state.value;
    if (scope && scope !== key(item.env) && scope !== key(item.env, item.stack)) return false;
    if (state === "errors" ? !inError(item.c) : state && item.c.state !== state) return false;
    if (!q) return true;
    return [item.c.name, item.c.image, item.c.stack, item.c.service, item.env.name].some((v) => v && v.toLowerCase().includes(q));
  }

  function treeNode(label, count, errors, k, extra) {
    return el("button.tree-item", { type: "button", "aria-pressed": String(scope === k), onclick: () => { scope = scope === k ? null : k; render(); } },
      el("span.tree-label", { text: label }), extra || null, el("span.spacer"),
      errors ? el("span.badge.error", { text: String(errors), title: errors + " with errors" }) : null,
      el("span.count", { text: String(count) }));
  }

  function renderTree() {
    if (!envs.length) { J.clear(tree, el("p.muted", { text: "No docker or portainer connection." })); return; }
    J.clear(tree, el("ul.tree", envs.map((env) => {
      const total = env.stacks.reduce((n, s) => n + s.containers, 0), errors = env.stacks.reduce((n, s) => n + s.errors, 0);
      return el("li",
        treeNode(env.name, total, errors, key(env), el("span.muted.tree-type", { text: env.connection_type === "portainer" ? "Portainer · " + env.connection : "docker" })),
        env.error ? el("p.tree-error", { text: env.error }) : null,
        el("ul", env.stacks.map((st) => el("li", treeNode(st.name === null ? "No stack" : st.name, st.containers, st.errors, key(env, st.name))))));
    })));
  }

  function row(item) {
    const c = item.c;
    return el("tr.ctr-row", { tabindex: "0", dataset: { ref: c.ref, connection: c.connection },
      onclick: () => open(c, item.env), onkeydown: (e) => { if (e.key === "Enter") open(c, item.env); } },
      el("td", el("button.link-btn", { type: "button", text: c.name }),
        el("div.muted", { text: [item.env.name, c.stack, c.service].filter(Boolean).join(" · ") }),
        el("div.muted.mono.show-sm", { text: c.image })),
      el("td", J.badge(inError(c) ? "error" : c.state === "running" ? "ok" : "unknown", c.state)),
      el("td.hide-sm", c.health ? J.badge(c.health === "healthy" ? "ok" : c.health === "unhealthy" ? "error" : "pending", c.health) : el("span.muted", { text: "—" })),
      el("td.num.hide-sm", { text: String(c.restarts) }),
      el("td.hide-sm", { title: J.fmtDate(c.started || c.created), text: J.ago(c.started || c.created) }),
      el("td.hide-sm.mono.ctr-image", { text: c.image }),
      el("td.hide-sm.mono", { text: c.node ? c.node.slice(0, 10) : "—" }));
  }

  function render() {
    renderTree();
    const items = flat().filter(matches);
    if (!items.length) {
      J.clear(body, J.empty(flat().length ? "No container matches" : "No container yet",
        flat().length ? "Change the search or the state filter." : "Containers of every docker and portainer connection are listed here."));
      return;
    }
    J.clear(body, el("div.table-wrap", el("table#ctr-table",
      el("thead", el("tr", el("th", { scope: "col", text: "Container" }), el("th", { scope: "col", text: "State" }),
        el("th.hide-sm", { scope: "col", text: "Health" }), el("th.num.hide-sm", { scope: "col", text: "Restarts" }),
        el("th.hide-sm", { scope: "col", text: "Age" }), el("th.hide-sm", { scope: "col", text: "Image" }),
        el("th.hide-sm", { scope: "col", text: "Node" }))),
      el("tbody", items.map(row)))));
  }

  async function load() {
    clearTimeout(timer);
    const p = new URLSearchParams();
    if (form.q.value.trim()) p.set("q", form.q.value.trim());
    if (form.state.value) p.set("state", form.state.value);
    history.replaceState(null, "", "/containers" + (p.toString() ? "?" + p : ""));
    try {
      envs = (await J.get("/api/containers")).environments;
      errBox.hidden = true;
      J.$("#ctr-updated").textContent = "Updated " + new Date().toLocaleTimeString();
      render();
    } catch (err) {
      errBox.hidden = false;
      errBox.textContent = "Could not load the containers: " + err.message;
      J.clear(tree);
      J.clear(body);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  /* ---- the panel ---- */
  function fact(label, value) {
    return [el("dt", { text: label }), el("dd", value instanceof Node ? value : { text: value === "" || value === null || value === undefined ? "—" : String(value) })];
  }

  async function open(c, env) {
    current = { c, env };
    J.$("#ctr-panel-title").textContent = c.name;
    J.$("#ctr-panel-where").textContent = [env.name, c.stack || "no stack", c.service].filter(Boolean).join(" · ");
    J.$("#ctr-panel-error").hidden = true;
    J.clear(J.$("#ctr-facts"), el("div.skeleton"));
    logBox.textContent = "";
    J.$("#ctr-open-logs").href = "/logs?" + new URLSearchParams({ source: "container", selector: c.connection + "/" + c.ref });
    const svcLink = J.$("#ctr-service-logs"), endpoint = c.ref.includes(":") ? c.ref.split(":")[0] + ":" : "";
    svcLink.hidden = !(c.service && c.node);      // a Swarm task: its service's merged log
    if (c.service) svcLink.href = "/logs?" + new URLSearchParams({ source: "service", selector: c.connection + "/" + endpoint + c.service });
    if (!panel.open) panel.showModal();
    loadLogs();
    try {
      const d = await J.get(path(c));
      const r = d.resources;
      J.clear(J.$("#ctr-facts"),
        fact("State", J.badge(inError(d) ? "error" : d.state === "running" ? "ok" : "unknown", d.state + (d.health ? " · " + d.health : ""))),
        fact("Image", d.image), fact("Started", d.started ? J.fmtDate(d.started) : "never"),
        fact("Restarts", d.restarts),
        fact("Ports", d.ports.map((p) => (p.public ? (p.ip || "") + ":" + p.public + "→" : "") + p.private + "/" + p.protocol).join(", ")),
        fact("Networks", d.networks.map((n) => n.name + (n.ip ? " " + n.ip : "")).join(", ")),
        fact("Mounts", d.mounts.map((m) => m.source + " → " + m.destination + (m.read_only ? " (ro)" : "")).join(", ")),
        fact("Environment", d.env_names.join(", ")),
        fact("Usage", r ? `CPU ${r.cpu_percent}% · memory ${J.bytes(r.memory_bytes)}` + (r.memory_limit_bytes ? " of " + J.bytes(r.memory_limit_bytes) : "") + ` · ${r.pids} processes` : "not running"),
        fact("Command", d.command.join(" ")));
    } catch (err) {
      J.clear(J.$("#ctr-facts"));
      const box = J.$("#ctr-panel-error");
      box.hidden = false;
      box.textContent = "Could not read the container: " + err.message;
    }
  }

  function showLog() {
    const q = J.$("#ctr-log-q").value.trim().toLowerCase(), stamps = J.$("#ctr-stamps").checked;
    const atEnd = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 30;
    J.clear(logBox, lines.filter((l) => !q || l.text.toLowerCase().includes(q)).map((l) =>
      el("span.line" + (l.stream === "stderr" ? ".stderr" : ""),
        stamps && l.time ? el("span.ctr", { text: l.time.replace("T", " ").slice(0, 23) + " " }) : null, l.text + "\n")));
    if (!lines.length) logBox.textContent = "No log lines.";
    if (atEnd || !q) logBox.scrollTop = logBox.scrollHeight;
  }

  async function loadLogs() {
    clearTimeout(followTimer);
    if (!current) return;
    const c = current.c;
    try {
      lines = (await J.get(path(c) + "/logs?tail=500&timestamps=true")).lines;
      if (current && current.c === c) showLog();
    } catch (err) {
      logBox.textContent = "Could not read the log: " + err.message;
    }
    if (panel.open && J.$("#ctr-follow").checked) followTimer = setTimeout(loadLogs, FOLLOW_MS);
  }

  J.$("#ctr-follow").addEventListener("change", loadLogs);
  J.$("#ctr-stamps").addEventListener("change", showLog);
  J.$("#ctr-log-q").addEventListener("input", showLog);
  J.$("#ctr-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(logBox.textContent); J.toast("Log copied", "ok"); } catch (e) { J.toast("Could not copy the log", "error"); }
  });
  for (const d of [panel, confirmBox].filter(Boolean)) for (const b of J.$$(".close-dialog", d)) b.addEventListener("click", () => d.close());
  panel.addEventListener("close", () => { clearTimeout(followTimer); current = null; });

  const restartBtn = J.$("#ctr-restart");
  if (restartBtn) {
    restartBtn.addEventListener("click", () => {
      const { c, env } = current;
      J.$("#ctr-confirm-text").textContent = `Restart ${c.name}` + (c.stack ? ` of stack ${c.stack}` : "") +
        ` in environment ${env.name} (connection ${env.connection})? Its processes are stopped and started again.`;
      confirmBox.showModal();
    });
    J.$("#ctr-confirm-go").addEventListener("click", async () => {
      const go = J.$("#ctr-confirm-go"), { c, env } = current;
      go.disabled = true;
      try {
        const after = await J.post(path(c) + "/restart");
        confirmBox.close();
        J.toast(`${after.name} restarted`, "ok");
        open(after, env);
        load();
      } catch (err) {
        confirmBox.close();
        const box = J.$("#ctr-panel-error");
        box.hidden = false;
        box.textContent = "Could not restart: " + err.message;
      } finally {
        go.disabled = false;
      }
    });
  }

  form.addEventListener("submit", (e) => e.preventDefault());
  form.q.addEventListener("input", render);
  form.state.addEventListener("change", () => { render(); load(); });
  load();
})();
