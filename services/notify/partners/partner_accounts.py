"""Partners and their API keys (admins manage them; a partner rotates its own key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from services.notify.partners import api_keys
from services.notify.partners.models import Partner, PartnerKey, Subscription
from services.notify.partners.schemas import (
    KeyCreated,
    KeyRead,
    PartnerCreate,
    PartnerRead,
    PartnerUpdate,
)
from services.notify.partners.scopes import SCOPE_RANK, Scope
from shared.db import clock_now
from shared.problems import Conflict, NotFound, Unauthorized

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession


def partner_read(partner: Partner) -> PartnerRead:
    return PartnerRead(
        id=partner.id,
        code=partner.code,
        name=partner.name,
        category=partner.category,
        max_scope=Scope(partner.max_scope),
        active=partner.active,
        created_at=partner.created_at,
    )


def key_read(key: PartnerKey) -> KeyRead:
    return KeyRead(
        id=key.id, prefix=key.prefix, created_at=key.created_at, revoked_at=key.revoked_at
    )


async def create_partner(
    session: AsyncSession, data: PartnerCreate, created_by: str
) -> tuple[Partner, KeyCreated]:
    """A partner and its first API key (the key is in the answer only)."""
    if await session.scalar(select(Partner.id).where(Partner.code == data.code)) is not None:
        raise Conflict(f"a partner with code {data.code} exists")
    partner = Partner(
        code=data.code,
        name=data.name,
        category=data.category,
        max_scope=data.max_scope.value,
        active=True,
        created_by=created_by,
        created_at=await clock_now(session),
    )
    session.add(partner)
    await session.flush()
    return partner, await issue_key(session, partner, created_by)


async def list_partners(session: AsyncSession) -> list[Partner]:
    return list((await session.scalars(select(Partner).order_by(Partner.code))).all())


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


async def update_partner(
    session: AsyncSession, partner_id: uuid.UUID, data: PartnerUpdate
) -> Partner:
    partner = await get_partner(session, partner_id)
    if data.name is not None:
        partner.name = data.name
    if data.category is not None:
        partner.category = data.category
    if data.active is not None:
        partner.active = data.active
    if data.max_scope is not None:
        partner.max_scope = data.max_scope.value
        # Subscriptions wider than the new limit are narrowed to it.
        wider = [s for s in Scope if SCOPE_RANK[s] > SCOPE_RANK[data.max_scope]]
        await session.execute(
            update(Subscription)
            .where(Subscription.partner_id == partner.id, Subscription.scope.in_(wider))
            .values(scope=data.max_scope.value)
        )
    await session.flush()
    return partner


async def issue_key(session: AsyncSession, partner: Partner, created_by: str) -> KeyCreated:
    new = api_keys.new_api_key()
    key = PartnerKey(
        partner_id=partner.id,
        prefix=new.prefix,
        digest=new.digest,
        created_by=created_by,
        created_at=await clock_now(session),
    )
    session.add(key)
    await session.flush()
    return KeyCreated(**key_read(key).model_dump(), api_key=new.key)


async def rotate_keys(session: AsyncSession, partner: Partner, created_by: str) -> KeyCreated:
    """A new key; every other key of the partner stops working now."""
    await session.execute(
        update(PartnerKey)
        .where(PartnerKey.partner_id == partner.id, PartnerKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return await issue_key(session, partner, created_by)


async def list_keys(session: AsyncSession, partner_id: uuid.UUID) -> list[PartnerKey]:
    await get_partner(session, partner_id)
    found = await session.scalars(
        select(PartnerKey)
        .where(PartnerKey.partner_id == partner_id)
        .order_by(PartnerKey.created_at)
    )
    return list(found.all())


async def revoke_key(session: AsyncSession, partner_id: uuid.UUID, key_id: uuid.UUID) -> PartnerKey:
    key = await session.get(PartnerKey, key_id)
    if key is None or key.partner_id != partner_id:
        raise NotFound(f"no key {key_id} of partner {partner_id}")
    if key.revoked_at is None:
        key.revoked_at = await clock_now(session)
    return key


async def authenticate(session: AsyncSession, api_key: str) -> Partner:
    """The active partner a live key belongs to; 401 for anything else."""
    partner = await session.scalar(
        select(Partner)
        .join(PartnerKey, PartnerKey.partner_id == Partner.id)
        .where(
            PartnerKey.digest == api_keys.key_digest(api_key),
            PartnerKey.revoked_at.is_(None),
            Partner.active.is_(True),
        )
    )
    if partner is None:
        raise Unauthorized("unknown, revoked or inactive partner API key")
    return partner
