/* Sign in (with the TOTP second step), forgot password, and reset confirmation (/login?reset=TOKEN). */
"use strict";
(function () {
  const J = window.Jarvis;
  const next = document.body.dataset.next || "/dashboard";
  const resetToken = document.body.dataset.reset;
  const forms = ["signin-form", "totp-form", "forgot-form", "reset-form"].map((id) => document.getElementById(id));
  const [signin, totpForm, forgot, resetForm] = forms;
  const errBox = J.$("#login-error"), infoBox = J.$("#login-info");
  let pending = null;   // email/password/remember waiting for the second factor

  function show(form, info) {
    for (const f of forms) f.hidden = f !== form;
    errBox.hidden = true;
    infoBox.hidden = !info;
    infoBox.textContent = info || "";
    const first = form.querySelector("input:not([type=checkbox])");
    if (first) first.focus();
  }
  function fail(message) {
    errBox.textContent = message;
    errBox.hidden = false;
  }
  function go(scope) {
    location.assign(scope === "self" ? "/settings#account" : next);
  }
  /* Browser messages in place, no native bubbles. */
  function valid(form) {
    J.clearErrors(form);
    let ok = true;
    for (const input of form.querySelectorAll("input[required], input[minlength]")) {
      if (!input.checkValidity()) {
        ok = false;
        const wrap = input.closest(".field");
        wrap.classList.add("invalid");
        wrap.querySelector(".error").textContent = input.validationMessage;
      }
    }
    if (!ok) form.querySelector(".field.invalid input").focus();
    return ok;
  }

  async function login(body, form) {
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    try {
      const res = await J.post("/api/auth/login?cookie=true", body, { noRefresh: true, noRedirect: true });
      go(res.scope);
    } catch (err) {
      if (err.status === 401 && err.body && err.body.reason === "totp_required") {
        pending = body;
        if (form === totpForm) fail("That code did not match. Try again.");
        else show(totpForm);
      } else if (err.status === 401) {
        fail(form === totpForm ? "That code did not match. Try again." : "Wrong email or password.");
      } else if (err.status === 429) {
        fail("Too many attempts. Wait a minute and try again.");
      } else if (err.status === 422) {
        const rest = J.showErrors(form, err);
        if (rest.length) fail(rest.join(" · "));
      } else {
        fail(err.message);
      }
    } finally {
      btn.disabled = false;
    }
  }

  signin.addEventListener("submit", (e) => {
    e.preventDefault();
    errBox.hidden = true;
    if (!valid(signin)) return;
    login({ email: signin.email.value.trim(), password: signin.password.value,
            remember_me: signin.remember_me.checked }, signin);
  });
  totpForm.addEventListener("submit", (e) => {
    e.preventDefault();
    errBox.hidden = true;
    if (!valid(totpForm) || !pending) return;
    login({ ...pending, totp: totpForm.totp.value.trim() }, totpForm);
  });
  J.$("#forgot-link").addEventListener("click", () => {
    forgot.email.value = signin.email.value;
    show(forgot);
  });
  for (const b of J.$$(".back-link")) b.addEventListener("click", () => { pending = null; show(signin); });

  forgot.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!valid(forgot)) return;
    try {
      await J.post("/api/auth/password-reset/request", { email: forgot.email.value.trim() }, { noRefresh: true });
      show(signin, "If an account exists for that address, a reset link is on its way.");
    } catch (err) {
      fail(err.message);
    }
  });

  resetForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!valid(resetForm)) return;
    if (resetForm.new_password.value !== resetForm.confirm.value) {
      J.showErrors(resetForm, { fields: { confirm: "the two passwords differ" } });
      return;
    }
    try {
      await J.post("/api/auth/password-reset/confirm",
        { token: resetToken, new_password: resetForm.new_password.value }, { noRefresh: true });
      history.replaceState(null, "", "/login");
      show(signin, "Password changed. Sign in with the new one.");
    } catch (err) {
      if ("token" in err.fields || err.status === 404) {
        fail("This reset link is invalid or has expired. Ask for a new one.");
      } else {
        const rest = J.showErrors(resetForm, err);
        if (rest.length) fail(rest.join(" · "));
      }
    }
  });

  if (resetToken) {
    show(resetForm);
  } else {
    // an expired access cookie: a still-valid refresh cookie brings the user straight back
    J.refresh().then((ok) => { if (ok) location.assign(next); });
  }
})();
