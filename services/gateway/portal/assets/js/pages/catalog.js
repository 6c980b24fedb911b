// Catalog: search with facets and sort, the product page, comparison.
import {
  announce, badge, busy, clear, date, del, errorText, field, get, h, link, money, notice, pageTitle,
  post, qs, section, t, table, checkbox,
} from "../core.js";
import { addToCart } from "./carts.js";

const FILTERS = ["q", "manufacturer", "category", "availability", "on_contract", "price_min", "price_max", "sort"];

/** A price range of the search's facets as text: "100,00 $ – 249,99 $", or "10 000,00 $ +". */
function rangeText(r) {
  return r.max ? `${money(r.min)} – ${money(r.max)}` : `${money(r.min)} +`;
}

function priceBlock(p) {
  const listDiffers = p.price && p.list_price && p.price.amount !== p.list_price.amount;
  return h("div", { class: "price" },
    h("span", { class: "amount" }, p.price ? money(p.price) : t("catalog.noprice")),
    p.price_source ? badge(t(`catalog.source.${p.price_source}`), p.price_source) : null,
    listDiffers ? h("span", { class: "list-price" }, t("catalog.listprice"), " ", h("s", {}, money(p.list_price))) : null);
}

function addForm(p, out) {
  const qtyId = `qty-${p.part_number}`;
  const button = h("button", { type: "submit", class: "primary small" }, t("catalog.add"));
  const form = h("form", { class: "add-form", "aria-label": t("catalog.add.label", { name: p.name }) },
    h("label", { for: qtyId, class: "sr-only" }, t("catalog.quantity")),
    h("input", { id: qtyId, name: "quantity", type: "number", min: 1, max: 10000, value: 1, inputmode: "numeric", class: "qty" }),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const quantity = Number(form.elements.quantity.value);
    await busy(button, out, async () => {
      const cart = await addToCart(p.part_number, quantity);
      clear(out, h("p", { class: "notice ok", role: "status" },
        t("catalog.added", { name: p.name, cart: cart.name }), " ", link(`/carts/${cart.id}`, t("catalog.seecart"))));
    });
  });
  if (p.orderable === false) button.disabled = true;
  return form;
}

export async function search({ main, query, navigate }) {
  const params = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  const result = await get("/products", { ...params, limit: 24, cursor: query.get("cursor") || "" });
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const goto = (changes) => {
    const next = { ...params, ...changes };
    navigate("/search" + qs(next));
  };

  const form = h("form", { role: "search", class: "search-bar", "aria-label": t("catalog.search") },
    h("label", { for: "q", class: "sr-only" }, t("catalog.search")),
    h("input", { id: "q", name: "q", type: "search", value: params.q, placeholder: t("catalog.search.placeholder") }),
    h("button", { type: "submit", class: "primary" }, t("catalog.search.go")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    goto({ q: form.elements.q.value.trim() });
  });

  const facetGroup = (name, title, values, label = (v) => v.value) => {
    const id = `facet-${name}`;
    return h("fieldset", { class: "facet" }, h("legend", {}, title),
      params[name] ? h("p", {}, h("button", { type: "button", class: "link-button", onclick: () => goto({ [name]: "" }) },
        t("catalog.facet.clear", { value: label({ value: params[name] }) }))) : null,
      h("ul", { class: "plain", id }, (values || []).slice(0, 12).map((v) => h("li", {},
        h("a", { href: "/search" + qs({ ...params, [name]: v.value, cursor: "" }), "aria-current": params[name] === v.value ? "true" : null },
          label(v), " ", h("span", { class: "count" }, `(${v.count})`))))));
  };
  const availability = facetGroup("availability", t("catalog.availability"), result.facets && result.facets.availability,
    (v) => t(`availability.${v.value}`));
  const priceFacet = priceFilter(params, (result.facets && result.facets.price) || [], goto);
  const onContract = checkbox(t("catalog.oncontract"), { name: "on_contract", checked: params.on_contract === "true",
    onchange: (e) => goto({ on_contract: e.target.checked ? "true" : "" }) });
  const sort = field(t("catalog.sort"), { name: "sort", value: params.sort || "relevance", onchange: (e) => goto({ sort: e.target.value }) },
    { control: "select", options: ["relevance", "price_asc", "price_desc"].map((s) => [s, t(`catalog.sort.${s}`)]) });

  const facets = h("aside", { class: "facets", "aria-label": t("catalog.filters") },
    h("h2", {}, t("catalog.filters")),
    facetGroup("manufacturer", t("catalog.manufacturer"), result.facets && result.facets.manufacturer),
    facetGroup("category", t("catalog.category"), result.facets && result.facets.category),
    availability, priceFacet, onContract);

  const compare = new Set();
  const compareButton = h("button", { type: "button", class: "secondary", disabled: true,
    onclick: () => navigate("/compare?p=" + encodeURIComponent([...compare].join(","))) }, t("catalog.compare"));
  const items = h("ul", { class: "results" }, result.items.map((p) => h("li", { class: "product" },
    h("h3", {}, link(`/products/${encodeURIComponent(p.part_number)}`, p.name)),
    h("p", { class: "muted" }, `${p.manufacturer} · ${p.part_number} · ${t("catalog.mfgpn")} ${p.mfg_part_number || "—"}`),
    h("p", {}, badge(t(`availability.${p.availability}`), p.availability)),
    priceBlock(p),
    addForm(p, out),
    checkbox(t("catalog.compare.pick"), { onchange: (e) => {
      if (e.target.checked) compare.add(p.part_number); else compare.delete(p.part_number);
      compareButton.disabled = compare.size < 2;
    } }))));

  const saved = await get("/saved-searches", { limit: 50 }).catch(() => ({ items: [] }));
  const saveName = h("input", { id: "save-name", name: "name", maxlength: 120, required: true });
  const saveForm = h("form", { class: "inline-form" },
    h("div", { class: "field" }, h("label", { for: "save-name" }, t("catalog.saved.name")), saveName),
    h("button", { type: "submit", class: "secondary" }, t("catalog.saved.save")));
  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!saveName.value.trim()) return;
    const criteria = {};
    for (const k of FILTERS) if (params[k]) criteria[k] = k === "on_contract" ? params[k] === "true" : params[k];
    await busy(event.submitter, out, async () => {
      await post("/saved-searches", { name: saveName.value.trim(), criteria });
      clear(out, notice("ok", t("common.saved")));
    });
  });
  const savedBox = h("details", { class: "saved-searches" }, h("summary", {}, t("catalog.saved")),
    saved.items.length ? h("ul", { class: "plain" }, saved.items.map((x) => h("li", {},
      h("a", { href: "/search" + qs(x.criteria || {}) }, x.name), " ",
      h("button", { type: "button", class: "link-button", onclick: async (e) => {
        await busy(e.target, out, async () => { await del(`/saved-searches/${x.id}`); e.target.closest("li").remove(); });
      } }, t("common.delete"), h("span", { class: "sr-only" }, ` ${x.name}`))))) : h("p", { class: "empty" }, t("catalog.saved.none")),
    saveForm);
  facets.append(savedBox);
  const total = result.total ?? result.items.length;
  clear(main,
    pageTitle(t("catalog.title")),
    form,
    h("div", { class: "search-layout" }, facets,
      h("div", { class: "search-results" },
        h("div", { class: "results-head" }, h("p", { role: "status" }, t("catalog.count", { n: total })), sort, compareButton),
        out,
        result.items.length ? items : h("p", { class: "empty" }, t("catalog.noresults")),
        result.next_cursor ? h("p", {}, h("a", { href: "/search" + qs({ ...params, cursor: result.next_cursor }), class: "button-link" }, t("common.next"))) : null)));
  announce(t("catalog.count", { n: total }));
}

/** The price facet: the ranges with their counts (links that keep one range), and a
 * form for any range (the caller's unit price, both ends included). */
function priceFilter(params, ranges, goto) {
  const filtered = params.price_min || params.price_max;
  const current = (r) => params.price_min === r.min.amount && (params.price_max || "") === (r.max ? r.max.amount : "");
  const currency = ranges.length ? ranges[0].min.currency : undefined;
  const amount = (a) => money({ amount: a, currency });
  const shown = params.price_min && params.price_max ? `${amount(params.price_min)} – ${amount(params.price_max)}`
    : params.price_min ? `≥ ${amount(params.price_min)}` : params.price_max ? `≤ ${amount(params.price_max)}` : "";
  const form = h("form", { class: "price-form", "aria-label": t("catalog.price.range") },
    field(t("catalog.price.min"), { name: "price_min", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: params.price_min || "" }),
    field(t("catalog.price.max"), { name: "price_max", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: params.price_max || "" }),
    h("button", { type: "submit", class: "secondary small" }, t("catalog.price.apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    goto({ price_min: form.elements.price_min.value.trim(), price_max: form.elements.price_max.value.trim(), cursor: "" });
  });
  return h("fieldset", { class: "facet price-facet" }, h("legend", {}, t("catalog.price.range")),
    filtered ? h("p", {}, h("button", { type: "button", class: "link-button", onclick: () => goto({ price_min: "", price_max: "", cursor: "" }) },
      t("catalog.facet.clear", { value: shown }))) : null,
    h("ul", { class: "plain", id: "facet-price" }, ranges.map((r) => h("li", {},
      h("a", { href: "/search" + qs({ ...params, price_min: r.min.amount, price_max: r.max ? r.max.amount : "", cursor: "" }),
        "aria-current": current(r) ? "true" : null }, rangeText(r), " ", h("span", { class: "count" }, `(${r.count})`))))),
    form);
}

export async function product({ main, params }) {
  const partNumber = params[0];
  const p = await get(`/products/${encodeURIComponent(partNumber)}`);
  const out = h("div", { class: "form-out" });
  const tiers = p.tier_prices || [];
  clear(main,
    h("p", {}, link("/search", t("catalog.back"))),
    pageTitle(p.name),
    h("div", { class: "product-page" },
      h("dl", { class: "facts" },
        h("dt", {}, t("catalog.partnumber")), h("dd", {}, p.part_number),
        h("dt", {}, t("catalog.mfgpn")), h("dd", {}, p.mfg_part_number || "—"),
        h("dt", {}, t("catalog.manufacturer")), h("dd", {}, p.manufacturer),
        h("dt", {}, t("catalog.category")), h("dd", {}, p.category),
        h("dt", {}, t("catalog.availability")), h("dd", {}, t(`availability.${p.availability}`))),
      h("div", {}, priceBlock(p), addForm(p, out), out)),
    h("p", {}, p.description),
    tiers.length ? section(t("catalog.tierprices"),
      h("p", { class: "hint" }, t("catalog.tierprices.text")),
      table(t("catalog.tierprices"), [
        { label: t("catalog.contract"), cell: (x) => x.contract_name },
        { label: t("catalog.tier"), cell: (x) => x.tier || t("catalog.tier.base") },
        { label: t("catalog.tier.from"), cell: (x) => String(x.min_quantity), num: true },
        { label: t("catalog.price"), cell: (x) => money(x.price), num: true },
        { label: t("catalog.ends"), cell: (x) => date(x.ends_on) },
        { label: t("catalog.tier.yours"), cell: (x) => (x.current ? badge(t("catalog.tier.current"), "ok") : "") },
      ], tiers)) : null);
}

export async function compare({ main, query }) {
  const partNumbers = (query.get("p") || "").split(",").filter(Boolean).slice(0, 6);
  if (partNumbers.length < 1) {
    clear(main, pageTitle(t("catalog.compare.title")), h("p", {}, t("catalog.compare.none")));
    return;
  }
  const reply = await post("/products/lookup", { part_numbers: partNumbers });
  const found = reply.results.filter((r) => r.status === "found").map((r) => r.product);
  const rows = [
    [t("catalog.partnumber"), (p) => link(`/products/${encodeURIComponent(p.part_number)}`, p.part_number)],
    [t("catalog.manufacturer"), (p) => p.manufacturer],
    [t("catalog.category"), (p) => p.category],
    [t("catalog.price"), (p) => priceBlock(p)],
    [t("catalog.availability"), (p) => t(`availability.${p.availability}`)],
    [t("catalog.description"), (p) => p.description],
  ];
  clear(main, pageTitle(t("catalog.compare.title")),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("catalog.compare.title") },
      h("table", {}, h("thead", {}, h("tr", {}, h("td", {}), found.map((p) => h("th", { scope: "col" }, p.name)))),
        h("tbody", {}, rows.map(([label, cell]) => h("tr", {}, h("th", { scope: "row" }, label),
          found.map((p) => h("td", {}, cell(p)))))))),
    reply.results.some((r) => r.status !== "found")
      ? notice("info", t("catalog.compare.missing", { list: reply.results.filter((r) => r.status !== "found").map((r) => r.part_number).join(", ") }))
      : null);
}

export { errorText };
