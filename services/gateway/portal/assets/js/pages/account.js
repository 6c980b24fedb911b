// Own account (profile, password, email preferences, saved cards), assets and licenses.
import {
  announce, busy, checkbox, clear, date, del, field, formValues, get, h, link, newKey, notice,
  pageTitle, patch, post, put, qs, section, t, table, setLang,
} from "../core.js";

export async function profile({ main, params, app }) {
  const focus = params[0];
  const [me, prefs, cards] = await Promise.all([
    get("/me"),
    get("/me/email-preferences").catch(() => null),
    get("/me/payment-cards").catch(() => null),
  ]);

  const profileOut = h("div", { class: "form-out" });
  const profileForm = h("form", { novalidate: true },
    field(t("account.username"), { value: me.username, readonly: true, name: "username_ro" }, { hint: t("account.username.hint") }),
    field(t("account.first"), { name: "first_name", value: me.first_name || "", autocomplete: "given-name" }),
    field(t("account.last"), { name: "last_name", value: me.last_name || "", autocomplete: "family-name" }),
    field(t("auth.email"), { name: "email", type: "email", value: me.email || "", autocomplete: "email" },
      { hint: me.pending_email ? t("account.email.pending", { email: me.pending_email }) : t("account.email.hint") }),
    field(t("account.password.current"), { name: "current_password", type: "password", autocomplete: "current-password" },
      { hint: t("account.email.password") }),
    field(t("account.phone"), { name: "phone", type: "tel", value: me.phone || "", autocomplete: "tel" }),
    field(t("account.locale"), { name: "locale", value: me.locale || "en" }, { control: "select", options: [["en", "English"], ["fr", "Français"]] }),
    profileOut, h("button", { type: "submit", class: "primary" }, t("common.save")));
  profileForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(profileForm);
    delete v.username_ro;
    if (!v.phone) v.phone = null;
    // a new address needs the password; an unchanged one is not sent at all
    if ((v.email || "").toLowerCase() === (me.email || "").toLowerCase()) delete v.email;
    if (!v.email || !v.current_password) delete v.current_password;
    await busy(event.submitter, profileOut, async () => {
      app.state.me = await patch("/me", v);
      profileForm.elements.current_password.value = "";
      setLang(v.locale);
      clear(profileOut, notice("ok", v.email
        ? t("account.email.sent", { email: app.state.me.pending_email || v.email }) : t("common.saved")));
    });
  });

  const pwOut = h("div", { class: "form-out" });
  const pwForm = h("form", { novalidate: true, id: "password" },
    field(t("account.password.current"), { name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    field(t("auth.password.new"), { name: "new_password", type: "password", autocomplete: "new-password", required: true }, { hint: t("auth.password.rules") }),
    pwOut, h("button", { type: "submit", class: "primary" }, t("account.password.change")));
  pwForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, pwOut, async () => {
      await post("/me/password", { current_password: pwForm.elements.current_password.value, new_password: pwForm.elements.new_password.value });
      // a password change revokes every token: sign in again
      app.state.me = null;
      location.assign("/login?done=reset");
    });
  });

  let prefsSection = null;
  if (prefs) {
    const out = h("div", { class: "form-out" });
    const form = h("form", { id: "email-preferences" },
      ["order_updates", "report_deliveries", "marketing"].map((k) => checkbox(t(`prefs.${k}`), { name: k, checked: Boolean(prefs[k]) })),
      out, h("button", { type: "submit", class: "primary" }, t("common.save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(event.submitter, out, async () => {
        const v = formValues(form);
        await put("/me/email-preferences", v);
        clear(out, notice("ok", t("common.saved")));
      });
    });
    prefsSection = section(t("prefs.title"), form);
  }

  let cardsSection = null;
  if (cards) {
    const out = h("div", { class: "form-out" });
    const key = newKey();
    const form = h("form", { novalidate: true, autocomplete: "on" },
      field(t("cards.number"), { name: "number", inputmode: "numeric", autocomplete: "cc-number", required: true }),
      h("div", { class: "row" },
        field(t("cards.month"), { name: "exp_month", type: "number", min: 1, max: 12, autocomplete: "cc-exp-month", required: true }),
        field(t("cards.year"), { name: "exp_year", type: "number", min: 2024, max: 2100, autocomplete: "cc-exp-year", required: true }),
        field(t("cards.cvc"), { name: "cvc", inputmode: "numeric", autocomplete: "cc-csc", required: true })),
      field(t("cards.first"), { name: "holder_first_name", autocomplete: "cc-given-name", required: true }),
      field(t("cards.last"), { name: "holder_last_name", autocomplete: "cc-family-name", required: true }),
      field(t("cards.nickname"), { name: "nickname", required: true }),
      h("p", { class: "consent-text", id: "consent-text" }, t("cards.consent.text")),
      checkbox(t("cards.consent"), { name: "consent", "aria-describedby": "consent-text" }),
      out, h("button", { type: "submit", class: "primary" }, t("cards.add")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const v = formValues(form);
      if (!v.consent) { clear(out, notice("error", t("error.consent_required"))); return; }
      await busy(event.submitter, out, async () => {
        await post("/me/payment-cards", { ...v, exp_month: Number(v.exp_month), exp_year: Number(v.exp_year), consent: true },
          { headers: { "Idempotency-Key": key } });
        app.render();
      });
    });
    cardsSection = h("section", { id: "payment-cards", "aria-labelledby": "cards-h" }, h("h2", { id: "cards-h" }, t("cards.title")),
      table(t("cards.title"), [
        { label: t("cards.card"), cell: (c) => `${c.brand} •••• ${c.last4}` },
        { label: t("cards.expires"), cell: (c) => `${c.exp_month}/${c.exp_year}` },
        { label: t("cards.nickname"), cell: (c) => c.nickname || "" },
        { label: t("cards.consented"), cell: (c) => date(c.consent_at, true) },
        { label: t("carts.actions"), cell: (c) => h("button", { type: "button", class: "danger small", onclick: async (e) => {
          if (!confirm(t("cards.remove.confirm"))) return;
          await busy(e.target, out, async () => { await del(`/me/payment-cards/${c.id}`); app.render(); });
        } }, t("cards.remove")) },
      ], cards.items, { empty: t("cards.none") }),
      h("details", {}, h("summary", {}, t("cards.new")), form));
  }

  clear(main, pageTitle(t("account.title")),
    section(t("account.profile"), profileForm),
    section(t("account.password"), pwForm),
    prefsSection, cardsSection);
  if (focus) {
    const target = document.getElementById(focus);
    if (target) setTimeout(() => target.scrollIntoView(), 0);
  }
  void announce; void link;
}

export async function assets({ main, query, navigate, app }) {
  const origin = query.get("origin") || "";
  const reply = await get("/assets", { origin, limit: 200 });
  const out = h("div", { class: "form-out" });
  const form = h("form", { novalidate: true },
    field(t("assets.name"), { name: "name", required: true, maxlength: 300 }),
    field(t("col.manufacturer"), { name: "manufacturer" }),
    field(t("catalog.partnumber"), { name: "part_number" }),
    field(t("assets.serial"), { name: "serial_number" }),
    field(t("carts.quantity"), { name: "quantity", type: "number", min: 1, value: 1 }),
    field(t("assets.location"), { name: "location" }),
    field(t("assets.purchased"), { name: "purchased_on", type: "date" }),
    out, h("button", { type: "submit", class: "primary" }, t("assets.add")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = {};
    for (const [k, val] of Object.entries(v)) if (val) body[k] = k === "quantity" ? Number(val) : val;
    await busy(event.submitter, out, async () => { await post("/assets", body); app.render(); });
  });
  clear(main, pageTitle(t("assets.title")),
    h("div", { class: "filters" }, field(t("assets.origin"), { name: "origin", value: origin, onchange: (e) => navigate("/assets" + qs({ origin: e.target.value })) },
      { control: "select", options: [["", t("orders.all")], ["purchased", t("assets.origin.purchased")], ["manual", t("assets.origin.manual")]] }),
    h("p", {}, h("a", { href: "/api/v1/assets?format=csv", download: "assets.csv" }, t("reports.csv")), " · ", link("/licenses", t("licenses.title")))),
    table(t("assets.title"), [
      { label: t("assets.name"), cell: (a) => a.name },
      { label: t("col.manufacturer"), cell: (a) => a.manufacturer || "—" },
      { label: t("catalog.partnumber"), cell: (a) => a.part_number || "—" },
      { label: t("carts.quantity"), cell: (a) => String(a.quantity ?? ""), num: true },
      { label: t("assets.origin"), cell: (a) => t(`assets.origin.${a.origin}`) },
      { label: t("orders.number"), cell: (a) => (a.order_number ? link(`/orders/${encodeURIComponent(a.order_number)}`, a.order_number) : "—") },
      { label: t("assets.purchased"), cell: (a) => date(a.purchased_on) },
    ], reply.items, { empty: t("assets.none") }),
    section(t("assets.add"), h("details", {}, h("summary", {}, t("assets.add")), form)));
}

export async function licenses({ main }) {
  const reply = await get("/licenses", { limit: 200 });
  const cols = reply.items.length ? Object.keys(reply.items[0]) : [];
  clear(main, pageTitle(t("licenses.title")),
    h("p", {}, h("a", { href: "/api/v1/licenses?format=csv", download: "licenses.csv" }, t("reports.csv"))),
    table(t("licenses.title"), cols.map((c) => ({ label: t(`col.${c}`), cell: (r) => (r[c] === null || r[c] === undefined ? "—" : typeof r[c] === "object" ? JSON.stringify(r[c]) : String(r[c])) })),
      reply.items, { empty: t("licenses.none") }));
}
