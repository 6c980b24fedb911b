"""People other services look up in the caller's company: approvers and other recipients,
the groups a buyer belongs to, the holders of a role."""
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.paging import MAX_ID
from services.identity.models import Group, GroupMember, GroupRight, User, UserRight


def people(session, ctx: CallerContext, user_ids=(), group_ids=()) -> list:
    """Active users of the caller's company, by id or through their groups."""
    ids = {int(i) for i in user_ids or ()}
    if group_ids:
        ids |= set(session.scalars(
            select(GroupMember.user_id).join(Group, Group.id == GroupMember.group_id)
            .where(Group.company_id == ctx.company_id,
                   Group.id.in_([int(g) for g in group_ids]))).all())
    if not ids:
        return []
    return session.scalars(select(User).where(User.id.in_(ids), User.company_id == ctx.company_id,
                                              User.status == "active").order_by(User.id)).all()


def company_group_ids(session, ctx: CallerContext, group_ids) -> list:
    """Those of `group_ids` that are groups of the caller's company."""
    wanted = [int(g) for g in group_ids or () if 0 < int(g) <= MAX_ID]
    if not wanted:
        return []
    return list(session.scalars(select(Group.id).where(
        Group.company_id == ctx.company_id, Group.id.in_(wanted)).order_by(Group.id)).all())


def group_ids_of(session, ctx: CallerContext, user_id) -> list:
    """The ids of the groups a user of the caller's company belongs to (approval workflows
    name buyers and approvers by group)."""
    return list(session.scalars(
        select(GroupMember.group_id).join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id == int(user_id), Group.company_id == ctx.company_id)
        .order_by(GroupMember.group_id)).all())


def people_with_role(session, ctx: CallerContext, role: str) -> list:
    """Active users of the caller's company holding `role` themselves or through a group
    (e.g. the PAS admins an approval escalates to)."""
    own = select(UserRight.user_id).where(UserRight.kind == "role", UserRight.value == role)
    via_groups = (select(GroupMember.user_id)
                  .join(GroupRight, GroupRight.group_id == GroupMember.group_id)
                  .where(GroupRight.kind == "role", GroupRight.value == role))
    return session.scalars(select(User).where(User.company_id == ctx.company_id,
                                              User.status == "active",
                                              User.id.in_(own.union(via_groups)))
                           .order_by(User.id)).all()
