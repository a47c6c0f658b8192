"""Curricula of pre-departure orientation, versioned, and their modules; the default
curriculum as released (migrations/frozen/curriculum_0002.json) inserted as version 1, active,
so that every database starts with one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The default curriculum as this revision released it (frozen: a revision imports no live code,
# which moves on; the live copy is services/predeparture/curricula/default_curriculum.json).
FROZEN = Path(__file__).parents[1] / "frozen" / "curriculum_0002.json"
# The shipped version's id, fixed so every database and test can name it (live code names it
# DEFAULT_CURRICULUM_ID in services/predeparture/curricula/defaults.py).
CURRICULUM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://labourx.la/curricula/PDO/1")


def curriculum_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": CURRICULUM_ID,
        "code": doc["code"],
        "version": doc["version"],
        "title_lo": doc["title_lo"],
        "title_en": doc["title_en"],
        "completion_window_months": doc["completion_window_months"],
        "validity_months": doc["validity_months"],
        "status": "active",
        "created_by": "migration",
    }


def module_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid5(CURRICULUM_ID, module["code"]),
            "curriculum_id": CURRICULUM_ID,
            "code": module["code"],
            "position": position,
            "title_lo": module["title_lo"],
            "title_en": module["title_en"],
            "description_en": module.get("description_en"),
            "hours": Decimal(module["hours"]),
            "mandatory": module["mandatory"],
            "destinations": module["destinations"],
        }
        for position, module in enumerate(doc["modules"])
    ]


def upgrade() -> None:
    op.create_table('curricula',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_lo', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('completion_window_months', sa.SmallInteger(), nullable=False),
    sa.Column('validity_months', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='draft', nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name=op.f('ck_curricula_status')),
    sa.CheckConstraint('completion_window_months > 0', name=op.f('ck_curricula_completion_window_months')),
    sa.CheckConstraint('validity_months > 0', name=op.f('ck_curricula_validity_months')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_curricula')),
    sa.UniqueConstraint('code', 'version', name='uq_curricula_code_version')
    )
    op.create_index('uq_curricula_active', 'curricula', ['code'], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_table('curriculum_modules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('curriculum_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('title_lo', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('mandatory', sa.Boolean(), nullable=False),
    sa.Column('destinations', postgresql.ARRAY(sa.String(length=2)), server_default='{}', nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_curriculum_modules_hours')),
    sa.ForeignKeyConstraint(['curriculum_id'], ['curricula.id'], name=op.f('fk_curriculum_modules_curriculum_id_curricula')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_curriculum_modules')),
    sa.UniqueConstraint('curriculum_id', 'code', name='uq_curriculum_modules_code')
    )
    # The shipped curriculum, as data: tables of their own here so that later model changes
    # cannot change what this revision inserted.
    curricula = sa.table(
        'curricula',
        *(sa.column(c) for c in ('id', 'code', 'version', 'title_lo', 'title_en',
                                 'completion_window_months', 'validity_months', 'status',
                                 'created_by')),
    )
    modules = sa.table(
        'curriculum_modules',
        *(sa.column(c) for c in ('id', 'curriculum_id', 'code', 'position', 'title_lo',
                                 'title_en', 'description_en', 'hours', 'mandatory')),
        sa.column('destinations', postgresql.ARRAY(sa.String(2))),
    )
    doc = json.loads(FROZEN.read_text(encoding="utf-8"))
    op.bulk_insert(curricula, [curriculum_row(doc)])
    op.bulk_insert(modules, module_rows(doc))


def downgrade() -> None:
    op.drop_table('curriculum_modules')
    op.drop_index('uq_curricula_active', table_name='curricula', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('curricula')
