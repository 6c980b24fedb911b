// Orders: the list with filters, one order (timeline, shipments, delivery note, invoice copy,
// cancel), invoices, quotes and subscriptions.
import {
  ApiError, api, announce, badge, busy, clear, date, errorText, field, get, h, link, money, notice,
  pageTitle, post, qs, section, statusLabel, t, table,
} from "../core.js";

const STATUSES = ["pending_approval", "approved", "submitted", "processing", "shipped", "delivered",
  "invoiced", "rejected", "cancelled"];
const FLOW = ["pending_approval", "approved", "submitted", "processing", "shipped", "delivered", "invoiced"];

export async function list({ main, query, navigate }) {
  const filters = Object.fromEntries(["status", "from", "to", "q"].map((k) => [k, query.get(k) || ""]));
  const { status } = filters;
  const reply = await get("/orders", { ...filters, limit: 50, cursor: query.get("cursor") || "" });
  const form = h("form", { class: "filters", "aria-label": t("orders.filters") },
    field(t("orders.status"), { name: "status", value: status },
      { control: "select", options: [["", t("orders.all")], ...STATUSES.map((s) => [s, statusLabel(s)])] }),
    field(t("reports.from"), { name: "from", type: "date", value: filters.from }),
    field(t("reports.to"), { name: "to", type: "date", value: filters.to }),
    field(t("orders.q"), { name: "q", type: "search", value: filters.q, maxlength: 100 }, { hint: t("orders.q.hint") }),
    h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "primary" }, t("reports.apply"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate("/orders" + qs(Object.fromEntries(["status", "from", "to", "q"].map((k) => [k, form.elements[k].value.trim()]))));
  });
  clear(main, pageTitle(t("orders.title")),
    form,
    table(t("orders.title"), [
      { label: t("orders.number"), cell: (o) => link(`/orders/${encodeURIComponent(o.number)}`, o.number) },
      { label: t("orders.placed"), cell: (o) => date(o.placed_at, true) },
      { label: t("orders.status"), cell: (o) => badge(statusLabel(o.status), o.status) },
      { label: t("orders.total"), cell: (o) => money(o.totals && o.totals.total), num: true },
    ], reply.items, { empty: t("orders.none") }),
    reply.next_cursor ? h("p", {}, link("/orders" + qs({ ...filters, cursor: reply.next_cursor }), t("common.next"))) : null,
    h("p", {}, link("/invoices", t("invoices.title")), " · ", link("/subscriptions", t("subscriptions.title"))));
}

function timeline(order) {
  const reached = new Map((order.status_history || []).map((s) => [s.status, s]));
  const off = ["rejected", "cancelled"].includes(order.status);
  const steps = off ? [...(order.status_history || []).map((s) => s.status)] : FLOW;
  return h("ol", { class: "timeline", "aria-label": t("orders.timeline") }, [...new Set(steps)].map((s) => {
    const entry = reached.get(s);
    const current = order.status === s;
    return h("li", { class: `${entry ? "done" : "todo"}${current ? " current" : ""}`, "aria-current": current ? "step" : null },
      h("span", { class: "step-name" }, statusLabel(s)),
      entry ? h("span", { class: "muted" }, " ", date(entry.at, true)) : h("span", { class: "sr-only" }, ` (${t("orders.notyet")})`),
      entry && entry.by ? h("span", { class: "muted" }, ` — ${entry.by.name || entry.by.email || ""}`) : null,
      entry && entry.note ? h("div", { class: "note" }, entry.note) : null);
  }));
}

export async function order({ main, params, query, app }) {
  const number = params[0];
  const o = await get(`/orders/${encodeURIComponent(number)}`);
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const actions = [];
  if (["pending_approval", "approved", "submitted", "processing"].includes(o.status)) {
    const cancel = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(t("orders.cancel.confirm", { number }))) return;
      await busy(cancel, out, async () => {
        await post(`/orders/${encodeURIComponent(number)}/cancel`, {});
        announce(t("orders.cancelled"));
        app.render();
      });
    } }, t("orders.cancel"));
    actions.push(cancel);
  }
  if (["invoiced"].includes(o.status) || o.invoice) {
    const copy = h("button", { type: "button", class: "secondary", onclick: async () => {
      await busy(copy, out, async () => {
        await post(`/orders/${encodeURIComponent(number)}/invoice-copy`, {});
        clear(out, notice("ok", t("orders.invoicecopy.sent")));
      });
    } }, t("orders.invoicecopy"));
    actions.push(copy);
  }
  const noteBox = h("div", {});
  if (["delivered", "invoiced"].includes(o.status)) {
    const show = h("button", { type: "button", class: "secondary", onclick: async () => {
      await busy(show, out, async () => clear(noteBox, deliveryNote(await get(`/orders/${encodeURIComponent(number)}/delivery-note`))));
    } }, t("orders.deliverynote"));
    actions.push(show);
  }
  const addr = o.shipping_address || {};
  clear(main,
    h("p", {}, link("/orders", t("orders.all.link"))),
    pageTitle(t("orders.order", { number: o.number }), badge(statusLabel(o.status), o.status)),
    query.get("placed") ? notice("ok", o.status === "pending_approval" ? t("orders.placed.pending") : t("orders.placed.ok")) : null,
    h("div", { class: "actions" }, actions), out, noteBox,
    section(t("orders.timeline"), timeline(o),
      o.approval_id ? h("p", {}, link(`/approvals/${o.approval_id}`, t("orders.approval.trail"))) : null),
    section(t("orders.lines"), table(t("orders.lines"), [
      { label: t("carts.product"), cell: (l) => h("span", {}, l.name, h("div", { class: "muted" }, `${l.part_number} · ${l.manufacturer || ""}`)) },
      { label: t("carts.quantity"), cell: (l) => String(l.quantity), num: true },
      { label: t("orders.shipped.qty"), cell: (l) => String(l.shipped_quantity ?? "—"), num: true },
      { label: t("carts.unitprice"), cell: (l) => money(l.unit_price), num: true },
      { label: t("orders.linetotal"), cell: (l) => money(l.line_total), num: true },
    ], o.lines || []),
    h("p", { class: "total" }, t("carts.total"), " ", h("strong", {}, money(o.totals && o.totals.total)))),
    section(t("orders.shipments"), (o.shipments || []).length ? h("ul", { class: "plain" }, o.shipments.map((s) => h("li", { class: "shipment" },
      h("strong", {}, `${s.carrier} ${s.tracking_number}`), " ",
      s.tracking_url && /^https?:\/\//.test(s.tracking_url) ? h("a", { href: s.tracking_url, target: "_blank", rel: "noopener noreferrer" }, t("orders.track")) : null,
      h("div", { class: "muted" }, t("orders.shipped.on", { date: date(s.shipped_at, true) }),
        s.delivered_at ? " · " + t("orders.delivered.on", { date: date(s.delivered_at, true) }) : ""),
      (s.lines || []).length ? h("div", { class: "muted" }, s.lines.map((l) => `${l.quantity} × ${l.part_number}`).join(", ")) : null)))
      : h("p", { class: "empty" }, t("orders.shipments.none"))),
    section(t("orders.details"), h("dl", { class: "facts" },
      h("dt", {}, t("orders.placed")), h("dd", {}, date(o.placed_at, true)),
      h("dt", {}, t("orders.buyer")), h("dd", {}, o.buyer ? o.buyer.name || o.buyer.email || "" : "—"),
      h("dt", {}, t("checkout.shipping")), h("dd", {}, [addr.name, addr.line1, addr.line2, addr.city, addr.region, addr.postal_code, addr.country].filter(Boolean).join(", ")),
      h("dt", {}, t("checkout.payment")), h("dd", {}, o.payment ? t(`checkout.method.${o.payment.method}`) + (o.payment.po_number ? ` ${o.payment.po_number}` : "") : "—"),
      o.notes ? [h("dt", {}, t("checkout.notes")), h("dd", {}, o.notes)] : null)));
}

function deliveryNote(note) {
  const lines = (note.lines || []).map((l) => `${l.quantity}\t${l.part_number}\t${l.name || ""}`);
  const text = [`${t("orders.deliverynote")} — ${note.order_number}`, "",
    ...(note.deliveries || []).map((d) => Object.entries(d).map(([k, v]) => `${k}: ${v ?? ""}`).join("  ")), "", ...lines].join("\n");
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  return section(t("orders.deliverynote"),
    h("pre", { class: "note-text", tabindex: "0" }, text),
    h("p", {}, h("a", { href: url, download: `delivery-note-${note.order_number}.txt`, class: "button-link secondary" }, t("common.download"))));
}

export async function invoices({ main }) {
  const reply = await get("/invoices", { limit: 100 });
  clear(main, pageTitle(t("invoices.title")),
    h("p", {}, h("a", { href: "/api/v1/invoices?format=csv", download: "invoices.csv" }, t("reports.csv"))),
    table(t("invoices.title"), [
      { label: t("invoices.number"), cell: (i) => i.number },
      { label: t("orders.number"), cell: (i) => (i.order_number ? link(`/orders/${encodeURIComponent(i.order_number)}`, i.order_number) : "—") },
      { label: t("invoices.issued"), cell: (i) => date(i.issued_at) },
      { label: t("orders.total"), cell: (i) => money(i.total), num: true },
    ], reply.items, { empty: t("invoices.none") }));
}

export async function subscriptions({ main, app }) {
  let body;
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  try {
    const [reply, cards] = await Promise.all([get("/subscriptions", { limit: 200 }),
      get("/me/payment-cards").catch(() => ({ items: [] }))]);
    const cardName = (id) => {
      const c = cards.items.find((x) => x.id === id);
      return c ? `${c.brand} •••• ${c.last4}` : "—";
    };
    body = table(t("subscriptions.title"), [
      { label: t("carts.product"), cell: (s) => h("span", {}, s.name || s.part_number, h("div", { class: "muted" }, `${s.quantity} × ${s.part_number}`)) },
      { label: t("subscriptions.term"), cell: (s) => t(`subscriptions.term.${s.term}`) },
      { label: t("carts.unitprice"), cell: (s) => money(s.unit_price), num: true },
      { label: t("orders.status"), cell: (s) => [badge(t(`subscriptions.status.${s.status}`), s.status === "active" ? "ok" : "cancelled"),
        s.card_problem ? badge(t(`subscriptions.problem.${s.card_problem}`), "warn") : null] },
      { label: t("subscriptions.next"), cell: (s) => date(s.next_renewal_on) },
      { label: t("checkout.card"), cell: (s) => {
        if (s.status !== "active" || !cards.items.length) return cardName(s.card_id);
        const sel = h("select", { "aria-label": t("subscriptions.card.for", { name: s.name || s.part_number }) },
          cards.items.map((c) => h("option", { value: c.id, selected: c.id === s.card_id || null }, cardName(c.id))));
        const save = h("button", { type: "button", class: "secondary small", onclick: async () => {
          await busy(save, out, async () => {
            await api("PATCH", `/subscriptions/${s.id}`, { card_id: Number(sel.value) });
            clear(out, notice("ok", t("common.saved")));
          });
        } }, t("common.save"));
        return h("div", { class: "inline" }, sel, save);
      } },
    ], reply.items || [], { empty: t("subscriptions.none") });
  } catch (err) {
    body = notice("info", err instanceof ApiError && err.status === 404 ? t("subscriptions.unavailable") : errorText(err));
  }
  const quotes = await get("/quotes").catch(() => null);
  clear(main, pageTitle(t("subscriptions.title")), out, body,
    quotes ? section(t("quotes.title"), table(t("quotes.title"), [
      { label: t("quotes.id"), cell: (q) => String(q.id) },
      { label: t("quotes.expires"), cell: (q) => date(q.expires_on) },
      { label: t("orders.status"), cell: (q) => q.status || "" },
      { label: t("orders.total"), cell: (q) => money(q.total || (q.totals && q.totals.total)), num: true },
      { label: t("quotes.order"), cell: (q) => (q.status === "open"
        ? link(`/quotes/${q.id}/order`, t("quotes.order"))
        : q.order_number ? link(`/orders/${encodeURIComponent(q.order_number)}`, q.order_number) : "") },
    ], quotes.items || [], { empty: t("quotes.none") })) : null);
  void app;
}
