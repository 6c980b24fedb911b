// Sign in, forgot username, forgot password, setting a password from an emailed link
// (/set-password?token=… for new users, /reset-password?token=… after "forgot password"), and
// confirming a new email address from the link sent to it (/confirm-email?token=…).
import {
  ApiError, busy, clear, errorText, field, h, notice, pageTitle, post, sessionCall, t,
} from "../core.js";

function card(...children) {
  return h("div", { class: "auth-card" }, children);
}

export async function login({ main, query, navigate, app }) {
  const out = h("div", { class: "form-out" });
  const next = query.get("next");
  const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  const button = h("button", { type: "submit", class: "primary" }, t("auth.signin"));
  const form = h("form", { novalidate: true, "aria-describedby": "login-help" },
    field(t("auth.username"), { name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" }),
    field(t("auth.password"), { name: "password", type: "password", autocomplete: "current-password", required: true }),
    out, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      clear(out, notice("error", t("auth.fill")));
      return;
    }
    await busy(button, null, async () => {
      try {
        const reply = await sessionCall("/portal/session", { username, password });
        app.state.me = reply.user;
        navigate(reply.user && !reply.user.company_id && reply.user.is_staff && safeNext === "/" ? "/backoffice" : safeNext,
          { replace: true });
      } catch (err) {
        form.elements.password.value = "";
        clear(out, loginProblem(err));
        form.elements.password.focus();
      }
    });
  });
  clear(main, card(pageTitle(t("auth.signin.title")),
    query.get("done") ? notice("ok", t(query.get("done") === "reset" ? "auth.reset.done" : "auth.signedout")) : null,
    form,
    h("p", { id: "login-help", class: "links" },
      h("a", { href: "/forgot-password" }, t("auth.forgot.password")), " · ",
      h("a", { href: "/forgot-username" }, t("auth.forgot.username")))));
}

function loginProblem(err) {
  if (!(err instanceof ApiError)) return notice("error", t("error.network"));
  const code = err.code;
  if (code === "account_locked" || err.status === 423) {
    return h("div", { class: "notice error", role: "alert" }, t("auth.locked"), " ",
      h("a", { href: "/forgot-password" }, t("auth.reset.link")));
  }
  if (code === "password_expired") {
    return h("div", { class: "notice error", role: "alert" }, t("auth.expired"), " ",
      h("a", { href: "/forgot-password" }, t("auth.reset.link")));
  }
  if (code === "account_disabled") return notice("error", t("auth.disabled"));
  if (err.status === 401) return notice("error", t("auth.invalid"));
  return notice("error", errorText(err));
}

// the two "forgot" pages: one field, one request, the same answer whatever the address
function forgotPage(main, { name, input, path, title, text, sent, links }) {
  const out = h("div", { class: "form-out" });
  const button = h("button", { type: "submit", class: "primary" }, t("auth.forgot.send"));
  const form = h("form", {}, input, out, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = form.elements[name].value.trim();
    if (!value) { clear(out, notice("error", t("auth.fill"))); return; }
    await busy(button, out, async () => {
      await post(path, { [name]: value });
      clear(out, notice("ok", sent));
    });
  });
  clear(main, card(pageTitle(title), h("p", {}, text), form, h("p", { class: "links" }, ...links)));
}

export async function forgotPassword({ main }) {
  forgotPage(main, {
    name: "username", path: "/auth/forgot-password",
    input: field(t("auth.username"), { name: "username", autocomplete: "username", required: true, autocapitalize: "none" }),
    title: t("auth.forgot.password.title"), text: t("auth.forgot.password.text"),
    sent: t("auth.forgot.password.sent"),
    links: [h("a", { href: "/login" }, t("auth.back")), " · ",
      h("a", { href: "/forgot-username" }, t("auth.forgot.username"))],
  });
}

export async function forgotUsername({ main }) {
  forgotPage(main, {
    name: "email", path: "/auth/forgot-username",
    input: field(t("auth.email"), { name: "email", type: "email", autocomplete: "email", required: true }),
    title: t("auth.forgot.username.title"), text: t("auth.forgot.username.text"),
    sent: t("auth.forgot.username.sent"),
    links: [h("a", { href: "/login" }, t("auth.back"))],
  });
}

let heldToken = "";
function passwordPage(kind) {
  return async ({ main, query, navigate }) => {
    const token = query.get("token") || heldToken;
    heldToken = token;
    // the token stays in memory only: the address bar no longer shows it
    history.replaceState({}, "", location.pathname);
    const out = h("div", { class: "form-out" });
    const button = h("button", { type: "submit", class: "primary" }, t("auth.password.save"));
    const form = h("form", { novalidate: true },
      field(t("auth.password.new"), { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 12 },
        { hint: t("auth.password.rules") }),
      field(t("auth.password.confirm"), { name: "confirm", type: "password", autocomplete: "new-password", required: true }),
      out, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const password = form.elements.password.value;
      if (!password || password !== form.elements.confirm.value) {
        clear(out, notice("error", t("auth.password.mismatch")));
        return;
      }
      await busy(button, null, async () => {
        try {
          await post("/auth/reset-password", { token, new_password: password });
          navigate("/login?done=reset", { replace: true });
        } catch (err) {
          clear(out, err instanceof ApiError && err.status === 410
            ? h("div", { class: "notice error", role: "alert" }, t("auth.token.gone"), " ",
              h("a", { href: "/forgot-password" }, t("auth.reset.link")))
            : notice("error", errorText(err)));
        }
      });
    });
    const title = kind === "set" ? t("auth.set.title") : t("auth.reset.title");
    clear(main, card(pageTitle(title),
      token ? form : notice("error", t("auth.token.missing")),
      h("p", { class: "links" }, h("a", { href: "/login" }, t("auth.back")))));
  };
}

export const setPassword = passwordPage("set");
export const resetPassword = passwordPage("reset");

// The link sent to a new address: one click confirms it (the page posts the token; a link
// checker that only fetches the page confirms nothing).
export async function confirmEmail({ main, query }) {
  const token = query.get("token") || heldToken;
  heldToken = token;
  history.replaceState({}, "", location.pathname);
  const out = h("div", { class: "form-out" });
  const button = h("button", { type: "submit", class: "primary" }, t("auth.email.confirm"));
  const form = h("form", {}, h("p", {}, t("auth.email.confirm.text")), out, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(button, null, async () => {
      try {
        await post("/auth/confirm-email", { token });
        clear(form, notice("ok", t("auth.email.confirmed")));
      } catch (err) {
        clear(out, err instanceof ApiError && err.status === 410
          ? notice("error", t("auth.token.gone")) : notice("error", errorText(err)));
      }
    });
  });
  clear(main, card(pageTitle(t("auth.email.confirm.title")),
    token ? form : notice("error", t("auth.token.missing")),
    h("p", { class: "links" }, h("a", { href: "/" }, t("auth.back.portal")))));
}
