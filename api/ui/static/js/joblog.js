/* The live job log over WebSocket /ws/jobs/{id}?after=N.
   Every event carries a counter; the last one shown is remembered, and any reconnection (dropped
   socket, or the server's {"type":"resume"}) asks for after=last, so no line is missing or repeated.
   When the socket cannot be opened at all, the events endpoint is polled with the same counter. */
"use strict";
(function () {
  const J = window.Jarvis;
  // eslint-disable-next-line no-control-regex
  const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

  J.JobLog = class {
    constructor(jobId, handlers) {
      this.jobId = jobId;
      this.on = handlers;         // {event(ev), step(step), status(s), end(msg), state(text)}
      this.last = 0;
      this.done = false;
      this.failures = 0;
      this.opened = false;
      this.socket = null;
      this.reconnects = 0;
    }

    start(after) {
      this.last = after || 0;
      this.connect();
    }

    connect() {
      if (this.done) return;
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const url = `${scheme}//${location.host}/ws/jobs/${encodeURIComponent(this.jobId)}?after=${this.last}`;
      let ws;
      try { ws = new WebSocket(url); } catch (e) { return this.retry(); }
      this.socket = ws;
      ws.onopen = () => { this.opened = true; this.failures = 0; this.on.state("live"); };
      ws.onmessage = (m) => {
        let msg;
        try { msg = JSON.parse(m.data); } catch (e) { return; }
        this.handle(msg, ws);
      };
      ws.onclose = () => {
        if (this.socket !== ws) return;
        this.socket = null;
        if (!this.done) this.retry();
      };
    }

    handle(msg, ws) {
      if (msg.type === "events") for (const ev of msg.events) this.event(ev);
      else if (msg.type === "step") this.on.step(msg.step);
      else if (msg.type === "status") this.on.status(msg.status);
      else if (msg.type === "resume") {
        // the server dropped us for reading too slowly: come back from what we have shown
        this.socket = null;
        ws.close();
        this.reconnects++;
        this.connect();
      } else if (msg.type === "end") {
        this.done = true;
        this.socket = null;
        ws.close();
        this.on.end(msg);
      }
    }

    event(ev) {
      const counter = Number(ev.counter);
      if (!(counter > this.last)) return;   // already shown: never repeat a line
      this.last = counter;
      this.on.event(ev);
    }

    retry() {
      this.failures++;
      this.reconnects++;
      if (!this.opened && this.failures >= 3) return this.poll();
      this.on.state("reconnecting…");
      setTimeout(() => this.connect(), Math.min(5000, 300 * 2 ** Math.min(this.failures, 4)));
    }

    /* No WebSocket on this server (or a proxy in the way): read the events endpoint instead. */
    async poll() {
      this.on.state("polling");
      while (!this.done) {
        try {
          const r = await J.get(`/api/jobs/${encodeURIComponent(this.jobId)}/events?after=${this.last}&limit=500`);
          for (const ev of r.events) this.event(ev);
          if (r.done && r.events.length === 0) {
            this.done = true;
            this.on.end({ type: "end", last_counter: r.last_counter });
            return;
          }
          if (r.events.length) continue;
        } catch (err) {
          this.on.state("log unavailable: " + err.message);
        }
        await new Promise((res) => setTimeout(res, 1500));
      }
    }

    static text(ev) {
      return String(ev.stdout || "").replace(ANSI, "").replace(/\r/g, "");
    }
  };
})();
