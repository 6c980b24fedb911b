// Company administration: users (create, disable, unlock, groups and rights), groups,
// custom catalogs and company favorites; each tab shows what the admin's roles allow.
import {
  announce, badge, busy, checkbox, clear, date, del, field, formValues, get, h, link, money, newKey,
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

/** One group: its name and rights (a change reaches its members' sessions at once). */
export async function group({ main, params }) {
  const id = Number(params[0]);
  const reply = await get("/company/groups", { limit: 200 });
  const g = reply.items.find((x) => x.id === id);
  if (!g) {
    clear(main, pageTitle(t("page.notfound")), h("p", {}, link("/company/groups", t("admin.groups"))));
    return;
  }
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field(t("admin.name"), { name: "name", value: g.name, required: true, maxlength: 100 }),
    h("fieldset", {}, h("legend", {}, t("admin.roles")), ROLES.map((r) => checkbox(t(`role.${r}`), { name: `r_${r}`, checked: (g.roles || []).includes(r) }))),
    h("fieldset", {}, h("legend", {}, t("admin.features")), FEATURES.map((f) => checkbox(t(`feature.${f}`), { name: `f_${f}`, checked: (g.features || []).includes(f) }))),
    field(t("admin.catalog_ids"), { name: "catalog_ids", value: (g.catalog_ids || []).join(", ") }),
    out, h("button", { type: "submit", class: "primary" }, t("common.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await busy(event.submitter, out, async () => {
      await patch(`/company/groups/${id}`, { name: v.name, roles: ROLES.filter((r) => v[`r_${r}`]),
        features: FEATURES.filter((f) => v[`f_${f}`]), catalog_ids: ids(v.catalog_ids) });
      clear(out, notice("ok", t("common.saved")));
    });
  });
  clear(main, h("p", {}, link("/company/groups", t("admin.groups"))),
    pageTitle(g.name), g.standard ? h("p", { class: "hint" }, t("admin.groups.standard")) : null,
    h("p", {}, t("admin.groups.members", { n: g.member_count ?? 0 })), form);
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
    { label: t("admin.name"), cell: (g) => link(`/company/groups/${g.id}`, g.name) },
    { label: t("admin.roles"), cell: (g) => (g.roles || []).map((r) => t(`role.${r}`)).join(", ") },
    { label: t("admin.features"), cell: (g) => (g.features || []).map((f) => t(`feature.${f}`)).join(", ") },
    { label: t("carts.actions"), cell: (g) => (g.key ? "" : h("button", { type: "button", class: "danger small", onclick: async (e) => {
      if (!confirm(t("common.delete.confirm"))) return;
      await busy(e.target, out, async () => { await del(`/company/groups/${g.id}`); e.target.closest("tr").remove(); });
    } }, t("common.delete"))) },
  ], reply.items), section(t("admin.groups.new"), h("details", {}, h("summary", {}, t("admin.groups.new")), form)));
}

/** Names separated by commas or lines (a manufacturer's name may hold spaces). */
const names = (text) => (text || "").split(/[,;\n]+/).map((x) => x.trim()).filter(Boolean);

/** The form of a custom catalog: rules (all must hold), then what it keeps only and what it
 * leaves out. `save(body)` posts or patches it. */
function catalogForm(c, contracts, searches, submitLabel, save) {
  const rule = (type) => (c.rules || []).find((r) => r.type === type) || null;
  const inc = c.include || {};
  const exc = c.exclude || {};
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const chosenContracts = new Set(rule("contract") ? rule("contract").contract_ids : []);
  const form = h("form", { novalidate: true, class: "catalog-form" },
    field(t("admin.name"), { name: "name", required: true, maxlength: 120, value: c.name || "" }),
    h("fieldset", {}, h("legend", {}, t("admin.catalog.rules")), h("p", { class: "hint" }, t("admin.catalog.rules.hint")),
      checkbox(t("admin.catalog.standards"), { name: "standards", checked: Boolean(rule("standards")) }),
      checkbox(t("admin.catalog.history"), { name: "purchase_history", checked: Boolean(rule("purchase_history")) }),
      field(t("admin.catalog.partnumbers"), { name: "part_numbers", rows: 3, value: rule("part_numbers") ? rule("part_numbers").part_numbers.join("\n") : "" },
        { control: "textarea", hint: t("admin.catalog.partnumbers.hint") }),
      field(t("admin.catalog.mfgpartnumbers"), { name: "mfg_part_numbers", rows: 2, value: rule("mfg_part_numbers") ? rule("mfg_part_numbers").mfg_part_numbers.join("\n") : "" },
        { control: "textarea" }),
      contracts.length ? h("fieldset", {}, h("legend", {}, t("admin.catalog.contracts")),
        contracts.map((k) => checkbox(`${k.name} (${t(`contract.${k.status}`)})`, { name: `contract_${k.id}`, checked: chosenContracts.has(k.id) }))) : null,
      field(t("admin.catalog.saved"), { name: "saved_search_id", value: rule("saved_search") ? String(rule("saved_search").saved_search_id) : "" },
        { control: "select", options: [["", "—"], ...searches.map((x) => [String(x.id), x.name])] })),
    h("fieldset", {}, h("legend", {}, t("admin.catalog.include")),
      field(t("catalog.manufacturer"), { name: "inc_manufacturers", value: (inc.manufacturers || []).join(", ") }, { hint: t("admin.catalog.names.hint") }),
      field(t("catalog.category"), { name: "inc_categories", value: (inc.categories || []).join(", ") }, { hint: t("admin.catalog.names.hint") }),
      checkbox(t("admin.catalog.lang.en"), { name: "inc_en", checked: (inc.languages || []).includes("en") }),
      checkbox(t("admin.catalog.lang.fr"), { name: "inc_fr", checked: (inc.languages || []).includes("fr") }),
      checkbox(t("admin.catalog.offcontract"), { name: "inc_off_contract", checked: Boolean(inc.off_contract) })),
    h("fieldset", {}, h("legend", {}, t("admin.catalog.exclude")),
      field(t("catalog.manufacturer"), { name: "exc_manufacturers", value: (exc.manufacturers || []).join(", ") }, { hint: t("admin.catalog.names.hint") }),
      field(t("catalog.category"), { name: "exc_categories", value: (exc.categories || []).join(", ") }, { hint: t("admin.catalog.names.hint") }),
      checkbox(t("admin.catalog.offcontract"), { name: "exc_off_contract", checked: Boolean(exc.off_contract) })),
    out, h("button", { type: "submit", class: "primary" }, submitLabel));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const rules = [];
    if (v.standards) rules.push({ type: "standards" });
    if (v.purchase_history) rules.push({ type: "purchase_history" });
    if (splitList(v.part_numbers).length) rules.push({ type: "part_numbers", part_numbers: splitList(v.part_numbers) });
    if (splitList(v.mfg_part_numbers).length) rules.push({ type: "mfg_part_numbers", mfg_part_numbers: splitList(v.mfg_part_numbers) });
    const contractIds = contracts.filter((k) => v[`contract_${k.id}`]).map((k) => k.id);
    if (contractIds.length) rules.push({ type: "contract", contract_ids: contractIds });
    if (v.saved_search_id) rules.push({ type: "saved_search", saved_search_id: Number(v.saved_search_id) });
    const spec = (prefix, langs) => {
      const x = {};
      if (names(v[`${prefix}_manufacturers`]).length) x.manufacturers = names(v[`${prefix}_manufacturers`]);
      if (names(v[`${prefix}_categories`]).length) x.categories = names(v[`${prefix}_categories`]);
      if (langs) { const l = ["en", "fr"].filter((code) => v[`${prefix}_${code}`]); if (l.length) x.languages = l; }
      if (v[`${prefix}_off_contract`]) x.off_contract = true;
      return x;
    };
    await busy(event.submitter, out, async () => {
      await save({ name: v.name, rules, include: spec("inc", true), exclude: spec("exc", false) }, out);
    });
  });
  return form;
}

async function catalogChoices() {
  const [contracts, searches] = await Promise.all([
    get("/contracts", { limit: 200 }).catch(() => ({ items: [] })),
    get("/saved-searches", { limit: 200 }).catch(() => ({ items: [] })),
  ]);
  return [contracts.items.filter((k) => k.status !== "expired"), searches.items];
}

async function catalogs({ navigate }) {
  const [reply, [contracts, searches]] = await Promise.all([get("/catalogs", { limit: 200 }), catalogChoices()]);
  const out = h("div", { class: "form-out" });
  const form = catalogForm({}, contracts, searches, t("admin.catalogs.create"), async (body) => {
    const made = await post("/catalogs", body);
    navigate(`/company/catalogs/${made.id}`);
  });
  return h("div", {}, out, table(t("admin.catalogs"), [
    { label: t("admin.name"), cell: (c) => link(`/company/catalogs/${c.id}`, c.name) },
    { label: "ID", cell: (c) => String(c.id), num: true },
    { label: t("admin.catalog.rules"), cell: (c) => (c.rules || []).map((r) => t(`rule.kind.${r.type}`)).join(", ") || "—" },
    { label: t("carts.actions"), cell: (c) => h("button", { type: "button", class: "danger small", onclick: async (e) => {
      if (!confirm(t("common.delete.confirm"))) return;
      await busy(e.target, out, async () => { await del(`/catalogs/${c.id}`); e.target.closest("tr").remove(); });
    } }, t("common.delete"), h("span", { class: "sr-only" }, ` ${c.name}`)) },
  ], reply.items), section(t("admin.catalogs.new"), h("details", {}, h("summary", {}, t("admin.catalogs.new")), form)));
}

/** One custom catalog: its rules to change, and the products it allows now. */
export async function catalog({ main, params, app }) {
  const id = Number(params[0]);
  const [c, products, [contracts, searches]] = await Promise.all([
    get(`/catalogs/${id}`), get(`/catalogs/${id}/products`, { limit: 20 }), catalogChoices()]);
  const form = catalogForm(c, contracts, searches, t("common.save"), async (body, out) => {
    await patch(`/catalogs/${id}`, body);
    await app.render();
    announce(t("common.saved"));
    void out;
  });
  clear(main, h("p", {}, link("/company/catalogs", t("admin.catalogs"))), pageTitle(c.name), form,
    section(t("admin.catalog.products"),
      h("p", { role: "status" }, t("catalog.count", { n: products.total ?? products.items.length })),
      table(t("admin.catalog.products"), [
        { label: t("catalog.partnumber"), cell: (p) => link(`/products/${encodeURIComponent(p.part_number)}`, p.part_number) },
        { label: t("admin.name"), cell: (p) => p.name },
        { label: t("catalog.manufacturer"), cell: (p) => p.manufacturer },
        { label: t("catalog.price"), cell: (p) => money(p.price), num: true },
      ], products.items, { empty: t("catalog.noresults") })));
}

async function favorites({ me }) {
  const [reply, company] = await Promise.all([get("/favorites", { limit: 200 }), get("/company")]);
  const out = h("div", { class: "form-out" });
  const canWrite = has(me, "eprocurement_admin");
  const homeOut = h("div", { class: "form-out", "aria-live": "polite" });
  const home = h("form", { class: "inline-form home-setting" },
    checkbox(t("favorites.home"), { name: "favorites_home", checked: Boolean(company.favorites_home) }),
    h("button", { type: "submit", class: "secondary" }, t("common.save")), homeOut);
  home.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, homeOut, async () => {
      await patch("/company", { favorites_home: home.elements.favorites_home.checked });
      clear(homeOut, notice("ok", t("common.saved")));
    });
  });
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
  canWrite ? home : (company.favorites_home ? h("p", {}, t("favorites.home.on")) : null),
  canWrite ? section(t("favorites.add"), h("details", {}, h("summary", {}, t("favorites.add")), form)) : null);
}
