"""`procura seed-demo`: the demo company, its users, a contract and a catalog, loaded once.

Writes through each service's own domain code into that service's own database (the
services need not be running), and prints the demo logins every time.
"""
import json

from services.common.config import var_dir
from services.common.engines import open_session

DEMO_PASSWORD = "Procura-demo-2026"


def seed(products=3000):
    marker = var_dir() / "demo-seeded.json"
    if marker.exists():
        summary = json.loads(marker.read_text())
    else:
        from services.approvals import demo as approvals_demo
        from services.approvals.models import Base as ApprovalsBase
        from services.catalog import demo as catalog_demo
        from services.catalog.models import Base as CatalogBase
        from services.identity import demo as identity_demo
        from services.identity.models import Base as IdentityBase

        with open_session("identity", IdentityBase) as session:
            people = identity_demo.seed(session)
            session.commit()
        with open_session("catalog", CatalogBase) as session:
            catalog = catalog_demo.seed(session, people["company_id"], products)
            session.commit()
        with open_session("approvals", ApprovalsBase) as session:
            approvals_demo.seed(session, people["company_id"], people["users"])
            session.commit()
        summary = {"company_id": people["company_id"], "users": sorted(people["users"]),
                   "sample_part_numbers": list(catalog.get("part_numbers", []))[:5]}
        marker.write_text(json.dumps(summary))
    print("Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for username in summary["users"]:
        print(f"  {username}")
    if summary.get("sample_part_numbers"):
        print("Sample part numbers: " + ", ".join(summary["sample_part_numbers"]))
    return summary
