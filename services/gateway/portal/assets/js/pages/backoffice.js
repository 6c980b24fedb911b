// Back office for the reseller's staff: companies, contracts, product import with per-line
// results, moving an order through fulfilment, quotes.
import {
  busy, clear, field, formValues, get, h, link, newKey, notice, pageTitle, post, section,
  splitList, t, table, api, money,
} from "../core.js";

const TABS = ["companies", "contracts", "import", "orders", "quotes"];

export async function render({ main, params }) {
  const tab = params[0] || "companies";
  const content = { companies, contracts, import: importProducts, orders, quotes }[tab]();
  clear(main, pageTitle(t("bo.title")),
    h("nav", { class: "tabs", "aria-label": t("bo.title") }, h("ul", {}, TABS.map((k) =>
      h("li", {}, h("a", { href: `/backoffice/${k}`, "aria-current": tab === k ? "page" : null }, t(`bo.${k}`)))))),
    content);
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

function companies() {
  const key = newKey();
  return h("div", {},
    section(t("bo.company.new"), simpleForm([
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
      return notice("ok", t("bo.company.created", { id: c.id, name: c.name }));
    })),
    section(t("bo.link"), simpleForm([
      field(t("bo.company_id"), { name: "company_id", inputmode: "numeric", required: true }),
      field(t("bo.account_number"), { name: "account_number", required: true }),
      field(t("admin.name"), { name: "name", required: true }),
    ], t("bo.link.create"), async (v) => {
      await post(`/backoffice/companies/${Number(v.company_id)}/links`, { account_number: v.account_number, name: v.name });
      return notice("ok", t("common.saved"));
    })));
}

function contracts() {
  return section(t("bo.contracts"), simpleForm([
    field(t("bo.company_id"), { name: "company_id", inputmode: "numeric", required: true }),
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
