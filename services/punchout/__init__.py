"""E-procurement: cXML PunchOut, OCI, orders from procurement systems, status back to them."""
