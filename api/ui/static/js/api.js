/* Shared helpers: the API fetch wrapper (cookies, CSRF, silent refresh), DOM building,
   error display on forms, formatting. Everything hangs off window.Jarvis. */
"use strict";
(function () {
  const J = (window.Jarvis = window.Jarvis || {});
  const ROLES = ["viewer", "operator", "admin"];

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
      this.fields = fieldErrors(body);
    }
  }
  J.ApiError = ApiError;

  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }
  J.cookie = cookie;

  /* {field: message} from a 422: every one has `errors`, a list of {field, message} (api/errors.py). */
  function fieldErrors(body) {
    const out = {};
    if (!body || typeof body !== "object" || !Array.isArray(body.errors)) return out;
    for (const e of body.errors) {
      if (e.field && !(e.field in out)) out[e.field] = e.message || "invalid";
    }
    return out;
  }

  function messageOf(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (status === 404) return "not found (this part of the API may not be available yet)";
    if (status === 429) return "too many requests, try again shortly";
    if (status >= 500) return "the server could not answer (" + status + ")";
    return "request failed (" + status + ")";
  }

  let refreshing = null;
  /* One refresh at a time, shared by every request that got a 401. */
  function refresh() {
    if (!refreshing) {
      refreshing = fetch("/api/auth/refresh", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": cookie("jarvis_csrf") },
      }).then((r) => r.ok).catch(() => false).finally(() => setTimeout(() => { refreshing = null; }, 0));
    }
    return refreshing;
  }
  J.refresh = refresh;

  function toLogin() {
    const here = location.pathname + location.search + location.hash;
    location.assign("/login?next=" + encodeURIComponent(here));
  }

  /* api("GET", "/api/x") → parsed JSON (null for 204); throws ApiError. */
  async function api(method, url, body, opts) {
    opts = opts || {};
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const send = () => {
      if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("jarvis_csrf");
      return fetch(url, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let res = await send();
    if (res.status === 401 && !opts.noRefresh) {
      const first = await res.clone().json().catch(() => ({}));
      if (first && first.reason === "totp_required") throw new ApiError(401, messageOf(401, first), first);
      if (await refresh()) res = await send();
      if (res.status === 401 && !opts.noRedirect) {
        toLogin();
        throw new ApiError(401, "session expired", null);
      }
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = text; }
    }
    if (!res.ok) throw new ApiError(res.status, messageOf(res.status, data), data);
    return data;
  }
  J.api = api;
  J.get = (url, opts) => api("GET", url, undefined, opts);
  J.post = (url, body, opts) => api("POST", url, body === undefined ? {} : body, opts);
  J.patch = (url, body) => api("PATCH", url, body);
  J.put = (url, body) => api("PUT", url, body);
  J.del = (url) => api("DELETE", url);

  /* ---- roles ---- */
  J.role = () => document.body.dataset.role || "viewer";
  J.can = (min) => ROLES.indexOf(J.role()) >= ROLES.indexOf(min);

  /* ---- DOM ---- */
  /* el("tag.class#id", {attr: v, onclick: fn, dataset: {}}, child, "text", ...) — text is never parsed as HTML. */
  function el(spec, attrs, ...kids) {
    const m = spec.match(/^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i);
    const node = document.createElement((m && m[1]) || "div");
    if (m && m[2]) {
      for (const part of m[2].match(/[.#][\w-]+/g)) {
        if (part[0] === ".") node.classList.add(part.slice(1));
        else node.id = part.slice(1);
      }
    }
    if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
      kids.unshift(attrs);
      attrs = null;
    }
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "text") node.textContent = v;
      else if (k in node && typeof v !== "string" && k !== "list") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    append(node, kids);
    return node;
  }
  function append(node, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
  }
  J.el = el;
  J.$ = (sel, root) => (root || document).querySelector(sel);
  J.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  J.clear = (node, ...kids) => { node.replaceChildren(); append(node, kids); return node; };

  J.badge = (status, extra) => el("span.badge." + String(status || "unknown").replace(/[^\w-]/g, ""), { text: extra || status || "unknown" });

  J.empty = (title, text, action) => el("div.empty",
    emptyArt(),
    el("h2", { text: title }),
    text ? el("p", { text }) : null,
    action || null);

  function emptyArt() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 84 84");
    svg.setAttribute("class", "empty-art");
    svg.setAttribute("aria-hidden", "true");
    const shapes = [
      ["rect", { x: 14, y: 22, width: 56, height: 42, rx: 8, fill: "none", stroke: "#3b4a63", "stroke-width": 2 }],
      ["path", { d: "M14 34h56", stroke: "#3b4a63", "stroke-width": 2 }],
      ["circle", { cx: 22, cy: 28, r: 2, fill: "#5b9cff" }],
      ["circle", { cx: 29, cy: 28, r: 2, fill: "#7c6cff" }],
      ["path", { d: "M30 50h24M36 56h12", stroke: "#5d6a80", "stroke-width": 2, "stroke-linecap": "round" }],
    ];
    for (const [tag, at] of shapes) {
      const s = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(at)) s.setAttribute(k, v);
      svg.append(s);
    }
    return svg;
  }

  /* A labelled field: {label, name, type, required, hint, value, options, input: customNode}. */
  J.field = (f) => {
    const id = f.id || "f-" + Math.random().toString(36).slice(2, 9);
    let input = f.input;
    if (!input) {
      if (f.options) {
        input = el("select", { id, name: f.name, required: !!f.required },
          f.options.map((o) => {
            const [value, label] = Array.isArray(o) ? o : [o, o];
            return el("option", { value, text: label, selected: String(f.value ?? "") === String(value) });
          }));
      } else if (f.type === "textarea") {
        input = el("textarea", { id, name: f.name, required: !!f.required, placeholder: f.placeholder });
        input.value = f.value ?? "";
      } else {
        input = el("input", { id, name: f.name, type: f.type || "text", required: !!f.required,
          placeholder: f.placeholder, autocomplete: f.autocomplete });
        if (f.value !== undefined && f.value !== null) input.value = f.value;
      }
    } else {
      input.id = input.id || id;
    }
    const hintId = input.id + "-hint", errId = input.id + "-err";
    input.setAttribute("aria-describedby", (f.hint ? hintId + " " : "") + errId);
    return el("div.field", { dataset: { field: f.name || "" } },
      el("label", { for: input.id }, f.label, f.required ? el("span.req", { "aria-hidden": "true", text: "*" }) : null),
      input,
      f.hint ? el("span.hint", { id: hintId, text: f.hint }) : null,
      el("span.error", { id: errId, role: "alert" }));
  };

  /* Puts each error next to its field (name, or data-field on the wrapper); strips `prefix`.
     Answers the messages that matched no field. */
  J.showErrors = (form, err, prefix) => {
    J.clearErrors(form);
    const rest = [];
    const fields = (err && err.fields) || {};
    for (const [raw, msg] of Object.entries(fields)) {
      const name = prefix && raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
      const top = name.split(".")[0];
      const wrap = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`) ||
        form.querySelector(`.field[data-field="${CSS.escape(top)}"]`);
      if (wrap) {
        wrap.classList.add("invalid");
        const box = wrap.querySelector(".error");
        if (box) box.textContent = msg;
        const input = wrap.querySelector("input,select,textarea");
        if (input) input.setAttribute("aria-invalid", "true");
      } else rest.push(raw + ": " + msg);
    }
    if (!Object.keys(fields).length && err) rest.push(err.message);
    const box = form.querySelector(".form-error");
    if (box) {
      box.textContent = rest.join(" · ");
      box.hidden = !rest.length;
    }
    const first = form.querySelector(".field.invalid input, .field.invalid select, .field.invalid textarea");
    if (first) first.focus();
    return rest;
  };
  J.clearErrors = (form) => {
    for (const w of form.querySelectorAll(".field.invalid")) w.classList.remove("invalid");
    for (const b of form.querySelectorAll(".field .error")) b.textContent = "";
    for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    const box = form.querySelector(".form-error");
    if (box) { box.textContent = ""; box.hidden = true; }
  };
  /* Browser validation messages shown next to the field instead of the native bubble. */
  J.inlineValidation = (form) => {
    form.addEventListener("invalid", (ev) => {
      ev.preventDefault();
      const wrap = ev.target.closest(".field");
      if (!wrap) return;
      wrap.classList.add("invalid");
      const box = wrap.querySelector(".error");
      if (box) box.textContent = ev.target.validationMessage;
      ev.target.setAttribute("aria-invalid", "true");
      const firstBad = form.querySelector(":invalid:not(fieldset):not(form)");
      if (firstBad === ev.target) ev.target.focus();
    }, true);
    form.addEventListener("input", (ev) => {
      const wrap = ev.target.closest(".field.invalid");
      if (wrap && ev.target.checkValidity()) {
        wrap.classList.remove("invalid");
        const box = wrap.querySelector(".error");
        if (box) box.textContent = "";
        ev.target.removeAttribute("aria-invalid");
      }
    });
  };

  J.toast = (message, kind) => {
    const box = document.getElementById("toasts");
    if (!box) return;
    const t = el("div.toast" + (kind ? "." + kind : ""), { text: message });
    box.append(t);
    setTimeout(() => t.remove(), kind === "error" ? 7000 : 4000);
  };

  /* ---- formatting ---- */
  J.fmtDate = (iso) => {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  };
  J.ago = (iso) => {
    if (!iso) return "never";
    const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (isNaN(s)) return String(iso);
    if (s < 45) return "just now";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  };
  J.duration = (sec) => {
    if (sec === null || sec === undefined) return "—";
    sec = Number(sec);
    if (sec < 1) return Math.round(sec * 1000) + " ms";
    if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + " s";
    // whole units say no zero part: "5 min", "2 h", not "5 min 0 s"
    const total = Math.round(sec), m = Math.floor(total / 60), s = total % 60;
    if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
    return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
  };
  J.bytes = (n) => {
    if (n === null || n === undefined) return "—";
    const u = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  };
  J.short = (v) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

  /* Tabs: buttons[role=tab][aria-controls] inside [role=tablist]; arrow keys move; hash selects. */
  J.tabs = (list, onShow) => {
    const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
    const show = (tab, focus) => {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      }
      if (focus) tab.focus();
      if (onShow) onShow(tab.dataset.tab);
    };
    list.addEventListener("click", (e) => {
      const t = e.target.closest('[role="tab"]');
      if (t) { show(t); history.replaceState(null, "", "#" + t.dataset.tab); }
    });
    list.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(document.activeElement);
      if (i < 0) return;
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        show(next, true);
        history.replaceState(null, "", "#" + next.dataset.tab);
      }
    });
    window.addEventListener("hashchange", () => {   // e.g. the user menu's "My account" link
      const t = tabs.find((x) => "#" + x.dataset.tab === location.hash);
      if (t) show(t);
    });
    const wanted = tabs.find((t) => "#" + t.dataset.tab === location.hash && !t.hidden);
    show(wanted || tabs.find((t) => !t.hidden) || tabs[0]);
    return { show: (name) => show(tabs.find((t) => t.dataset.tab === name)) };
  };
})();
