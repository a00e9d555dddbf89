/* The offer of embedded Jarvis to create the connection `local` to this machine's own target (the local
   Swarm manager), so examples/local can deploy: one click, admins only (the template includes this
   script for them). Other scripts hear "jarvis:connections-changed" and reload what depends on it. */
"use strict";
(function () {
  const J = window.Jarvis;
  const el = J.el;
  const box = J.$("#local-offer");
  if (!box) return;

  function show(offer) {
    const btn = el("button.btn.primary.mutating", { type: "button", text: `Create connection ${offer.name}` });
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        await J.post("/api/connections/local-offers/" + encodeURIComponent(offer.kind), {});
      } catch (err) {
        btn.disabled = false;
        return J.clear(box, el("strong", { text: "The connection was not created." }), el("p", { text: err.message }));
      }
      box.classList.replace("info", "ok");
      J.clear(box, el("strong", { text: `Connection ${offer.name} created.` }),
        el("p", { text: "The sources sync again now: the manifests that name it (examples/local) are planned, and a manual plan waits for approval under GitOps → Approvals." }));
      window.dispatchEvent(new CustomEvent("jarvis:connections-changed"));
    });
    J.clear(box,
      el("strong", { text: `This machine runs a ${offer.title} (${offer.message}).` }),
      el("p", {}, `Create the ${offer.type} connection `, el("code", { text: offer.name }),
        ` to it (${offer.config.base_url || "this machine"}), so that examples/local can deploy here.`),
      el("div.row", {}, btn));
    box.hidden = false;
  }

  J.get("/api/connections/local-offers").then((offers) => { if (offers.length) show(offers[0]); }, () => {});
})();
