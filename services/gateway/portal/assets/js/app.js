// The portal's shell: the header and navigation, client-side routing with the History API,
// focus management on every page change, the language switch, and the signed-in user.
import {
  api, clear, get, h, hasSession, lang, notice, sessionCall, setLang, setSignedOutHandler, t,
  errorText,
} from "./core.js";
import * as auth from "./pages/auth.js";
import * as catalog from "./pages/catalog.js";
import * as carts from "./pages/carts.js";
import * as orders from "./pages/orders.js";
import * as approvals from "./pages/approvals.js";
import * as reports from "./pages/reports.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import * as backoffice from "./pages/backoffice.js";
import * as home from "./pages/home.js";
import * as punchout from "./pages/punchout.js";

const has = (me, kind, name) => Boolean(me && (me[kind] || []).includes(name));
const inCompany = (me) => Boolean(me && me.company_id);
const reportsRight = (me) => has(me, "features", "order_reports") || has(me, "features", "payment_reports");

// [path pattern, page, who may open it]; public pages need no session
const ROUTES = [
  [/^\/$/, home.render, inCompany],
  [/^\/login$/, auth.login, "public"],
  [/^\/forgot-password$/, auth.forgotPassword, "public"],
  [/^\/forgot-username$/, auth.forgotUsername, "public"],
  [/^\/set-password$/, auth.setPassword, "public"],
  [/^\/reset-password$/, auth.resetPassword, "public"],
  [/^\/confirm-email$/, auth.confirmEmail, "public"],
  [/^\/search$/, catalog.search, inCompany],
  [/^\/products\/(.+)$/, catalog.product, inCompany],
  [/^\/compare$/, catalog.compare, inCompany],
  [/^\/punchout$/, punchout.render, inCompany],
  [/^\/quickcart$/, carts.quickCart, inCompany],
  [/^\/carts$/, carts.list, inCompany],
  [/^\/carts\/(\d+)$/, carts.cart, inCompany],
  [/^\/checkout\/(\d+)$/, carts.checkout, inCompany],
  [/^\/quotes\/(\d+)\/order$/, carts.orderQuote, inCompany],
  [/^\/orders$/, orders.list, inCompany],
  [/^\/orders\/([^/]+)$/, orders.order, inCompany],
  [/^\/invoices$/, orders.invoices, (me) => has(me, "features", "payment_reports")],
  [/^\/subscriptions$/, orders.subscriptions, inCompany],
  [/^\/approvals$/, approvals.inbox, inCompany],
  [/^\/approvals\/(\d+)$/, approvals.approval, inCompany],
  [/^\/workflows$/, approvals.workflows, (me) => has(me, "roles", "pas_admin")],
  [/^\/workflows\/settings$/, approvals.settings, (me) => has(me, "roles", "pas_admin")],
  [/^\/workflows\/(new|\d+)$/, approvals.workflow, (me) => has(me, "roles", "pas_admin")],
  [/^\/reports$/, reports.list, reportsRight],
  [/^\/reports\/([^/]+)$/, reports.report, reportsRight],
  [/^\/assets$/, account.assets, inCompany],
  [/^\/licenses$/, account.licenses, (me) => has(me, "roles", "slt_admin") || has(me, "features", "slt_user")],
  [/^\/account(?:\/(email-preferences|payment-cards|password))?$/, account.profile, () => true],
  [/^\/company(?:\/(users|groups|catalogs|favorites))?$/, admin.render,
    (me) => ["security_admin", "catalog_admin", "eprocurement_admin"].some((r) => has(me, "roles", r))],
  [/^\/company\/users\/(\d+)$/, admin.user, (me) => has(me, "roles", "security_admin")],
  [/^\/company\/groups\/(\d+)$/, admin.group, (me) => has(me, "roles", "security_admin")],
  [/^\/company\/catalogs\/(\d+)$/, admin.catalog, (me) => has(me, "roles", "catalog_admin")],
  [/^\/backoffice(?:\/(companies|contracts|import|orders|quotes))?$/, backoffice.render, (me) => Boolean(me && me.is_staff)],
  [/^\/backoffice\/companies\/(\d+)$/, backoffice.company, (me) => Boolean(me && me.is_staff)],
  [/^\/backoffice\/companies\/(\d+)\/punchout$/, backoffice.punchout, (me) => Boolean(me && me.is_staff)],
];

export const state = { me: null };

function navItems(me) {
  if (!me) return [["/login", t("nav.signin")]];
  const items = [];
  if (inCompany(me)) {
    if (punchout.inPunchout()) items.push(["/punchout", t("nav.punchout")]);
    items.push(["/", t("nav.home")], ["/search", t("nav.catalog")], ["/quickcart", t("nav.quickcart")],
      ["/carts", t("nav.carts")], ["/orders", t("nav.orders")], ["/approvals", t("nav.approvals")]);
    if (reportsRight(me)) items.push(["/reports", t("nav.reports")]);
    if (has(me, "roles", "pas_admin")) items.push(["/workflows", t("nav.workflows")]);
    if (["security_admin", "catalog_admin", "eprocurement_admin"].some((r) => has(me, "roles", r))) {
      items.push(["/company", t("nav.company")]);
    }
    items.push(["/assets", t("nav.assets")]);
  }
  if (me.is_staff) items.push(["/backoffice", t("nav.backoffice")]);
  items.push(["/account", t("nav.account")]);
  return items;
}

function renderHeader() {
  const me = state.me;
  const top = document.getElementById("top");
  document.getElementById("skip").textContent = t("nav.skip");
  const menuId = "main-nav";
  const toggle = h("button", {
    type: "button", class: "menu-toggle", "aria-expanded": "false", "aria-controls": menuId,
    onclick: () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    },
  }, t("nav.menu"));
  const here = location.pathname;
  const nav = h("nav", { id: menuId, "aria-label": t("nav.main") },
    h("ul", {}, navItems(me).map(([href, text]) => {
      const current = href === "/" ? here === "/" : here === href || here.startsWith(href + "/");
      return h("li", {}, h("a", { href, "aria-current": current ? "page" : null }, text));
    })));
  const other = lang === "fr" ? "en" : "fr";
  const langButton = h("button", {
    type: "button", class: "lang", lang: other,
    "aria-label": other === "fr" ? "Afficher en français" : "Show in English",
    onclick: () => { setLang(other); render(); },
  }, other === "fr" ? "FR" : "EN");
  const tools = h("div", { class: "tools" }, langButton,
    me ? h("span", { class: "who" }, `${me.first_name || ""} ${me.last_name || ""}`.trim() || me.username) : null,
    me ? h("button", { type: "button", class: "link-button", onclick: signOut }, t("nav.signout")) : null);
  clear(top, h("a", { class: "brand", href: me ? (inCompany(me) ? "/" : "/backoffice") : "/login" }, "Procura"),
    toggle, nav, tools);
}

async function signOut() {
  try { await sessionCall("/portal/session/logout", {}); } catch (e) { /* cookies go anyway */ }
  state.me = null;
  navigate("/login", { replace: true });
}

export async function loadMe() {
  if (!hasSession()) { state.me = null; return null; }
  try {
    state.me = await api("GET", "/me", undefined, { retry: true });
  } catch (e) {
    state.me = null;
  }
  return state.me;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  render();
}

let renderCount = 0;
export async function render() {
  const count = ++renderCount;
  document.documentElement.lang = lang;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const query = new URLSearchParams(location.search);
  let route = null;
  let params = [];
  for (const [pattern, page, who] of ROUTES) {
    const m = path.match(pattern);
    if (m) { route = [page, who]; params = m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))); break; }
  }
  if (route && route[1] !== "public" && !state.me) await loadMe();
  if (count !== renderCount) return;
  renderHeader();
  const main = document.getElementById("main");
  if (!route) {
    clear(main, h("h1", { tabindex: "-1", id: "page-title" }, t("page.notfound")),
      h("p", {}, h("a", { href: "/" }, t("nav.home"))));
    return focusTitle();
  }
  const [page, who] = route;
  if (who !== "public") {
    if (!state.me) {
      const next = location.pathname + location.search;
      history.replaceState({}, "", "/login" + (next !== "/" ? "?next=" + encodeURIComponent(next) : ""));
      return render();
    }
    if (!who(state.me)) {
      if (path === "/" && state.me.is_staff) return navigate("/backoffice", { replace: true });
      clear(main, h("h1", { tabindex: "-1", id: "page-title" }, t("page.forbidden")),
        h("p", {}, t("page.forbidden.text")));
      return focusTitle();
    }
  }
  clear(main, h("p", { class: "loading", role: "status" }, t("common.loading")));
  // the page builds in a detached element, shown only if no later navigation started
  // meanwhile: a slow page can never overwrite the one the person moved on to
  const view = h("div", { class: "view" });
  try {
    await page({ main: view, params, query, me: state.me, navigate, app: { loadMe, render, state } });
  } catch (err) {
    clear(view, h("h1", { tabindex: "-1", id: "page-title" }, t("page.error")), notice("error", errorText(err)));
  }
  if (count !== renderCount) return;
  clear(main, view);
  focusTitle();
}

let firstRender = true;
function focusTitle() {
  // on the first load the browser's own focus is right; after a navigation, the new page's
  // title gets the focus so that screen readers announce it and Tab starts from there
  if (firstRender) { firstRender = false; return; }
  const title = document.getElementById("page-title");
  if (title) title.focus({ preventScroll: false });
  window.scrollTo(0, 0);
}

// internal links navigate in place; downloads, new tabs and modified clicks do not
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
      event.shiftKey || event.altKey) return;
  const a = event.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download") || a.dataset.external !== undefined) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") ||
      url.pathname.startsWith("/docs") || url.pathname.startsWith("/portal/")) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render());
// a session that ended (expired refresh token, password changed elsewhere, signed out in
// another tab) sends the person to sign-in, and back to this page afterwards
setSignedOutHandler(() => {
  state.me = null;
  if (location.pathname !== "/login") {
    navigate("/login?next=" + encodeURIComponent(location.pathname + location.search), { replace: true });
  }
});
setLang(lang);
render();
