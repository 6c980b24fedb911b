// Company administration: users (create, disable, unlock, groups and rights), groups,
// custom catalogs and company favorites; each tab shows what the admin's roles allow.
import {
  announce, badge, busy, checkbox, clear, date, del, field, formValues, get, h, link, newKey,
  notice, pageTitle, patch, post, qs, section, splitList, t, table, ids,
} from "../core.js";

const ROLES = ["security_admin", "catalog_admin", "pas_admin", "slt_admin", "eprocurement_admin"];
const FEATURES = ["linked_accounts", "payment_reports", "recent_orders", "order_reports", "quotes", "slt_user"];
const has = (me, r) => (me.roles || []).includes(r);

function tabs(me, current) {
  const items = [];
  if (has(me, "security_admin")) items.push(["users", t("admin.users")], ["groups", t("admin.groups")]);
  if (has(me, "catalog_admin")) items.push(["catalogs", t("admin.catalogs")]);
  items.push(["favorites", t("admin.favorites")]);
  return h("nav", { class: "tabs", "aria-label": t("nav.company") }, h("ul", {}, items.map(([k, label]) =>
    h("li", {}, h("a", { href: `/company/${k}`, "aria-current": current === k ? "page" : null }, label)))));
}

export async function render(ctx) {
  const { me } = ctx;
  const tab = ctx.params[0] || (has(me, "security_admin") ? "users" : has(me, "catalog_admin") ? "catalogs" : "favorites");
  const body = { users, groups, catalogs, favorites }[tab];
  const content = await body(ctx);
  clear(ctx.main, pageTitle(t("admin.title")), tabs(me, tab), content);
}

async function users({ query, navigate }) {
  const q = query.get("q") || "";
  const reply = await get("/company/users", { q, limit: 200 });
  const out = h("div", { class: "form-out" });
  const key = newKey();
  const search = h("form", { role: "search", class: "inline-form", "aria-label": t("admin.users.search") },
    field(t("admin.users.search"), { name: "q", type: "search", value: q }), h("button", { type: "submit", class: "secondary" }, t("catalog.search.go")));
  search.addEventListener("submit", (e) => { e.preventDefault(); navigate("/company/users" + qs({ q: search.elements.q.value })); });
  const form = h("form", { novalidate: true },
    field(t("auth.username"), { name: "username", required: true, autocapitalize: "none" }),
    field(t("auth.email"), { name: "email", type: "email", required: true }),
    field(t("account.first"), { name: "first_name", required: true }),
    field(t("account.last"), { name: "last_name", required: true }),
    field(t("account.locale"), { name: "locale" }, { control: "select", options: [["en", "English"], ["fr", "Français"]] }),
    field(t("admin.groups"), { name: "groups", value: "users" }, { hint: t("admin.groups.hint") }),
    out, h("button", { type: "submit", class: "primary" }, t("admin.users.create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    v.groups = splitList(v.groups).map((g) => (/^\d+$/.test(g) ? Number(g) : g));
    await busy(event.submitter, out, async () => {
      const user = await post("/company/users", v, { headers: { "Idempotency-Key": key } });
      navigate(`/company/users/${user.id}?created=1`);
    });
  });
  return h("div", {}, search,
    table(t("admin.users"), [
      { label: t("auth.username"), cell: (u) => link(`/company/users/${u.id}`, u.username) },
      { label: t("admin.name"), cell: (u) => `${u.first_name || ""} ${u.last_name || ""}` },
      { label: t("auth.email"), cell: (u) => u.email || "" },
      { label: t("orders.status"), cell: (u) => badge(t(`user.${u.status}`) || u.status, u.status) },
      { label: t("admin.groups"), cell: (u) => (u.groups || []).map((g) => g.name || g.key).join(", ") },
    ], reply.items),
    section(t("admin.users.new"), h("details", {}, h("summary", {}, t("admin.users.new")), form)));
}

export async function user({ main, params, query, app }) {
  const id = Number(params[0]);
  const [u, groupList] = await Promise.all([get(`/company/users/${id}`), get("/company/groups", { limit: 200 })]);
  const out = h("div", { class: "form-out" });
  const userGroups = new Set((u.groups || []).map((g) => g.id));
  const form = h("form", { novalidate: true },
    field(t("orders.status"), { name: "status", value: u.status === "disabled" ? "disabled" : "active" },
      { control: "select", options: [["active", t("user.active")], ["disabled", t("user.disabled")]] }),
    u.locked || u.status === "locked" ? checkbox(t("admin.unlock"), { name: "unlock" }) : null,
    h("fieldset", {}, h("legend", {}, t("admin.groups")), groupList.items.map((g) => checkbox(g.name, { name: `g_${g.id}`, checked: userGroups.has(g.id) }))),
    h("fieldset", {}, h("legend", {}, t("admin.roles")), ROLES.map((r) => checkbox(t(`role.${r}`), { name: `r_${r}`, checked: (u.own_roles || u.roles || []).includes(r) }))),
    h("fieldset", {}, h("legend", {}, t("admin.features")), FEATURES.map((f) => checkbox(t(`feature.${f}`), { name: `f_${f}`, checked: (u.own_features || u.features || []).includes(f) }))),
    field(t("admin.catalog_ids"), { name: "catalog_ids", value: (u.own_catalog_ids || u.catalog_ids || []).join(", ") }),
    out, h("button", { type: "submit", class: "primary" }, t("common.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { status: v.status, groups: groupList.items.filter((g) => v[`g_${g.id}`]).map((g) => g.id),
      roles: ROLES.filter((r) => v[`r_${r}`]), features: FEATURES.filter((f) => v[`f_${f}`]), catalog_ids: ids(v.catalog_ids) };
    if (v.unlock) body.unlock = true;
    await busy(event.submitter, out, async () => { await patch(`/company/users/${id}`, body); clear(out, notice("ok", t("common.saved"))); });
  });
  clear(main, h("p", {}, link("/company/users", t("admin.users"))),
    pageTitle(`${u.first_name || ""} ${u.last_name || ""} (${u.username})`),
    query.get("created") ? notice("ok", t("admin.users.created")) : null,
    h("p", {}, u.email || ""), form);
  void app; void date; void announce;
}

async function groups() {
  const reply = await get("/company/groups", { limit: 200 });
  const out = h("div", { class: "form-out" });
  const form = h("form", { novalidate: true },
    field(t("admin.name"), { name: "name", required: true }),
    h("fieldset", {}, h("legend", {}, t("admin.roles")), ROLES.map((r) => checkbox(t(`role.${r}`), { name: `r_${r}` }))),
    h("fieldset", {}, h("legend", {}, t("admin.features")), FEATURES.map((f) => checkbox(t(`feature.${f}`), { name: `f_${f}` }))),
    out, h("button", { type: "submit", class: "primary" }, t("admin.groups.create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await busy(event.submitter, out, async () => {
      await post("/company/groups", { name: v.name, roles: ROLES.filter((r) => v[`r_${r}`]), features: FEATURES.filter((f) => v[`f_${f}`]), catalog_ids: [] });
      location.reload();
    });
  });
  return h("div", {}, table(t("admin.groups"), [
    { label: t("admin.name"), cell: (g) => g.name },
    { label: t("admin.roles"), cell: (g) => (g.roles || []).map((r) => t(`role.${r}`)).join(", ") },
    { label: t("admin.features"), cell: (g) => (g.features || []).map((f) => t(`feature.${f}`)).join(", ") },
    { label: t("carts.actions"), cell: (g) => (g.key ? "" : h("button", { type: "button", class: "danger small", onclick: async (e) => {
      if (!confirm(t("common.delete.confirm"))) return;
      await busy(e.target, out, async () => { await del(`/company/groups/${g.id}`); e.target.closest("tr").remove(); });
    } }, t("common.delete"))) },
  ], reply.items), section(t("admin.groups.new"), h("details", {}, h("summary", {}, t("admin.groups.new")), form)));
}

async function catalogs() {
  const reply = await get("/catalogs", { limit: 200 });
  const out = h("div", { class: "form-out" });
  const form = h("form", { novalidate: true },
    field(t("admin.name"), { name: "name", required: true }),
    field(t("admin.catalog.partnumbers"), { name: "part_numbers", rows: 4 }, { control: "textarea", hint: t("admin.catalog.partnumbers.hint") }),
    checkbox(t("admin.catalog.standards"), { name: "standards" }),
    out, h("button", { type: "submit", class: "primary" }, t("admin.catalogs.create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const rules = [];
    if (v.standards) rules.push({ type: "standards" });
    if (splitList(v.part_numbers).length) rules.push({ type: "part_numbers", list: splitList(v.part_numbers) });
    await busy(event.submitter, out, async () => { await post("/catalogs", { name: v.name, rules }); location.reload(); });
  });
  return h("div", {}, table(t("admin.catalogs"), [
    { label: "ID", cell: (c) => String(c.id) },
    { label: t("admin.name"), cell: (c) => c.name },
    { label: t("admin.catalog.rules"), cell: (c) => (c.rules || []).map((r) => r.type).join(", ") },
    { label: t("carts.actions"), cell: (c) => h("button", { type: "button", class: "danger small", onclick: async (e) => {
      if (!confirm(t("common.delete.confirm"))) return;
      await busy(e.target, out, async () => { await del(`/catalogs/${c.id}`); e.target.closest("tr").remove(); });
    } }, t("common.delete")) },
  ], reply.items), section(t("admin.catalogs.new"), h("details", {}, h("summary", {}, t("admin.catalogs.new")), form)));
}

async function favorites({ me }) {
  const reply = await get("/favorites", { limit: 200 });
  const out = h("div", { class: "form-out" });
  const canWrite = has(me, "eprocurement_admin");
  const form = h("form", { novalidate: true },
    field(t("favorites.kind"), { name: "kind" }, { control: "select", options: ["product", "comparison", "bundle", "link"].map((k) => [k, t(`favorites.kind.${k}`)]) }),
    field(t("favorites.title"), { name: "title", required: true }),
    field(t("favorites.value"), { name: "value", rows: 3 }, { control: "textarea", hint: t("favorites.value.hint") }),
    out, h("button", { type: "submit", class: "primary" }, t("favorites.add")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { kind: v.kind, title: v.title };
    if (v.kind === "product") body.part_number = v.value;
    if (v.kind === "comparison") body.part_numbers = splitList(v.value);
    if (v.kind === "link") body.url = v.value;
    if (v.kind === "bundle") body.lines = v.value.split(/\n/).map((l) => l.trim().split(/[\s,;]+/)).filter((p) => p[0]).map((p) => ({ part_number: p[0], quantity: Number(p[1] || 1) }));
    await busy(event.submitter, out, async () => { await post("/favorites", body); location.reload(); });
  });
  return h("div", {}, table(t("admin.favorites"), [
    { label: t("favorites.title"), cell: (f) => f.title },
    { label: t("favorites.kind"), cell: (f) => t(`favorites.kind.${f.kind}`) },
    { label: t("favorites.value"), cell: (f) => f.part_number || (f.part_numbers || []).join(", ") || f.url || (f.lines || []).map((l) => `${l.quantity} × ${l.part_number}`).join(", ") },
    { label: t("carts.actions"), cell: (f) => (canWrite ? h("button", { type: "button", class: "danger small", onclick: async (e) => {
      await busy(e.target, out, async () => { await del(`/favorites/${f.id}`); e.target.closest("tr").remove(); });
    } }, t("common.delete")) : "") },
  ], reply.items, { empty: t("home.favorites.none") }),
  canWrite ? section(t("favorites.add"), h("details", {}, h("summary", {}, t("favorites.add")), form)) : null);
}
