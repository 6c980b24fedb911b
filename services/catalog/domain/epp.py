"""Employee purchase programs: a company's EPP prices for its members (see pricing.py)."""
from dataclasses import dataclass

from sqlalchemy import select

from services.catalog.domain.changes import company_catalog_changed
from services.catalog.domain.pricing import ReadsThrough, epp_member
from services.common.access import require_company, require_staff
from services.catalog.models import EppProgram
from services.common.clock import utc_today
from services.common.errors import Invalid, NotFound


@dataclass
class EppFor(ReadsThrough):
    """A program as one caller sees it: whether they buy at its prices; reads through to the
    program's own fields."""
    program: EppProgram
    member: bool
    _through = "program"


def get_epp(session, ctx, today=None, company_id=None) -> EppFor:
    """The caller's company's program; staff name a company."""
    if company_id is None:
        require_company(ctx)
    else:
        require_staff(ctx)
    program = session.scalar(select(EppProgram).where(
        EppProgram.company_id == (company_id or ctx.company_id)))
    if program is None:
        raise NotFound("this company has no employee purchase program", code="epp_not_found")
    return EppFor(program, epp_member(program, ctx.user_id, today or utc_today()))


def set_epp(session, ctx, company_id: int, data: dict, today=None) -> EppFor:
    """Create or replace a company's employee purchase program (staff)."""
    require_staff(ctx)
    if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        raise Invalid("a program ends after it starts", errors={"ends_on": ["Must be on or after starts_on."]})
    program = session.scalar(select(EppProgram).where(EppProgram.company_id == company_id))
    if program is None:
        program = EppProgram(company_id=company_id)
        session.add(program)
    program.name = data["name"]
    program.description = data.get("description") or ""
    program.active = bool(data.get("active", True))
    program.starts_on, program.ends_on = data.get("starts_on"), data.get("ends_on")
    program.all_users = bool(data.get("all_users", False))
    program.user_ids = sorted({int(u) for u in data.get("user_ids") or []})
    session.flush()
    company_catalog_changed(session, company_id, "epp")
    return EppFor(program, epp_member(program, ctx.user_id, today or utc_today()))
