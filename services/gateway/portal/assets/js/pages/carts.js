// Carts (several, named), one cart with quantities and moves, QuickCart, and checkout.
import {
  announce, badge, busy, checkbox, clear, del, errorText, field, formValues, get, h, link,
  money, newKey, notice, pageTitle, patch, post, section, t, table, localized,
} from "../core.js";

const CURRENT = "procura.cart";

/** The cart that "Add to cart" fills: the one last used, else the first, else a new one. */
export async function currentCart() {
  const carts = (await get("/carts")).items;
  const stored = Number(localStorage.getItem(CURRENT));
  let cart = carts.find((c) => c.id === stored) || carts[0];
  if (!cart) cart = await post("/carts", { name: t("carts.default") });
  localStorage.setItem(CURRENT, String(cart.id));
  return cart;
}

export async function addToCart(partNumber, quantity) {
  const cart = await currentCart();
  await post(`/carts/${cart.id}/items`, { part_number: partNumber, quantity });
  return cart;
}

export async function list({ main, navigate }) {
  const carts = (await get("/carts")).items;
  const current = Number(localStorage.getItem(CURRENT));
  const out = h("div", { class: "form-out" });
  const button = h("button", { type: "submit", class: "primary" }, t("carts.create"));
  const form = h("form", { class: "inline-form" },
    field(t("carts.name"), { name: "name", required: true, maxlength: 120 }), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) return;
    await busy(button, out, async () => {
      const cart = await post("/carts", { name });
      localStorage.setItem(CURRENT, String(cart.id));
      navigate(`/carts/${cart.id}`);
    });
  });
  clear(main, pageTitle(t("carts.title")),
    table(t("carts.title"), [
      { label: t("carts.name"), cell: (c) => link(`/carts/${c.id}`, c.name) },
      { label: t("carts.lines"), cell: (c) => String(c.line_count ?? ""), num: true },
      { label: t("carts.current"), cell: (c) => (c.id === current ? badge(t("carts.current.yes"), "ok") : "") },
    ], carts, { empty: t("carts.none") }),
    section(t("carts.new"), form, out));
}

export async function cart({ main, params, navigate, app }) {
  const id = Number(params[0]);
  const [c, all] = await Promise.all([get(`/carts/${id}`), get("/carts")]);
  localStorage.setItem(CURRENT, String(id));
  const others = all.items.filter((o) => o.id !== id);
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const reload = () => app.render();

  const rename = h("form", { class: "inline-form" },
    field(t("carts.name"), { name: "name", value: c.name, required: true, maxlength: 120 }),
    h("button", { type: "submit", class: "secondary" }, t("carts.rename")));
  rename.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(rename.querySelector("button"), out, async () => {
      await patch(`/carts/${id}`, { name: rename.elements.name.value.trim() });
      announce(t("carts.renamed"));
      reload();
    });
  });

  const lineRow = (line) => {
    const qtyId = `q-${line.id}`;
    const qty = h("input", { id: qtyId, type: "number", min: 1, max: 10000, value: line.quantity, class: "qty", inputmode: "numeric" });
    const save = h("button", { type: "button", class: "secondary small", onclick: async () => {
      await busy(save, out, async () => {
        await patch(`/carts/${id}/items/${line.id}`, { quantity: Number(qty.value) });
        announce(t("carts.updated"));
        reload();
      });
    } }, t("carts.update"));
    const remove = h("button", { type: "button", class: "danger small", onclick: async () => {
      await busy(remove, out, async () => { await del(`/carts/${id}/items/${line.id}`); announce(t("carts.removed")); reload(); });
    } }, t("carts.remove"), h("span", { class: "sr-only" }, ` ${line.part_number}`));
    let move = null;
    if (others.length) {
      const sel = h("select", { id: `m-${line.id}`, "aria-label": t("carts.move.to", { pn: line.part_number }) },
        others.map((o) => h("option", { value: o.id }, o.name)));
      const go = h("button", { type: "button", class: "secondary small", onclick: async () => {
        await busy(go, out, async () => {
          await post(`/carts/${sel.value}/items`, { part_number: line.part_number, quantity: line.quantity });
          await del(`/carts/${id}/items/${line.id}`);
          announce(t("carts.moved"));
          reload();
        });
      } }, t("carts.move"));
      move = h("div", { class: "inline" }, sel, go);
    }
    return h("tr", {},
      h("th", { scope: "row" }, link(`/products/${encodeURIComponent(line.part_number)}`, line.name || line.part_number),
        h("div", { class: "muted" }, line.part_number),
        line.price_changed ? badge(t("carts.pricechanged"), "warn") : null,
        line.status && line.status !== "ok" ? badge(t(`carts.status.${line.status}`), "warn") : null),
      h("td", { class: "num" }, money(line.unit_price)),
      h("td", {}, h("label", { for: qtyId, class: "sr-only" }, t("carts.quantity.of", { pn: line.part_number })),
        h("div", { class: "inline" }, qty, save)),
      h("td", {}, h("div", { class: "inline" }, remove), move));
  };

  const deleteCart = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!confirm(t("carts.delete.confirm", { name: c.name }))) return;
    await busy(deleteCart, out, async () => {
      await del(`/carts/${id}`);
      localStorage.removeItem(CURRENT);
      navigate("/carts");
    });
  } }, t("carts.delete"));

  clear(main,
    h("p", {}, link("/carts", t("carts.all"))),
    pageTitle(c.name),
    rename, out,
    c.lines.length ? h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("carts.lines") },
      h("table", {}, h("caption", { class: "sr-only" }, t("carts.lines")),
        h("thead", {}, h("tr", {}, [t("carts.product"), t("carts.unitprice"), t("carts.quantity"), t("carts.actions")]
          .map((x, i) => h("th", { scope: "col", class: i === 1 ? "num" : null }, x)))),
        h("tbody", {}, c.lines.map(lineRow))))
      : h("p", { class: "empty" }, t("carts.empty"), " ", link("/search", t("nav.catalog")), " · ", link("/quickcart", t("nav.quickcart"))),
    h("p", { class: "total" }, t("carts.total"), " ", h("strong", {}, money(c.totals && c.totals.total))),
    h("div", { class: "actions" },
      c.lines.length ? h("a", { href: `/checkout/${id}`, class: "button-link primary" }, t("carts.checkout")) : null,
      deleteCart));
}

export async function quickCart({ main, query, navigate }) {
  const carts = (await get("/carts")).items;
  const current = Number(localStorage.getItem(CURRENT));
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary" }, t("quick.add"));
  const form = h("form", { novalidate: true },
    field(t("quick.lines"), { name: "lines", rows: 8, value: query.get("lines") || "", required: true, spellcheck: "false" },
      { control: "textarea", hint: t("quick.hint") }),
    field(t("quick.cart"), { name: "cart", value: String(current || "") },
      { control: "select", options: [...carts.map((c) => [String(c.id), c.name]), ["new", t("quick.newcart")]] }),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const lines = parseLines(form.elements.lines.value);
    if (!lines.length) { clear(out, notice("error", t("quick.empty"))); return; }
    await busy(button, out, async () => {
      let cartId = form.elements.cart.value;
      if (!cartId || cartId === "new") cartId = (await post("/carts", { name: t("carts.default") })).id;
      localStorage.setItem(CURRENT, String(cartId));
      const reply = await post(`/carts/${cartId}/quick-add`, { lines });
      const added = reply.lines.filter((l) => l.status === "added").length;
      clear(out,
        notice(added === reply.lines.length ? "ok" : "info", t("quick.result", { added, total: reply.lines.length })),
        table(t("quick.results"), [
          { label: t("catalog.partnumber"), cell: (l) => l.part_number },
          { label: t("carts.quantity"), cell: (l) => String(l.quantity), num: true },
          { label: t("quick.status"), cell: (l) => badge(t(`quick.status.${l.status}`), l.status === "added" ? "ok" : "warn") },
        ], reply.lines),
        h("p", {}, h("a", { href: `/carts/${cartId}`, class: "button-link primary" }, t("catalog.seecart"))));
      out.querySelector(".notice").focus?.();
    });
  });
  clear(main, pageTitle(t("quick.title")), h("p", {}, t("quick.text")), form, out);
}

/** "PN qty" per line (space, tab, comma or semicolon between); a missing quantity is 1. */
export function parseLines(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
    const parts = line.split(/[\s,;]+/).filter(Boolean);
    const quantityText = parts.length > 1 ? parts[parts.length - 1] : "1";
    const quantity = /^\d+$/.test(quantityText) ? Number(quantityText) : quantityText;
    return { part_number: parts[0], quantity };
  });
}

/** Order an open quote at its prices: the checkout form, posted to the quote. */
export function orderQuote(ctx) {
  return checkout(ctx, Number(ctx.params[0]));
}

export async function checkout({ main, params, navigate }, quoteId = null) {
  const cartId = quoteId ? null : Number(params[0]);
  const [c, company, cards] = await Promise.all([
    get(quoteId ? `/quotes/${quoteId}` : `/carts/${cartId}`), get("/company"),
    get("/me/payment-cards").catch(() => ({ items: [] })),
  ]);
  const out = h("div", { class: "form-out" });
  const previewBox = h("div", { class: "preview", "aria-live": "polite" }, h("p", { class: "loading" }, t("common.loading")));
  const shipping = (company.addresses || []).filter((a) => a.kind === "shipping");
  const addressText = (a) => [a.name, a.line1, a.line2, `${a.city} ${a.region || ""} ${a.postal_code}`, a.country].filter(Boolean).join(", ");

  const typed = h("fieldset", { class: "typed-address", hidden: shipping.length > 0 },
    h("legend", {}, t("checkout.address.typed")),
    field(t("address.name"), { name: "a_name", autocomplete: "shipping organization" }),
    field(t("address.line1"), { name: "a_line1", autocomplete: "shipping address-line1" }),
    field(t("address.line2"), { name: "a_line2", autocomplete: "shipping address-line2" }),
    field(t("address.city"), { name: "a_city", autocomplete: "shipping address-level2" }),
    field(t("address.region"), { name: "a_region", autocomplete: "shipping address-level1" }),
    field(t("address.postal"), { name: "a_postal", autocomplete: "shipping postal-code" }),
    field(t("address.country"), { name: "a_country", value: "CA", maxlength: 2, autocomplete: "shipping country" }, { hint: t("address.country.hint") }));
  const addressSelect = field(t("checkout.address"), {
    name: "address", onchange: (e) => { typed.hidden = e.target.value !== "typed"; },
  }, { control: "select", options: [...shipping.map((a) => [String(a.id), addressText(a)]), ["typed", t("checkout.address.other")]] });

  const cardChoices = cards.items.map((card) => [String(card.id),
    `${card.brand} •••• ${card.last4} (${card.exp_month}/${card.exp_year})${card.nickname ? " — " + card.nickname : ""}`]);
  const poField = field(t("checkout.po"), { name: "po_number", maxlength: 60 });
  const cardField = field(t("checkout.card"), { name: "card_id" }, { control: "select", options: cardChoices });
  const consent = h("p", { class: "hint" }, t("checkout.card.consent"), " ", link("/account/payment-cards", t("checkout.card.manage")));
  const cardBox = h("div", { hidden: true }, cardChoices.length ? [cardField, consent] : h("p", {}, t("checkout.card.none"), " ", link("/account/payment-cards", t("checkout.card.manage"))));
  const methods = ["purchase_order", "account", "card"];
  const methodId = "pay-method";
  const payment = h("fieldset", {}, h("legend", {}, t("checkout.method")),
    methods.map((m, i) => h("div", { class: "check" },
      h("input", { type: "radio", name: "method", id: `${methodId}-${m}`, value: m, checked: i === 0 || null,
        onchange: () => { poField.hidden = m !== "purchase_order"; cardBox.hidden = m !== "card"; } }),
      h("label", { for: `${methodId}-${m}` }, t(`checkout.method.${m}`)))),
    poField, cardBox);

  const button = h("button", { type: "submit", class: "primary" }, t("checkout.place"));
  const form = h("form", { novalidate: true },
    field(t("checkout.billing"), { name: "billing_account_id" }, {
      control: "select", options: (company.billing_accounts || []).map((b) => [String(b.id), `${b.account_number} — ${b.name}`]),
    }),
    section(t("checkout.shipping"), addressSelect, typed),
    section(t("checkout.payment"), payment),
    field(t("checkout.notes"), { name: "notes", rows: 3, maxlength: 2000 }, { control: "textarea" }),
    out, button);
  const key = newKey();  // one checkout, one key: a double submit replays the first order
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = quoteId ? { payment: { method: v.method } } : { cart_id: cartId, payment: { method: v.method } };
    if (v.billing_account_id) body.billing_account_id = Number(v.billing_account_id);
    if (v.address && v.address !== "typed") body.shipping_address_id = Number(v.address);
    else body.shipping_address = { name: v.a_name, line1: v.a_line1, line2: v.a_line2 || null, city: v.a_city,
      region: v.a_region || null, postal_code: v.a_postal, country: (v.a_country || "").toUpperCase() };
    if (v.method === "purchase_order") body.payment.po_number = v.po_number || null;
    if (v.method === "card") body.payment.card_id = Number(v.card_id) || null;
    if (v.notes) body.notes = v.notes;
    await busy(button, out, async () => {
      const order = await post(quoteId ? `/quotes/${quoteId}/convert` : "/orders", body,
        { headers: { "Idempotency-Key": key } });
      if (!quoteId) localStorage.removeItem(CURRENT);
      navigate(`/orders/${encodeURIComponent(order.number)}?placed=1`);
    });
  });

  clear(main, h("p", {}, quoteId ? link("/subscriptions", t("quotes.title"))
    : link(`/carts/${cartId}`, t("checkout.back"))),
    pageTitle(t("checkout.title")),
    h("div", { class: "checkout" },
      h("div", {}, form),
      h("aside", { class: "summary", "aria-label": t("checkout.summary") },
        h("h2", {}, t("checkout.summary")),
        h("ul", { class: "plain" }, c.lines.map((l) => h("li", {}, `${l.quantity} × ${l.name || l.part_number}`,
          h("span", { class: "muted" }, ` ${money(l.unit_price)}`)))),
        h("p", { class: "total" }, t("carts.total"), " ", h("strong", {}, money(c.totals && c.totals.total))),
        h("h2", {}, t("checkout.approval")), previewBox)));

  try {
    // a quote's lines are previewed at today's catalog prices; its order uses the quoted ones
    const preview = await post("/approvals/preview", quoteId
      ? { lines: c.lines.map((l) => ({ part_number: l.part_number, quantity: l.quantity })) }
      : { cart_id: cartId });
    clear(previewBox, approvalPreview(preview));
  } catch (err) {
    clear(previewBox, notice("info", errorText(err)));
  }
}

export function approvalPreview(preview) {
  if (!preview.approval_required) return h("p", { class: "notice ok" }, t("checkout.approval.none"));
  return h("div", { class: "approval-preview" },
    h("p", {}, t("checkout.approval.needed")),
    preview.workflows.map((w) => h("div", { class: "workflow" },
      h("h3", {}, w.name),
      h("p", {}, t("checkout.approval.why"), " ", w.triggered_by.map((tr) => localized(tr.description)).join("; ")),
      h("ol", {}, w.steps.map((s) => h("li", {},
        t("checkout.approval.step", { n: s.required }), " ",
        s.approvers.map((p) => p.name || p.email).join(", ")))))));
}

export { checkbox };
