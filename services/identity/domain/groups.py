"""A company's groups and their rights. Every company has the standard groups (which cannot
be deleted); custom groups may be added. Changing a group's rights revokes the tokens of
the members whose rights really change."""
from dataclasses import dataclass

from sqlalchemy import func, select

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Conflict, Invalid
from services.common.paging import keyset_page
from services.common.tenancy import company_row
from services.identity.domain.revocations import revoke_if_rights_changed
from services.identity.grants import STANDARD_GROUPS
from services.identity.models import Company, Group


def create_standard_groups(session, company: Company) -> dict:
    groups = {}
    for key, spec in STANDARD_GROUPS.items():
        group = Group(company_id=company.id, key=key, name=spec["name"], standard=True,
                      created_at=utcnow())
        group.set_grants(roles=spec["roles"], features=spec["features"], catalog_ids=())
        session.add(group)
        groups[key] = group
    session.flush()
    return groups


def resolve_groups(session, company_id, refs) -> list:
    """Groups by id or by key, all of this company; 422 for any other."""
    groups, unknown = [], []
    for ref in refs or ():
        by = Group.id if isinstance(ref, int) and not isinstance(ref, bool) else Group.key
        group = session.scalar(select(Group).where(by == (ref if by is Group.id else str(ref)),
                                                   Group.company_id == company_id))
        if group is None:
            unknown.append(ref)
        elif group not in groups:
            groups.append(group)
    if unknown:
        raise Invalid("unknown group", code="unknown_group",
                      errors={"groups": [f"Unknown group: {ref}." for ref in unknown]})
    return groups


def company_group(session, ctx: CallerContext, group_id) -> Group:
    return company_row(session, ctx, Group, group_id, "group", code="not_found")


def list_groups(session, ctx: CallerContext, limit=50, cursor=None):
    """(groups, next_cursor) of the caller's company."""
    return keyset_page(session, select(Group).where(Group.company_id == ctx.company_id),
                       Group.id, limit, cursor)


def _check_group_name(session, company_id, name, key=None, exclude_id=None):
    same_name = select(Group.id).where(Group.company_id == company_id,
                                       func.lower(Group.name) == name.lower())
    if exclude_id is not None:
        same_name = same_name.where(Group.id != exclude_id)
    if session.scalar(same_name) is not None:
        raise Conflict("a group has this name", code="group_name_taken",
                       errors={"name": ["Already used by another group."]})
    if key is not None:
        if key in STANDARD_GROUPS or session.scalar(
                select(Group.id).where(Group.company_id == company_id, Group.key == key)):
            raise Conflict("a group has this key", code="group_key_taken",
                           errors={"key": ["Already used by another group."]})


def create_group(session, ctx: CallerContext, data: dict) -> Group:
    name = data["name"].strip()
    key = data.get("key")
    _check_group_name(session, ctx.company_id, name, key)
    group = Group(company_id=ctx.company_id, key=key, name=name, standard=False,
                  created_at=utcnow())
    group.set_grants(roles=data.get("roles") or (), features=data.get("features") or (),
                     catalog_ids=data.get("catalog_ids") or ())
    session.add(group)
    session.flush()
    return group


@dataclass
class _Members:
    """A group's members and their rights before a change."""
    users: list
    before: dict

    @classmethod
    def of(cls, group: Group):
        return cls(list(group.members), {u.id: u.effective for u in group.members})


def update_group(session, ctx: CallerContext, group_id, changes: dict, now=None) -> Group:
    group = company_group(session, ctx, group_id)
    if "key" in changes and changes["key"] != group.key:
        raise Invalid("the key of a group cannot be changed", errors={"key": ["Read-only."]})
    members = _Members.of(group)
    if "name" in changes:
        name = changes["name"].strip()
        _check_group_name(session, ctx.company_id, name, exclude_id=group.id)
        group.name = name
    group.set_grants(roles=changes.get("roles"), features=changes.get("features"),
                     catalog_ids=changes.get("catalog_ids"))
    session.flush()
    revoke_if_rights_changed(session, members.users, members.before, now)
    return group


def delete_group(session, ctx: CallerContext, group_id, now=None):
    group = company_group(session, ctx, group_id)
    if group.standard:
        raise Conflict("standard groups cannot be deleted", code="standard_group")
    members = _Members.of(group)
    for user in members.users:
        user.groups.remove(group)
    session.delete(group)
    session.flush()
    revoke_if_rights_changed(session, members.users, members.before, now)
