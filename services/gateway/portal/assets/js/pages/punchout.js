// Punch-out mode: the buyer came from their company's procurement system (cXML PunchOut or
// OCI). The session has a cart of its own, which "Add to cart" fills; "Transfer cart" ends
// the session and hands the cart back (the handoff page posts it to the procurement system).
// An inspect session shows the lines it was given and returns them unchanged.
import {
  ApiError, busy, clear, get, h, link, money, notice, pageTitle, post, section, t, table,
} from "../core.js";

const CURRENT = "procura.cart";

export const inPunchout = () => document.cookie.split("; ").some((c) => c.startsWith("procura_punchout_mode="));

export async function render({ main }) {
  let session;
  try {
    session = await get("/punchout/session");
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      clear(main, pageTitle(t("po.title")), notice("info", t("po.none")));
      return;
    }
    throw err;
  }
  if (session.cart_id) localStorage.setItem(CURRENT, String(session.cart_id));
  const out = h("div", { class: "form-out", "aria-live": "polite" });
  const host = session.return_host;
  const transfer = h("button", { type: "button", class: "primary", id: "punchout-transfer" },
    session.read_only ? t("po.return", { host }) : t("po.transfer", { host }));
  transfer.addEventListener("click", async () => {
    await busy(transfer, out, async () => {
      const done = await post("/punchout/session/transfer", {});
      location.assign(done.handoff_url);
    });
  });

  let lines;
  if (session.read_only) {
    lines = table(t("po.lines"), [
      { label: t("po.part"), cell: (l) => l.part_number },
      { label: t("po.description"), cell: (l) => l.description || "" },
      { label: t("po.quantity"), cell: (l) => l.quantity, num: true },
      { label: t("po.price"), cell: (l) => (l.unit_price ? money({ amount: l.unit_price, currency: l.currency }) : "—"), num: true },
    ], session.items, { empty: t("po.empty") });
  } else {
    const cart = await get(`/carts/${session.cart_id}`);
    lines = h("div", {},
      table(t("po.lines"), [
        { label: t("po.part"), cell: (l) => [link(`/products/${encodeURIComponent(l.part_number)}`, l.name || l.part_number),
          h("div", { class: "muted" }, l.part_number)] },
        { label: t("po.quantity"), cell: (l) => String(l.quantity), num: true },
        { label: t("po.price"), cell: (l) => money(l.unit_price), num: true },
      ], cart.lines, { empty: t("po.empty") }),
      cart.totals ? h("p", { class: "total" }, t("po.total"), " ", h("strong", {}, money(cart.totals.total || cart.totals.subtotal))) : null,
      h("p", {}, link("/search", t("po.browse")), " · ", link(`/carts/${cart.id}`, t("po.editcart"))));
  }
  clear(main, pageTitle(t("po.title")),
    notice("info", session.read_only ? t("po.inspect", { host }) : t("po.intro", { host })),
    section(session.read_only ? t("po.given") : t("po.cart"), lines),
    h("div", { class: "actions" }, transfer), out);
}
