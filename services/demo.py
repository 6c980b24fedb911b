"""`procura seed-demo`: the demo company, its users, a contract and a catalog, loaded once.

Writes through each service's own domain code into that service's own database (the
services need not be running), and prints the demo logins every time. It refuses a
database `make run` did not create, unless told `i_know` (`--i-know`): demo logins with a
published password must never reach production.
"""
import json

from services.common.config import var_dir
from services.common.engines import open_session

DEMO_PASSWORD = "Procura-demo-2026"


def refuse_unless_local_development():
    """Exit with the reason when identity's database is not a local development one."""
    from services.identity import local_development
    from services.identity.models import Base as IdentityBase
    with open_session("identity", IdentityBase) as session:
        try:
            local_development.require(session, "seed-demo loads logins whose password is "
                                               "published")
        except local_development.NotLocalDevelopment as exc:
            raise SystemExit(f"{exc}. Nothing loaded; pass --i-know to load them anyway.")
        finally:
            session.get_bind().dispose()


def seed(products=3000, i_know=False):
    if not i_know:
        refuse_unless_local_development()
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
