// Approvals: the approver's inbox, one request (approve or reject with a comment), and the
// workflows editor for PAS admins.
import {
  announce, badge, busy, checkbox, clear, date, del, errorText, field, formValues, get, h, ids,
  link, localized, money, notice, pageTitle, patch, post, put, qs, section, t, table, splitList,
} from "../core.js";

const STATUSES = ["pending", "approved", "rejected", "cancelled"];

export async function inbox({ main, query, navigate }) {
  const status = query.get("status") ?? "pending";
  const reply = await get("/approvals", { status: status === "all" ? "" : status, limit: 100 });
  const tabs = h("nav", { class: "tabs", "aria-label": t("approvals.filter") }, h("ul", {},
    [...STATUSES, ""].map((s) => h("li", {}, h("a", { href: "/approvals" + qs({ status: s || "all" }),
      "aria-current": (status === s || (status === "all" && !s)) ? "page" : null }, s ? t(`approvals.status.${s}`) : t("orders.all"))))));
  const rows = reply.items;
  const delegation = await get("/approval-delegations").catch(() => null);
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "inline-form" },
    field(t("delegation.user"), { name: "delegate_user_id", inputmode: "numeric", required: true,
      value: delegation && delegation.delegate_user_id ? String(delegation.delegate_user_id) : "" }, { hint: t("workflows.ids.hint") }),
    field(t("delegation.starts"), { name: "starts_on", type: "date", required: true, value: (delegation && delegation.starts_on) || "" }),
    field(t("delegation.ends"), { name: "ends_on", type: "date", required: true, value: (delegation && delegation.ends_on) || "" }),
    h("button", { type: "submit", class: "secondary" }, t("common.save")),
    delegation && delegation.delegate_user_id ? h("button", { type: "button", class: "danger", onclick: async (e) => {
      await busy(e.target, out, async () => { await del("/approval-delegations"); clear(out, notice("ok", t("common.deleted"))); });
    } }, t("delegation.end")) : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await busy(event.submitter, out, async () => {
      await put("/approval-delegations", { delegate_user_id: Number(v.delegate_user_id), starts_on: v.starts_on, ends_on: v.ends_on });
      clear(out, notice("ok", t("common.saved")));
    });
  });
  const away = h("details", {}, h("summary", {}, t("delegation.title")),
    delegation && delegation.delegate ? h("p", {}, t("delegation.current", { name: delegation.delegate.name || delegation.delegate.email || delegation.delegate_user_id,
      from: delegation.starts_on, to: delegation.ends_on })) : null,
    form, out);
  clear(main, pageTitle(t("approvals.title")), tabs,
    table(t("approvals.title"), [
      { label: t("orders.number"), cell: (a) => link(`/approvals/${a.id}`, t("approvals.order", { number: a.order_number })) },
      { label: t("orders.buyer"), cell: (a) => (a.buyer ? a.buyer.name || a.buyer.email : "—") },
      { label: t("orders.total"), cell: (a) => money(a.total), num: true },
      { label: t("approvals.why"), cell: (a) => a.rule || "" },
      { label: t("orders.status"), cell: (a) => badge(t(`approvals.status.${a.status}`), a.status) },
      { label: t("approvals.received"), cell: (a) => date(a.created_at, true) },
    ], rows, { empty: t("approvals.none") }),
    section(t("delegation.title"), away));
  void navigate;
}

export async function approval({ main, params, app }) {
  const id = Number(params[0]);
  const a = await get(`/approvals/${id}`);
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  let decide = null;
  if (a.can_decide) {
    const comment = field(t("approvals.comment"), { name: "comment", rows: 3, maxlength: 2000 },
      { control: "textarea", hint: t("approvals.comment.hint") });
    const approveButton = h("button", { type: "submit", class: "primary", value: "approve" }, t("approvals.approve"));
    const rejectButton = h("button", { type: "submit", class: "danger", value: "reject" }, t("approvals.reject"));
    decide = h("form", { class: "decide", novalidate: true }, comment, out, h("div", { class: "actions" }, approveButton, rejectButton));
    decide.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = event.submitter ? event.submitter.value : "approve";
      const text = decide.elements.comment.value.trim();
      if (action === "reject" && !text) {
        clear(out, notice("error", t("approvals.comment.required")));
        decide.elements.comment.focus();
        return;
      }
      await busy(event.submitter || approveButton, out, async () => {
        await post(`/approvals/${id}/${action}`, { comment: text || null });
        announce(t(action === "approve" ? "approvals.approved" : "approvals.rejected"));
        await app.render();
        const note = document.querySelector(".decided");
        if (note) note.focus();
      });
    });
  }
  clear(main,
    h("p", {}, link("/approvals", t("approvals.back"))),
    pageTitle(t("approvals.order", { number: a.order_number }), badge(t(`approvals.status.${a.status}`), a.status)),
    a.status !== "pending" ? h("p", { class: "notice info decided", tabindex: "-1" },
      t(`approvals.is.${a.status}`), a.decided_at ? ` — ${date(a.decided_at, true)}` : "") : null,
    h("dl", { class: "facts" },
      h("dt", {}, t("orders.buyer")), h("dd", {}, a.buyer ? `${a.buyer.name || ""} ${a.buyer.email ? "<" + a.buyer.email + ">" : ""}` : "—"),
      h("dt", {}, t("orders.total")), h("dd", {}, money(a.total)),
      h("dt", {}, t("approvals.why")), h("dd", {}, a.rule || "—"),
      h("dt", {}, t("approvals.received")), h("dd", {}, date(a.created_at, true)),
      h("dt", {}, t("orders.number")), h("dd", {}, link(`/orders/${encodeURIComponent(a.order_number)}`, a.order_number))),
    decide ? section(t("approvals.decide"), decide) : null,
    section(t("orders.lines"), table(t("orders.lines"), [
      { label: t("carts.product"), cell: (l) => h("span", {}, l.name || l.part_number, h("div", { class: "muted" }, l.part_number)) },
      { label: t("carts.quantity"), cell: (l) => String(l.quantity), num: true },
      { label: t("carts.unitprice"), cell: (l) => money(l.unit_price), num: true },
      { label: t("orders.linetotal"), cell: (l) => money(l.line_total), num: true },
      { label: t("approvals.oncontract"), cell: (l) => (l.on_contract ? t("common.yes") : t("common.no")) },
    ], a.lines || [])),
    section(t("approvals.workflows"), (a.workflows || []).map((w) => h("div", { class: "workflow" },
      h("h3", {}, w.name, " ", badge(t(`approvals.status.${w.status}`), w.status)),
      h("p", {}, t("checkout.approval.why"), " ", (w.triggered_by || []).map((tr) => localized(tr.description)).join("; ")),
      h("p", {}, t("approvals.step", { step: w.step, steps: w.steps, required: w.required })),
      (w.approvers || []).length ? h("p", {}, t("approvals.approvers"), " ", w.approvers.map((p) => p.name || p.email).join(", ")) : null,
      (w.decisions || []).length ? h("ul", { class: "plain" }, w.decisions.map((d) => h("li", {},
        badge(t(`approvals.status.${d.decision}`), d.decision), " ", d.by ? d.by.name || d.by.email : "", " — ",
        date(d.at, true), d.comment ? h("q", {}, d.comment) : null))) : null))));
}

// ---------------------------------------------------------------- workflows (PAS admin)
export async function workflows({ main }) {
  const reply = await get("/approval-workflows", { limit: 200 });
  clear(main, pageTitle(t("workflows.title"), h("a", { href: "/workflows/new", class: "button-link primary" }, t("workflows.new")),
    h("a", { href: "/workflows/settings", class: "button-link secondary" }, t("settings.title"))),
    table(t("workflows.title"), [
      { label: t("workflows.name"), cell: (w) => link(`/workflows/${w.id}`, w.name) },
      { label: t("workflows.active"), cell: (w) => (w.active ? t("common.yes") : t("common.no")) },
      { label: t("workflows.rules"), cell: (w) => (w.rules || []).map(ruleText).join("; ") },
      { label: t("workflows.steps"), cell: (w) => String((w.steps || []).length), num: true },
      { label: t("workflows.version"), cell: (w) => String(w.version), num: true },
    ], reply.items, { empty: t("workflows.none") }),
    h("p", {}, h("a", { href: "/api/v1/approval-audit?format=csv", download: "approval-audit.csv" }, t("workflows.audit"))));
}

/** The company's approval settings (PAS admin): self-approval, reminder and escalation days. */
export async function settings({ main }) {
  const current = await get("/approval-settings");
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    checkbox(t("settings.self"), { name: "allow_self_approval", checked: current.allow_self_approval }),
    h("p", { class: "hint" }, t("settings.self.hint")),
    field(t("settings.reminder"), { name: "reminder_days", type: "number", min: 1, max: 60, required: true,
      value: String(current.reminder_days), inputmode: "numeric" }, { hint: t("settings.reminder.hint") }),
    field(t("settings.escalation"), { name: "escalation_days", type: "number", min: 2, max: 90, required: true,
      value: String(current.escalation_days), inputmode: "numeric" }, { hint: t("settings.escalation.hint") }),
    out, h("button", { type: "submit", class: "primary" }, t("common.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await busy(event.submitter, out, async () => {
      await put("/approval-settings", { allow_self_approval: v.allow_self_approval,
        reminder_days: Number(v.reminder_days), escalation_days: Number(v.escalation_days) });
      clear(out, notice("ok", t("common.saved")));
    });
  });
  clear(main, h("p", {}, link("/workflows", t("workflows.back"))), pageTitle(t("settings.title")), form);
}

function ruleText(r) {
  const amount = r.amount ? money(r.amount) : "";
  if (r.type === "order_total_over") return t("rule.order_total_over", { amount });
  if (r.type === "line_price_over") return t("rule.line_price_over", { amount });
  if (r.type === "catalog") return t("rule.catalog", { list: (r.catalog_ids || []).join(", ") });
  if (r.type === "category") return t("rule.category", { list: (r.categories || []).join(", ") });
  return t("rule.off_contract");
}

export async function workflow({ main, params, navigate, app }) {
  const isNew = params[0] === "new";
  const [w, company, groups] = await Promise.all([
    isNew ? Promise.resolve({ name: "", active: true, buyers: { user_ids: [], group_ids: [] }, rules: [], steps: [] })
      : get(`/approval-workflows/${params[0]}`),
    get("/company"),
    get("/company/groups", { limit: 200 }).catch(() => null),
  ]);
  const currency = company.currency || "CAD";
  const out = h("div", { class: "form-out" });
  const groupHint = groups ? t("workflows.groups.hint", { list: groups.items.map((g) => `${g.id} = ${g.name}`).join(", ") }) : t("workflows.ids.hint");
  const rule = (type) => (w.rules || []).find((r) => r.type === type) || null;
  const ruleList = (type, key) => (rule(type) ? (rule(type)[key] || []).join(", ") : "");
  const stepsText = (w.steps || []).map((s) => [`users:${(s.approvers.user_ids || []).join(",")}`,
    `groups:${(s.approvers.group_ids || []).join(",")}`, `required:${s.required}`].join(" ")).join("\n");
  const form = h("form", { novalidate: true },
    field(t("workflows.name"), { name: "name", value: w.name, required: true, maxlength: 200 }),
    checkbox(t("workflows.active"), { name: "active", checked: w.active }),
    h("fieldset", {}, h("legend", {}, t("workflows.buyers")),
      field(t("workflows.user_ids"), { name: "buyer_users", value: (w.buyers.user_ids || []).join(", ") }, { hint: t("workflows.ids.hint") }),
      field(t("workflows.group_ids"), { name: "buyer_groups", value: (w.buyers.group_ids || []).join(", ") }, { hint: groupHint })),
    h("fieldset", {}, h("legend", {}, t("workflows.rules")), h("p", { class: "hint" }, t("workflows.rules.hint")),
      field(t("rule.order_total_over.label", { currency }), { name: "order_total_over", type: "number", min: 0, step: "0.01", value: rule("order_total_over") ? rule("order_total_over").amount.amount : "" }),
      field(t("rule.line_price_over.label", { currency }), { name: "line_price_over", type: "number", min: 0, step: "0.01", value: rule("line_price_over") ? rule("line_price_over").amount.amount : "" }),
      field(t("rule.catalog.label"), { name: "catalog_ids", value: ruleList("catalog", "catalog_ids") }),
      field(t("rule.category.label"), { name: "categories", value: ruleList("category", "categories") }),
      checkbox(t("rule.off_contract"), { name: "off_contract", checked: Boolean(rule("off_contract")) })),
    field(t("workflows.steps"), { name: "steps", rows: 4, value: stepsText, spellcheck: "false" }, { control: "textarea", hint: t("workflows.steps.hint") }),
    out,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("common.save")),
      isNew ? null : h("button", { type: "button", class: "danger", onclick: async (e) => {
        if (!confirm(t("workflows.delete.confirm"))) return;
        await busy(e.target, out, async () => { await del(`/approval-workflows/${w.id}`); navigate("/workflows"); });
      } }, t("common.delete"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const rules = [];
    if (v.order_total_over) rules.push({ type: "order_total_over", amount: { amount: v.order_total_over, currency } });
    if (v.line_price_over) rules.push({ type: "line_price_over", amount: { amount: v.line_price_over, currency } });
    if (ids(v.catalog_ids).length) rules.push({ type: "catalog", catalog_ids: ids(v.catalog_ids) });
    if (v.categories) rules.push({ type: "category", categories: v.categories.split(",").map((s) => s.trim()).filter(Boolean) });
    if (v.off_contract) rules.push({ type: "off_contract" });
    const steps = v.steps.split(/\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
      const part = (name) => { const m = line.match(new RegExp(`${name}:([\\d,\\s]*)`)); return m ? ids(m[1]) : []; };
      const req = line.match(/required:(\d+)/);
      return { approvers: { user_ids: part("users"), group_ids: part("groups") }, required: req ? Number(req[1]) : 1 };
    });
    const body = { name: v.name, active: v.active, buyers: { user_ids: ids(v.buyer_users), group_ids: ids(v.buyer_groups) }, rules, steps };
    await busy(event.submitter, out, async () => {
      const saved = isNew ? await post("/approval-workflows", body) : await patch(`/approval-workflows/${w.id}`, body);
      announce(t("common.saved"));
      navigate(`/workflows/${saved.id}`);
    });
  });
  clear(main, h("p", {}, link("/workflows", t("workflows.back"))),
    pageTitle(isNew ? t("workflows.new") : w.name), form);
  void splitList; void app; void errorText;
}
