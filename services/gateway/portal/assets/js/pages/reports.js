// Reports: the list (standard and custom), one report with its filters, a bar chart where a
// chart helps, the CSV download, and the report's email schedules.
import {
  announce, busy, clear, del, field, get, h, lang, link, localized, money, nextId, notice,
  number, pageTitle, post, qs, section, splitList, t, table,
} from "../core.js";

const CHART_LABELS = ["month", "quarter", "manufacturer", "category", "product", "part_number", "buyer",
  "billing_account", "ship_to", "contract", "card_brand"];
const CHART_VALUES = ["spend", "total", "quantity", "requests"];
const MONEY_COLUMNS = ["spend", "total", "unit_price"];
const STATUS_FILTER = ["", "pending_approval", "approved", "submitted", "processing", "shipped", "delivered", "invoiced", "rejected", "cancelled"];

export const columnLabel = (c) => t(`col.${c}`);

export async function list({ main, navigate }) {
  const reply = await get("/reports");
  const standard = reply.items.filter((r) => !r.custom);
  const custom = reply.items.filter((r) => r.custom);
  const item = (r) => h("li", {}, link(`/reports/${encodeURIComponent(r.key)}`, localized(r.title) || r.key),
    h("span", { class: "muted" }, " — ", (r.columns || []).map(columnLabel).join(", ")));
  const out = h("div", { class: "form-out" });
  const button = h("button", { type: "submit", class: "primary" }, t("reports.custom.save"));
  const form = h("form", { novalidate: true },
    field(t("reports.custom.name"), { name: "name", required: true, maxlength: 120 }),
    field(t("reports.custom.columns"), { name: "columns", required: true, value: "manufacturer, category, quantity, spend" }, { hint: t("reports.custom.columns.hint") }),
    field(t("reports.custom.group"), { name: "group_by", value: "manufacturer, category" }),
    out, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(button, out, async () => {
      const saved = await post("/reports/custom", { name: form.elements.name.value.trim(),
        columns: splitList(form.elements.columns.value), group_by: splitList(form.elements.group_by.value) });
      navigate(`/reports/${encodeURIComponent(saved.key)}`);
    });
  });
  clear(main, pageTitle(t("reports.title")),
    section(t("reports.standard"), h("ul", { class: "report-list" }, standard.map(item))),
    section(t("reports.custom"), custom.length ? h("ul", { class: "report-list" }, custom.map(item)) : h("p", { class: "empty" }, t("reports.custom.none")),
      h("details", {}, h("summary", {}, t("reports.custom.new")), form)));
}

function value(v) {
  if (v && typeof v === "object" && "amount" in v) return Number(v.amount);
  return Number(v);
}

function cellText(column, v, row) {
  if (v === null || v === undefined) return "—";
  if (v && typeof v === "object" && "amount" in v) return money(v);
  if (MONEY_COLUMNS.includes(column) && row.currency) return money({ amount: v, currency: row.currency });
  if (typeof v === "number") return number(v);
  if (column === "status") return t(`status.${v}`);
  if (typeof v === "boolean") return v ? t("common.yes") : t("common.no");
  return String(v);
}

/** A horizontal bar chart as SVG, with a text alternative; bars sorted as the report sorts. */
export function barChart(title, rows, labelKey, valueKey, format) {
  const data = rows.slice(0, 20).map((r) => ({ label: String(r[labelKey] ?? "—"), value: value(r[valueKey]) || 0, row: r }));
  const max = Math.max(...data.map((d) => d.value), 1);
  const barH = 26, gap = 8, labelW = 170, valueW = 110, width = 640;
  const height = data.length * (barH + gap) + gap;
  const plotW = width - labelW - valueW;
  const titleId = nextId("chart");
  const svg = h("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId, class: "chart", preserveAspectRatio: "xMinYMin meet" },
    h("svg:title", { id: titleId }, `${title}: ${data.map((d) => `${d.label} ${format(d.row)}`).join("; ")}`),
    data.map((d, i) => {
      const y = gap + i * (barH + gap);
      const w = Math.max(2, Math.round((d.value / max) * plotW));
      const label = d.label.length > 24 ? d.label.slice(0, 23) + "…" : d.label;
      return h("svg:g", { class: "bar" },
        h("svg:text", { x: labelW - 8, y: y + barH * 0.68, "text-anchor": "end", class: "chart-label" }, label),
        h("svg:rect", { x: labelW, y, width: w, height: barH, rx: 3, class: "chart-bar" }),
        h("svg:text", { x: labelW + w + 6, y: y + barH * 0.68, class: "chart-value" }, format(d.row)));
    }));
  return h("figure", { class: "chart-figure" }, svg, h("figcaption", {}, title));
}

function chartFor(info, rows) {
  if (!rows.length) return null;
  const columns = info.columns || [];
  const labelKey = CHART_LABELS.find((c) => columns.includes(c) && (info.group_by || []).includes(c))
    || (columns.includes("product") && (info.group_by || []).length ? "product" : null);
  const key = (info.key || "").includes("by_quantity") && columns.includes("quantity") ? "quantity"
    : CHART_VALUES.find((c) => columns.includes(c));
  if (!labelKey || !key) return null;
  let data = rows;
  if (labelKey === "month" || labelKey === "quarter") data = [...rows].sort((a, b) => String(a[labelKey]).localeCompare(String(b[labelKey])));
  const format = (row) => cellText(key, row[key], row);
  return barChart(t("reports.chart", { value: columnLabel(key), label: columnLabel(labelKey) }), data, labelKey, key, format);
}

export async function report({ main, params, query, navigate }) {
  const key = params[0];
  const all = await get("/reports");
  const info = all.items.find((r) => r.key === key) || { key, columns: [], filters: ["from", "to"], title: key };
  const filters = {};
  for (const f of info.filters || []) if (query.get(f)) filters[f] = query.get(f);
  const data = await get(`/reports/${encodeURIComponent(key)}`, { ...filters, limit: 200, cursor: query.get("cursor") || "" });
  const columns = data.columns || info.columns || [];

  const filterFields = (info.filters || []).map((f) => {
    if (f === "from" || f === "to") return field(t(`reports.${f}`), { name: f, type: "date", value: filters[f] || "" });
    if (f === "status") return field(t("orders.status"), { name: f, value: filters[f] || "" },
      { control: "select", options: STATUS_FILTER.map((s) => [s, s ? t(`status.${s}`) : t("orders.all")]) });
    return field(columnLabel(f), { name: f, value: filters[f] || "", inputmode: f === "buyer" || f === "billing_account" ? "numeric" : null },
      { hint: f === "buyer" || f === "billing_account" ? t("reports.id.hint") : null });
  });
  const form = h("form", { class: "filters report-filters", "aria-label": t("reports.filters") }, filterFields,
    h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "primary" }, t("reports.apply"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    for (const f of info.filters || []) if (form.elements[f] && form.elements[f].value) next[f] = form.elements[f].value;
    navigate(`/reports/${encodeURIComponent(key)}` + qs(next));
  });
  const csvHref = `/api/v1/reports/${encodeURIComponent(key)}` + qs({ ...filters, format: "csv" });
  const title = localized(info.title) || data.title || key;
  clear(main,
    h("p", {}, link("/reports", t("reports.back"))),
    pageTitle(title, h("a", { href: csvHref, download: `${key}.csv`, class: "button-link secondary", id: "csv-download" }, t("reports.csv"))),
    form,
    chartFor({ ...info, columns }, data.items) || null,
    table(title, columns.map((c, i) => ({ label: columnLabel(c), num: ["orders", "lines", "quantity", "spend", "total", "requests", "approved", "rejected", "pending", "hours_to_decide"].includes(c),
      cell: (row) => cellText(c, row[c], row), rowHeader: i === 0 })), data.items, { empty: t("reports.empty") }),
    data.next_cursor ? h("p", {}, link(`/reports/${encodeURIComponent(key)}` + qs({ ...filters, cursor: data.next_cursor }), t("common.next"))) : null,
    await schedules(key, filters));
  announce(t("reports.rows", { n: data.items.length }));
}

async function schedules(key, filters) {
  const reply = await get("/report-schedules").catch(() => ({ items: [] }));
  const mine = reply.items.filter((s) => s.report_key === key);
  const out = h("div", { class: "form-out" });
  const list = h("div", {}, table(t("schedules.title"), [
    { label: t("schedules.frequency"), cell: (s) => t(`schedules.${s.frequency}`) },
    { label: t("schedules.recipients"), cell: (s) => (s.recipients || []).map((r) => r.email).join(", ") },
    { label: t("schedules.next"), cell: (s) => s.next_run_at || "—" },
    { label: t("carts.actions"), cell: (s) => h("button", { type: "button", class: "danger small", onclick: async (e) => {
      await busy(e.target, out, async () => { await del(`/report-schedules/${s.id}`); e.target.closest("tr").remove(); announce(t("common.deleted")); });
    } }, t("common.delete")) },
  ], mine, { empty: t("schedules.none") }));
  const button = h("button", { type: "submit", class: "secondary" }, t("schedules.add"));
  const form = h("form", { novalidate: true, class: "inline-form" },
    field(t("schedules.frequency"), { name: "frequency" }, { control: "select", options: [["monthly", t("schedules.monthly")], ["quarterly", t("schedules.quarterly")]] }),
    field(t("schedules.recipients"), { name: "recipients", type: "text", inputmode: "email", required: true }, { hint: t("schedules.recipients.hint") }),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = { ...filters };
    delete params.from; delete params.to;
    await busy(button, out, async () => {
      await post("/report-schedules", { report_key: key, params, frequency: form.elements.frequency.value,
        recipients: splitList(form.elements.recipients.value).map((email) => ({ email, locale: lang })) });
      clear(out, notice("ok", t("schedules.added")));
    });
  });
  return section(t("schedules.title"), list, form, out);
}
