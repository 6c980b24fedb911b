// The handoff page of a punch-out (services/gateway/routes/punchout.py): post the cart to the
// buyer's procurement system as soon as the page is there. Without scripts, its button does.
const form = document.getElementById("punchout-return");
if (form) form.submit();
