// Home: a search box, the company's favorites, recent orders and, for approvers, what waits.
// A company whose setting says so (favorites_home) opens on its favorites first.
import { date, get, h, link, money, pageTitle, section, statusLabel, t, table, clear } from "../core.js";

export async function render({ main, me }) {
  const [favorites, orders, approvals, company] = await Promise.all([
    get("/favorites", { limit: 50 }).catch(() => ({ items: [] })),
    get("/orders", { limit: 5 }).catch(() => ({ items: [] })),
    get("/approvals", { status: "pending", limit: 10 }).catch(() => ({ items: [] })),
    get("/company").catch(() => ({})),
  ]);
  const searchForm = h("form", { role: "search", action: "/search", class: "inline-form", "aria-label": t("catalog.search") },
    h("label", { for: "home-q", class: "sr-only" }, t("catalog.search")),
    h("input", { id: "home-q", name: "q", type: "search", placeholder: t("catalog.search.placeholder") }),
    h("button", { type: "submit", class: "primary" }, t("catalog.search.go")));
  const pending = approvals.items.filter((a) => a.can_decide !== false);
  const first = Boolean(company.favorites_home);
  const favoritesSection = h("div", { class: first ? "home-favorites first" : "home-favorites" },
    section(t("home.favorites"), favorites.items.length
      ? h("ul", { class: "cards" }, favorites.items.map(favorite))
      : h("p", { class: "empty" }, t("home.favorites.none"))));
  clear(main,
    pageTitle(t("home.hello", { name: me.first_name || me.username })),
    first ? favoritesSection : null,
    searchForm,
    pending.length ? section(t("home.approvals"),
      h("p", {}, t("home.approvals.count", { n: pending.length })),
      h("ul", { class: "plain" }, pending.map((a) => h("li", {},
        link(`/approvals/${a.id}`, t("approvals.order", { number: a.order_number })), " — ",
        a.buyer ? a.buyer.name || a.buyer.email : "", " — ", money(a.total))))) : null,
    first ? null : favoritesSection,
    section(t("home.orders"),
      table(t("home.orders"), [
        { label: t("orders.number"), cell: (o) => link(`/orders/${encodeURIComponent(o.number)}`, o.number) },
        { label: t("orders.placed"), cell: (o) => date(o.placed_at) },
        { label: t("orders.status"), cell: (o) => statusLabel(o.status) },
        { label: t("orders.total"), cell: (o) => money(o.totals && o.totals.total), num: true },
      ], orders.items, { empty: t("orders.none") }),
      h("p", {}, link("/orders", t("home.orders.all")))));
}

function favorite(f) {
  let body;
  if (f.kind === "product") body = link(`/products/${encodeURIComponent(f.part_number)}`, f.part_number);
  else if (f.kind === "comparison") body = link(`/compare?p=${encodeURIComponent((f.part_numbers || []).join(","))}`, t("favorites.compare"));
  else if (f.kind === "bundle") body = link(`/quickcart?lines=${encodeURIComponent((f.lines || []).map((l) => `${l.part_number} ${l.quantity}`).join("\n"))}`, t("favorites.bundle"));
  else if (f.kind === "link" && /^https?:\/\//.test(f.url || "")) body = h("a", { href: f.url, rel: "noopener noreferrer", target: "_blank" }, f.url);
  return h("li", { class: "card" }, h("h3", {}, f.title), h("p", { class: "muted" }, t(`favorites.kind.${f.kind}`)), body);
}
