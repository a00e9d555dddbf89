/* The Logs page: one query (GET /api/logs) over a Swarm service, a container or a job, then an
   optional live follow (WS /ws/logs) from the answer's cursor. Pause closes the socket and keeps the
   cursor; resuming (or the server's {"type":"resume"}) reconnects from it, so no line is missed or
   repeated. The address holds the query, so a page opened from a container or a job is pre-filtered,
   and a permalink names the exact range shown. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const form = J.$("#logs-form"), view = J.$("#logs-view"), errBox = J.$("#logs-error"), state = J.$("#logs-state");
  const LIMIT = 2000, KEEP = 10000, RETRY_MS = 2000;
  const RANGES = { "15m": 15 * 60e3, "1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3 };
  const params = new URLSearchParams(location.search);
  let envs = [], lines = [], cursor = null, socket = null, paused = false, query = null, retry = null;
  let linked = null;   // the range exactly as a permalink gave it (datetime-local shows whole seconds only)
  let wanted = params.get("selector") ? { source: params.get("source") || "service", selector: params.get("selector") } : null;

  /* ---- pickers: environment → stack → service → container, from /api/containers ---- */
  const envKey = (env) => env.connection + "|" + (env.endpoint === null ? "" : env.endpoint);
  const currentEnv = () => envs.find((e) => envKey(e) === form.env.value);
  const swarmOnly = () => form.source.value === "service";
  const servicesOf = (st) => st.services.filter((s) => s.name && (!swarmOnly() || s.containers.some((c) => c.node)));

  function fill(select, options, value) {
    J.clear(select, options.map((o) => el("option", { value: o.value, text: o.label })));
    if (options.some((o) => o.value === value)) select.value = value;
    select.disabled = !options.length;
  }

  function pickers(pre) {
    pre = pre || {};
    fill(form.env, envs.map((e) => ({ value: envKey(e), label: e.name + (e.connection_type === "portainer" ? " · " + e.connection : "") })),
      pre.env || form.env.value);
    const env = currentEnv();
    const stacks = env ? env.stacks.filter((st) => servicesOf(st).length) : [];
    fill(form.stack, stacks.map((st) => ({ value: st.name || "", label: st.name || "No stack" })), pre.stack !== undefined ? pre.stack : form.stack.value);
    const stack = stacks.find((st) => (st.name || "") === form.stack.value);
    const services = stack ? servicesOf(stack) : [];
    fill(form.service, services.map((s) => ({ value: s.name, label: s.name })), pre.service || form.service.value);
    const svc = services.find((s) => s.name === form.service.value);
    fill(form.container, (svc ? svc.containers : []).map((c) => ({ value: c.ref, label: c.name + " (" + c.state + ")" })),
      pre.container || form.container.value);
  }

  function showSource() {
    const job = form.source.value === "job";
    for (const f of J.$$(".logs-where")) f.hidden = job;
    J.$(".logs-ctr").hidden = form.source.value !== "container";
    J.$(".logs-job").hidden = !job;
  }

  /* the pickers showing what a selector names (a link from a container, a service or a permalink) */
  function preselect(w) {
    form.source.value = w.source;
    showSource();
    if (w.source === "job") { form.job.value = w.selector; return; }
    const slash = w.selector.indexOf("/"), conn = w.selector.slice(0, slash), rest = w.selector.slice(slash + 1);
    for (const env of envs.filter((e) => e.connection === conn)) {
      for (const st of env.stacks) for (const svc of st.services) for (const c of svc.containers) {
        const endpoint = env.endpoint === null ? "" : env.endpoint + ":";
        if ((w.source === "container" && c.ref === rest) || (w.source === "service" && endpoint + svc.name === rest)) {
          pickers({ env: envKey(env), stack: st.name || "", service: svc.name, container: c.ref });
          return;
        }
      }
    }
  }

  function selector() {
    if (wanted && wanted.source === form.source.value) return wanted.selector;   // as linked, even if not listed
    if (form.source.value === "job") return form.job.value.trim();
    const env = currentEnv();
    if (!env) return "";
    if (form.source.value === "container") return form.container.value ? env.connection + "/" + form.container.value : "";
    const endpoint = env.endpoint === null ? "" : env.endpoint + ":";
    return form.service.value ? env.connection + "/" + endpoint + form.service.value : "";
  }

  /* ---- the time range ---- */
  const localInput = (iso) => {
    const d = new Date(iso), pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };

  function range() {
    if (linked) return linked;
    const r = form.range.value;
    if (RANGES[r]) return { since: new Date(Date.now() - RANGES[r]).toISOString(), until: null };
    if (r !== "custom") return { since: null, until: null };
    return { since: form.since.value ? new Date(form.since.value).toISOString() : null,
      until: form.until.value ? new Date(form.until.value).toISOString() : null };
  }

  function showCustom() { for (const f of J.$$(".logs-custom")) f.hidden = form.range.value !== "custom"; }

  /* ---- the lines ---- */
  const stamp = (iso) => (iso ? iso.replace("T", " ").slice(0, 23) : "");

  function lineNode(l) {
    const task = l.labels && l.labels.name ? l.labels.name.split(".").slice(0, 2).join(".") + (l.labels.node ? "@" + l.labels.node : "") : "";
    return el("div.line" + (l.level ? ".lvl-" + l.level : "") + (l.stream === "stderr" ? ".stderr" : ""),
      el("span.ts", { text: stamp(l.time) }), task ? el("span.task", { text: task, title: l.labels.name }) : null,
      el("span.text", { text: l.text }));
  }

  function append(batch) {
    const atEnd = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
    lines = lines.concat(batch);
    const frag = document.createDocumentFragment();
    for (const l of batch) frag.appendChild(lineNode(l));
    view.appendChild(frag);
    while (lines.length > KEEP) { lines.shift(); view.firstChild.remove(); }
    if (atEnd) view.scrollTop = view.scrollHeight;
    count();
  }

  function count() {
    J.$("#logs-h").textContent = lines.length + (lines.length === 1 ? " line" : " lines");
  }

  function fail(message) {
    errBox.hidden = false;
    errBox.textContent = message;
  }

  /* ---- query, then follow ---- */
  async function run() {
    stop();
    errBox.hidden = true;
    const sel = selector();
    if (!sel) { J.clear(view, J.empty("Choose what to read", "Pick an environment and a service or a container, or type a job id.")); return; }
    const r = range();
    query = { source: form.source.value, selector: sel, q: form.q.value.trim(), regex: form.regex.checked, since: r.since, until: r.until };
    const p = new URLSearchParams({ source: query.source, selector: sel, limit: String(LIMIT) });
    if (query.q) p.set("q", query.q);
    if (query.regex) p.set("regex", "true");
    if (r.since) p.set("since", r.since);
    if (r.until) p.set("until", r.until);
    address();
    state.textContent = "Reading…";
    try {
      const body = await J.get("/api/logs?" + p);
      lines = [];
      J.clear(view);
      append(body.lines);
      if (!body.lines.length) J.clear(view, J.empty("No line", "Nothing in this range matches. Widen the range or change the filter."));
      cursor = body.cursor;
      state.textContent = body.truncated ? `The newest ${body.lines.length} lines of the range` : "";
      view.scrollTop = view.scrollHeight;
      if (J.$("#logs-follow").checked) follow();
    } catch (err) {
      state.textContent = "";
      J.clear(view);
      fail("Could not read the log: " + err.message);
    }
  }

  /* the address shows the query as chosen (a relative range stays relative) */
  function address() {
    const p = new URLSearchParams({ source: query.source, selector: query.selector });
    if (query.q) p.set("q", query.q);
    if (query.regex) p.set("regex", "true");
    if (form.range.value === "custom") {
      if (query.since) p.set("since", query.since);
      if (query.until) p.set("until", query.until);
    } else if (form.range.value) p.set("range", form.range.value);
    history.replaceState(null, "", "/logs?" + p);
  }

  function follow() {
    if (!query || !cursor || paused || socket) return;
    const p = new URLSearchParams({ source: query.source, selector: query.selector, after: cursor });
    if (query.q) p.set("q", query.q);
    if (query.regex) p.set("regex", "true");
    const ws = new WebSocket((location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/ws/logs?" + p);
    socket = ws;
    J.$("#logs-pause").disabled = false;
    ws.onopen = () => { state.textContent = "Live"; state.dataset.state = "live"; };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === "lines") {
        if (lines.length === 0) J.clear(view);
        append(msg.lines);
        cursor = msg.cursor;
      } else if (msg.type === "resume") {
        cursor = msg.after;           // read too slowly: come back from what was shown
        socket = null;
        ws.close();
        follow();
      } else if (msg.type === "error") {
        fail("The live log stopped: " + msg.detail);
        J.$("#logs-follow").checked = false;
      } else if (msg.type === "warning") state.textContent = msg.detail;
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (J.$("#logs-follow").checked && !paused) {
        state.textContent = "Reconnecting…";
        retry = setTimeout(follow, RETRY_MS);
      }
    };
  }

  function stop() {
    clearTimeout(retry);
    if (socket) { const ws = socket; socket = null; ws.close(); }
    state.dataset.state = "";
  }

  function setPaused(on) {
    paused = on;
    const b = J.$("#logs-pause");
    b.textContent = on ? "Resume" : "Pause";
    b.setAttribute("aria-pressed", String(on));
    if (on) { stop(); state.textContent = "Paused: new lines wait"; } else follow();
  }

  /* ---- permalink and download ---- */
  function permalink() {
    if (!query) return location.href;
    const p = new URLSearchParams({ source: query.source, selector: query.selector });
    if (query.q) p.set("q", query.q);
    if (query.regex) p.set("regex", "true");
    // the exact range shown: from the first line to just after the last (or the range asked for)
    const since = lines.length ? new Date(lines[0].time).toISOString() : query.since;
    const until = lines.length ? new Date(new Date(lines[lines.length - 1].time).getTime() + 1).toISOString() : query.until;
    if (since) p.set("since", since);
    if (until) p.set("until", until);
    return location.origin + "/logs?" + p;
  }

  function download() {
    const text = lines.map((l) => [l.time || "-", l.stream, l.labels && l.labels.name ? l.labels.name : "", l.text].filter((v, i) => i !== 2 || v).join(" ")).join("\n");
    const a = el("a", { href: URL.createObjectURL(new Blob([text + "\n"], { type: "text/plain" })),
      download: "logs-" + (query ? query.selector : "none").replace(/[^\w.-]+/g, "-") + ".log" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  /* ---- wiring ---- */
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
  form.source.addEventListener("change", () => { wanted = null; showSource(); pickers(); });
  for (const name of ["env", "stack", "service", "container"]) form[name].addEventListener("change", () => { wanted = null; pickers(); });
  form.job.addEventListener("input", () => { wanted = null; });
  form.range.addEventListener("change", () => { linked = null; showCustom(); });
  for (const f of [form.since, form.until]) f.addEventListener("change", () => { linked = null; });
  J.$("#logs-follow").addEventListener("change", (e) => {
    if (e.target.checked) { setPaused(false); follow(); } else { stop(); J.$("#logs-pause").disabled = true; state.textContent = ""; }
  });
  J.$("#logs-pause").addEventListener("click", () => setPaused(!paused));
  J.$("#logs-stamps").addEventListener("change", (e) => view.classList.toggle("no-stamps", !e.target.checked));
  J.$("#logs-wrap").addEventListener("change", (e) => view.classList.toggle("nowrap", !e.target.checked));
  J.$("#logs-permalink").addEventListener("click", async () => {
    const link = permalink();
    J.$("#logs-permalink").dataset.link = link;
    try { await navigator.clipboard.writeText(link); J.toast("Permalink copied", "ok"); } catch (e) { J.toast("Permalink: " + link, "info"); }
  });
  J.$("#logs-download").addEventListener("click", download);

  async function start() {
    if (params.get("q")) form.q.value = params.get("q");
    form.regex.checked = params.get("regex") === "true";
    if (params.get("since") || params.get("until")) {
      form.range.value = "custom";
      if (params.get("since")) form.since.value = localInput(params.get("since"));
      if (params.get("until")) form.until.value = localInput(params.get("until"));
    } else if (RANGES[params.get("range")]) form.range.value = params.get("range");
    showCustom();
    form.source.value = wanted ? wanted.source : "service";
    showSource();
    try {
      envs = (await J.get("/api/containers")).environments;
    } catch (err) {
      fail("Could not list the environments: " + err.message);
    }
    pickers();
    if (wanted) preselect(wanted);
    if (params.get("since") || params.get("until")) linked = { since: params.get("since"), until: params.get("until") };
    if (wanted) run();
    else J.clear(view, J.empty("Choose what to read", "Pick an environment and a service or a container, or open a log from the Containers page or a job."));
  }
  start();
})();
