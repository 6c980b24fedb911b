// Back office for the reseller's staff: companies (found by name or number, each with its
// users, contracts, employee purchase program and PunchOut configuration), contracts,
// product import with per-line results, moving an order through fulfilment, quotes.
import {
  ApiError, badge, busy, checkbox, clear, date, field, formValues, get, h, ids, link, newKey,
  notice, pageTitle, post, put, qs, section, splitList, t, table, api, money,
} from "../core.js";

const TABS = ["companies", "contracts", "import", "orders", "quotes"];

function tabs(current) {
  return h("nav", { class: "tabs", "aria-label": t("bo.title") }, h("ul", {}, TABS.map((k) =>
    h("li", {}, h("a", { href: `/backoffice/${k}`, "aria-current": current === k ? "page" : null }, t(`bo.${k}`))))));
}

export async function render({ main, params, query, navigate }) {
  const tab = params[0] || "companies";
  const content = await { companies, contracts, import: importProducts, orders, quotes }[tab]({ query, navigate });
  clear(main, pageTitle(t("bo.title")), tabs(tab), content);
}

function simpleForm(fields, submitLabel, work) {
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const form = h("form", { novalidate: true }, fields, out, h("button", { type: "submit", class: "primary" }, submitLabel));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, out, async () => clear(out, await work(formValues(form), form)));
  });
  return form;
}

async function companies({ query, navigate }) {
  const q = query.get("q") || "";
  const reply = await get("/backoffice/companies", { q, limit: 50, cursor: query.get("cursor") || "" });
  const search = h("form", { role: "search", class: "inline-form", "aria-label": t("bo.companies") },
    field(t("bo.companies.search"), { name: "q", type: "search", value: q }, { hint: t("bo.companies.search.hint") }),
    h("button", { type: "submit", class: "secondary" }, t("catalog.search.go")));
  search.addEventListener("submit", (e) => { e.preventDefault(); navigate("/backoffice/companies" + qs({ q: search.elements.q.value.trim() })); });
  const key = newKey();
  return h("div", {},
    search,
    table(t("bo.companies"), [
      { label: t("admin.name"), cell: (c) => link(`/backoffice/companies/${c.id}`, c.name) },
      { label: t("bo.customer_number"), cell: (c) => c.customer_number },
      { label: t("bo.currency"), cell: (c) => c.currency },
      { label: t("bo.users"), cell: (c) => String(c.user_count), num: true },
      { label: t("bo.created"), cell: (c) => date(c.created_at) },
    ], reply.items, { empty: t("bo.companies.none") }),
    reply.next_cursor ? h("p", {}, link("/backoffice/companies" + qs({ q, cursor: reply.next_cursor }), t("common.next"))) : null,
    section(t("bo.company.new"), h("details", {}, h("summary", {}, t("bo.company.new")), simpleForm([
      field(t("admin.name"), { name: "name", required: true }),
      field(t("bo.customer_number"), { name: "customer_number", required: true }),
      field(t("bo.currency"), { name: "currency", value: "CAD", maxlength: 3 }),
      h("fieldset", {}, h("legend", {}, t("bo.admin")),
        field(t("auth.username"), { name: "username", required: true, autocapitalize: "none" }),
        field(t("auth.email"), { name: "email", type: "email", required: true }),
        field(t("account.first"), { name: "first_name", required: true }),
        field(t("account.last"), { name: "last_name", required: true }),
        field(t("account.locale"), { name: "locale" }, { control: "select", options: [["en", "English"], ["fr", "Français"]] })),
    ], t("bo.company.create"), async (v) => {
      const c = await post("/backoffice/companies", { name: v.name, customer_number: v.customer_number, currency: v.currency.toUpperCase(),
        admin: { username: v.username, email: v.email, first_name: v.first_name, last_name: v.last_name, locale: v.locale } },
      { headers: { "Idempotency-Key": key } });
      navigate(`/backoffice/companies/${c.id}?created=1`);
      return null;
    }))));
}

/** One company: its facts, users, contracts, employee purchase program and PunchOut. */
export async function company({ main, params, query, app }) {
  const id = Number(params[0]);
  const [c, users, contractList, epp, punchout] = await Promise.all([
    get(`/backoffice/companies/${id}`),
    get(`/backoffice/companies/${id}/users`, { limit: 200 }),
    get(`/backoffice/companies/${id}/contracts`, { limit: 200 }),
    get(`/backoffice/companies/${id}/epp`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
    get(`/backoffice/companies/${id}/punchout`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
  ]);
  const address = (a) => [a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country].filter(Boolean).join(", ");
  clear(main,
    h("p", {}, link("/backoffice/companies", t("bo.companies.all"))),
    pageTitle(c.name),
    query.get("created") ? notice("ok", t("bo.company.created", { id: c.id, name: c.name })) : null,
    h("dl", { class: "facts" },
      h("dt", {}, t("bo.customer_number")), h("dd", {}, c.customer_number),
      h("dt", {}, t("bo.currency")), h("dd", {}, c.currency),
      h("dt", {}, t("bo.billing_accounts")), h("dd", {}, (c.billing_accounts || []).map((b) => `${b.account_number} — ${b.name}`).join("; ") || "—"),
      h("dt", {}, t("bo.addresses")), h("dd", {}, (c.addresses || []).map(address).join("; ") || "—")),
    section(t("bo.users"), table(t("bo.users"), [
      { label: t("auth.username"), cell: (u) => u.username },
      { label: t("admin.name"), cell: (u) => `${u.first_name || ""} ${u.last_name || ""}`.trim() },
      { label: t("auth.email"), cell: (u) => u.email || "" },
      { label: t("orders.status"), cell: (u) => badge(t(`user.${u.status}`), u.status === "active" ? "ok" : "cancelled") },
      { label: t("admin.groups"), cell: (u) => (u.groups || []).map((g) => g.name || g.key).join(", ") },
    ], users.items)),
    section(t("bo.contracts"), table(t("bo.contracts"), [
      { label: t("admin.name"), cell: (k) => k.name },
      { label: t("bo.starts"), cell: (k) => date(k.starts_on) },
      { label: t("bo.ends"), cell: (k) => date(k.ends_on) },
      { label: t("orders.status"), cell: (k) => badge(t(`contract.${k.status}`), k.status === "active" ? "ok" : k.status === "expired" ? "cancelled" : "warn") },
      { label: t("catalog.tiers"), cell: (k) => (k.tiers || []).map((x) => `${x.name} (${x.min_quantity})`).join(", ") || "—" },
      { label: t("bo.price_count"), cell: (k) => String(k.price_count ?? ""), num: true },
    ], contractList.items, { empty: t("bo.contracts.none") }),
    h("p", {}, link(`/backoffice/contracts?company_id=${id}`, t("bo.contract.new")))),
    section(t("bo.epp"), eppForm(id, epp)),
    section(t("bo.punchout"), h("p", {}, punchout
      ? [badge(t(punchout.enabled ? "bo.punchout.on" : "bo.punchout.off"), punchout.enabled ? "ok" : "warn"), " "]
      : [t("bo.punchout.none"), " "],
    link(`/backoffice/companies/${id}/punchout`, t(punchout ? "bo.punchout.edit" : "bo.punchout.set")))),
    section(t("bo.link"), simpleForm([
      field(t("bo.account_number"), { name: "account_number", required: true }),
      field(t("admin.name"), { name: "name", required: true }),
    ], t("bo.link.create"), async (v) => {
      await post(`/backoffice/companies/${id}/links`, { account_number: v.account_number, name: v.name });
      await app.render();
      return notice("ok", t("common.saved"));
    })));
}

function eppForm(companyId, epp) {
  const p = epp || { name: "", description: "", active: true, starts_on: null, ends_on: null, all_users: false, user_ids: [] };
  return h("div", {},
    epp ? h("p", {}, badge(t(p.active ? "bo.epp.active" : "bo.epp.inactive"), p.active ? "ok" : "warn"), " ",
      p.all_users ? t("bo.epp.everyone") : t("bo.epp.members", { n: (p.user_ids || []).length }))
      : h("p", { class: "empty" }, t("bo.epp.none")),
    simpleForm([
      field(t("admin.name"), { name: "name", value: p.name, required: true, maxlength: 200 }),
      field(t("catalog.description"), { name: "description", value: p.description || "", rows: 2 }, { control: "textarea" }),
      checkbox(t("bo.epp.active"), { name: "active", checked: p.active }),
      h("div", { class: "row" },
        field(t("bo.starts"), { name: "starts_on", type: "date", value: p.starts_on || "" }),
        field(t("bo.ends"), { name: "ends_on", type: "date", value: p.ends_on || "" })),
      checkbox(t("bo.epp.everyone"), { name: "all_users", checked: p.all_users }),
      field(t("bo.epp.user_ids"), { name: "user_ids", value: (p.user_ids || []).join(", ") }, { hint: t("bo.epp.user_ids.hint") }),
    ], t("bo.epp.save"), async (v) => {
      const saved = await put(`/backoffice/companies/${companyId}/epp`, {
        name: v.name, description: v.description, active: v.active, starts_on: v.starts_on || null,
        ends_on: v.ends_on || null, all_users: v.all_users, user_ids: ids(v.user_ids) });
      return notice("ok", t("bo.epp.saved", { name: saved.name }));
    }));
}

/** A company's PunchOut configuration: the buyer system's identities and shared secret,
 * whom sessions act as, OCI, and where order status updates go. */
export async function punchout({ main, params }) {
  const id = Number(params[0]);
  const [c, users, cfg] = await Promise.all([
    get(`/backoffice/companies/${id}`),
    get(`/backoffice/companies/${id}/users`, { limit: 200 }),
    get(`/backoffice/companies/${id}/punchout`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
  ]);
  const x = cfg || { enabled: true, from_credentials: [], sender: { domain: "NetworkID", identity: "" }, user_mapping: "fixed",
    user_id: null, oci_allowed: false, oci_username: null, order_status_url: null, supplier_credentials: [] };
  const lines = (list) => (list || []).map((k) => `${k.domain} ${k.identity}`).join("\n");
  const parse = (text) => text.split(/\n/).map((l) => l.trim()).filter(Boolean).map((l) => {
    const [domain, ...rest] = l.split(/\s+/);
    return { domain, identity: rest.join(" ") };
  });
  const urls = h("div", {});
  const showUrls = (saved) => clear(urls, saved ? h("dl", { class: "facts" },
    h("dt", {}, t("bo.punchout.setup_url")), h("dd", {}, h("code", {}, saved.setup_url)),
    h("dt", {}, t("bo.punchout.order_url")), h("dd", {}, h("code", {}, saved.order_url)),
    h("dt", {}, t("bo.punchout.oci_url")), h("dd", {}, h("code", {}, saved.oci_url))) : null);
  showUrls(cfg);
  const form = simpleForm([
    checkbox(t("bo.punchout.enabled"), { name: "enabled", checked: x.enabled }),
    field(t("bo.punchout.from"), { name: "from_credentials", value: lines(x.from_credentials), rows: 3, required: true, spellcheck: "false" },
      { control: "textarea", hint: t("bo.punchout.credentials.hint") }),
    h("fieldset", {}, h("legend", {}, t("bo.punchout.sender")),
      h("div", { class: "row" },
        field(t("bo.punchout.domain"), { name: "sender_domain", value: x.sender.domain, required: true }),
        field(t("bo.punchout.identity"), { name: "sender_identity", value: x.sender.identity, required: true })),
      field(t("bo.punchout.secret"), { name: "shared_secret", type: "password", autocomplete: "new-password", minlength: 12 },
        { hint: cfg && cfg.shared_secret_set ? t("bo.punchout.secret.kept") : t("bo.punchout.secret.hint") })),
    field(t("bo.punchout.mapping"), { name: "user_mapping", value: x.user_mapping },
      { control: "select", options: [["fixed", t("bo.punchout.mapping.fixed")], ["user_email", t("bo.punchout.mapping.user_email")]] }),
    field(t("bo.punchout.user"), { name: "user_id", value: x.user_id ? String(x.user_id) : "" },
      { control: "select", options: [["", "—"], ...users.items.map((u) => [String(u.id), `${u.username} (${u.email || ""})`])] }),
    h("fieldset", {}, h("legend", {}, "OCI"),
      checkbox(t("bo.punchout.oci"), { name: "oci_allowed", checked: x.oci_allowed }),
      h("div", { class: "row" },
        field(t("auth.username"), { name: "oci_username", value: x.oci_username || "", autocomplete: "off" }),
        field(t("auth.password"), { name: "oci_password", type: "password", autocomplete: "new-password" },
          { hint: cfg && cfg.oci_password_set ? t("bo.punchout.secret.kept") : null }))),
    field(t("bo.punchout.status_url"), { name: "order_status_url", type: "url", value: x.order_status_url || "" }, { hint: t("bo.punchout.status_url.hint") }),
  ], t("common.save"), async (v) => {
    const body = { enabled: v.enabled, from_credentials: parse(v.from_credentials),
      sender: { domain: v.sender_domain, identity: v.sender_identity }, user_mapping: v.user_mapping,
      user_id: v.user_id ? Number(v.user_id) : null, oci_allowed: v.oci_allowed,
      oci_username: v.oci_username || null, order_status_url: v.order_status_url || null };
    if (v.shared_secret) body.shared_secret = v.shared_secret;
    if (v.oci_password) body.oci_password = v.oci_password;
    const saved = await put(`/backoffice/companies/${id}/punchout`, body);
    showUrls(saved);
    return notice("ok", t("common.saved"));
  });
  clear(main, h("p", {}, link(`/backoffice/companies/${id}`, c.name)),
    pageTitle(t("bo.punchout.title", { name: c.name })), form, urls);
}

function contracts({ query }) {
  return section(t("bo.contracts"), simpleForm([
    field(t("bo.company_id"), { name: "company_id", inputmode: "numeric", required: true, value: query.get("company_id") || "" }),
    field(t("admin.name"), { name: "name", required: true }),
    field(t("bo.starts"), { name: "starts_on", type: "date", required: true }),
    field(t("bo.ends"), { name: "ends_on", type: "date", required: true }),
    field(t("catalog.tiers"), { name: "tiers" }, { hint: t("bo.tiers.hint") }),
    field(t("bo.prices"), { name: "prices", rows: 6 }, { control: "textarea", hint: t("bo.prices.hint") }),
  ], t("bo.contract.create"), async (v) => {
    const currency = "CAD";
    const prices = v.prices.split(/\n/).map((l) => l.trim().split(/[\s,;]+/)).filter((p) => p[0] && p[1])
      .map((p) => ({ part_number: p[0], price: { amount: p[1], currency: p[2] && p[2].length === 3 ? p[2] : currency }, ...(p[3] ? { tier: p[3] } : {}) }));
    const c = await post(`/backoffice/companies/${Number(v.company_id)}/contracts`, { name: v.name, starts_on: v.starts_on, ends_on: v.ends_on,
      tiers: splitList(v.tiers).map((name) => ({ name })), prices });
    return notice("ok", t("bo.contract.created", { id: c.id }));
  }));
}

function importProducts() {
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field(t("bo.import.file"), { name: "file", type: "file", accept: ".csv,text/csv", required: true }, { hint: t("bo.import.hint") }),
    out, h("button", { type: "submit", class: "primary" }, t("bo.import.go")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) { clear(out, notice("error", t("auth.fill"))); return; }
    await busy(event.submitter, out, async () => {
      const data = new FormData();
      data.append("file", file);
      const r = await api("POST", "/backoffice/products/import", data);
      clear(out, notice(r.rejected && r.rejected.length ? "info" : "ok", t("bo.import.done", { imported: r.imported, updated: r.updated, rejected: (r.rejected || []).length })),
        table(t("bo.import.rejected"), [
          { label: t("bo.line"), cell: (x) => String(x.line), num: true },
          { label: t("bo.reason"), cell: (x) => x.reason },
        ], r.rejected || [], { empty: t("bo.import.allgood") }));
    });
  });
  return section(t("bo.import"), form);
}

// orders that still need the reseller: accepted, prepared, shipped, delivered, invoiced
const TO_FULFIL = ["approved", "submitted", "processing", "shipped", "delivered"];

function orders() {
  const box = h("div", {});
  const waiting = h("div", { "aria-live": "polite" }, h("p", { class: "loading" }, "…"));
  const form = simpleForm([field(t("orders.number"), { name: "number", required: true })], t("bo.orders.open"), async (v) => {
    await showOrder(box, v.number.trim());
    return null;
  });
  listToFulfil(waiting, box);
  return section(t("bo.orders"), h("h3", {}, t("bo.orders.waiting")), waiting,
    h("p", {}, t("bo.orders.text")), form, box);
}

async function listToFulfil(target, box) {
  const pages = await Promise.all(TO_FULFIL.map((status) =>
    get(`/backoffice/orders?status=${status}&limit=50`).catch(() => ({ items: [] }))));
  const rows = pages.flatMap((p) => p.items).sort((a, b) => (a.placed_at < b.placed_at ? 1 : -1));
  clear(target, table(t("bo.orders.waiting"), [
    { label: t("orders.number"), cell: (o) => h("button", { type: "button",
      onclick: () => showOrder(box, o.number) }, o.number) },
    { label: t("bo.company_id"), cell: (o) => String(o.company_id) },
    { label: t("orders.buyer"), cell: (o) => (o.buyer && (o.buyer.name || o.buyer.email)) || "" },
    { label: t("orders.status"), cell: (o) => t(`status.${o.status}`) },
    { label: t("orders.total"), num: true, cell: (o) => money(o.totals && o.totals.total) },
  ], rows, { empty: t("bo.orders.none") }));
}

async function showOrder(box, number) {
  const o = await get(`/orders/${encodeURIComponent(number)}`).catch(() => null);
  const path = (action) => `/backoffice/orders/${encodeURIComponent(number)}/${action}`;
  const act = (action, fields, body) => simpleForm(fields, t(`bo.orders.${action}`), async (v) => {
    await post(path(action), body(v));
    await showOrder(box, number);
    return notice("ok", t("common.saved"));
  });
  clear(box,
    o ? h("p", {}, link(`/orders/${encodeURIComponent(number)}`, number), " — ", t(`status.${o.status}`), " — ", money(o.totals && o.totals.total)) : h("p", {}, number),
    h("div", { class: "bo-actions" },
      act("accept", [], () => ({})),
      act("process", [], () => ({})),
      act("ship", [field(t("bo.carrier"), { name: "carrier", required: true }), field(t("bo.tracking"), { name: "tracking_number", required: true })],
        (v) => ({ carrier: v.carrier, tracking_number: v.tracking_number })),
      act("deliver", [field(t("orders.deliverynote"), { name: "delivery_note", required: true })], (v) => ({ delivery_note: v.delivery_note })),
      act("invoice", [], () => ({}))));
}

function quotes() {
  return section(t("quotes.title"), simpleForm([
    field(t("bo.company_id"), { name: "company_id", inputmode: "numeric", required: true }),
    field(t("quotes.expires"), { name: "expires_on", type: "date", required: true }),
    field(t("bo.quote.buyer"), { name: "buyer_user_id", inputmode: "numeric" }),
    field(t("bo.prices"), { name: "lines", rows: 5 }, { control: "textarea", hint: t("bo.quote.lines.hint") }),
  ], t("bo.quote.create"), async (v) => {
    const lines = v.lines.split(/\n/).map((l) => l.trim().split(/[\s,;]+/)).filter((p) => p[0] && p[2])
      .map((p) => ({ part_number: p[0], quantity: Number(p[1]), unit_price: { amount: p[2], currency: p[3] || "CAD" } }));
    const body = { company_id: Number(v.company_id), expires_on: v.expires_on, lines };
    if (v.buyer_user_id) body.buyer_user_id = Number(v.buyer_user_id);
    const q = await post("/backoffice/quotes", body);
    return notice("ok", t("bo.quote.created", { id: q.id }));
  }));
}
