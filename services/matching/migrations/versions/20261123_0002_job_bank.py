"""Matching's own tables: employers, agencies and their supervision, vacancies with name lists
and recruitment costs, the candidate read model, referrals and placements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "referral_status_changes",
    "placements",
    "name_list_entries",
    "referrals",
    "recruitment_costs",
    "vacancies",
    "candidate_orientations",
    "agency_status_changes",
    "agency_complaints",
    "employers",
    "candidates",
    "agencies",
)


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('licence_number', sa.String(length=50), nullable=False),
    sa.Column('licence_issued_on', sa.Date(), nullable=False),
    sa.Column('licence_expires_on', sa.Date(), nullable=False),
    sa.Column('destinations', postgresql.ARRAY(sa.String(length=2)), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_on', sa.Date(), nullable=True),
    sa.Column('expiry_applied_on', sa.Date(), nullable=True),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('active', 'suspended', 'revoked')", name=op.f('ck_agencies_status')),
    sa.CheckConstraint('licence_expires_on > licence_issued_on', name=op.f('ck_agencies_licence_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code')),
    sa.UniqueConstraint('licence_number', name=op.f('uq_agencies_licence_number'))
    )
    op.create_table('candidates',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('display_name', sa.String(length=210), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('isced_level', sa.SmallInteger(), nullable=True),
    sa.Column('skills', postgresql.ARRAY(sa.String(length=100)), server_default='{}', nullable=False),
    sa.Column('languages', postgresql.ARRAY(sa.String(length=3)), server_default='{}', nullable=False),
    sa.Column('experience', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('desired_occupations', postgresql.ARRAY(sa.String(length=4)), server_default='{}', nullable=False),
    sa.Column('preferred_provinces', postgresql.ARRAY(sa.String(length=6)), server_default='{}', nullable=False),
    sa.Column('willing_abroad', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('abroad_countries', postgresql.ARRAY(sa.String(length=2)), server_default='{}', nullable=False),
    sa.Column('match_keys', postgresql.ARRAY(sa.String(length=16)), server_default='{}', nullable=False),
    sa.Column('jobseeker_status', sa.String(length=10), nullable=True),
    sa.Column('migration_status', sa.String(length=12), nullable=True),
    sa.Column('consent_job_matching', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('consent_expires_on', sa.Date(), nullable=True),
    sa.Column('consent_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('passport_expires_on', sa.Date(), nullable=True),
    sa.Column('eligible', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('record_status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.Column('record_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_candidates'))
    )
    op.create_index('ix_candidates_all_match_keys', 'candidates', ['match_keys'], unique=False, postgresql_using='gin')
    op.create_index('ix_candidates_match_keys', 'candidates', ['match_keys'], unique=False, postgresql_using='gin', postgresql_where=sa.text('eligible'))
    op.create_table('employers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registration_number', sa.String(length=50), nullable=False),
    sa.Column('isic_section', sa.String(length=1), nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('registration_number', name=op.f('uq_employers_registration_number'))
    )
    op.create_index('ix_employers_province_name', 'employers', ['province_code', 'name'], unique=False)
    op.create_table('agency_complaints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=15), server_default='open', nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'investigating', 'upheld', 'dismissed')", name=op.f('ck_agency_complaints_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_complaints_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_complaints'))
    )
    op.create_index('ix_agency_complaints_agency', 'agency_complaints', ['agency_id', 'received_on'], unique=False)
    op.create_table('agency_status_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('previous_status', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_status_changes_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_status_changes'))
    )
    op.create_index('ix_agency_status_changes_agency', 'agency_status_changes', ['agency_id', 'changed_at'], unique=False)
    op.create_table('candidate_orientations',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('certificate_number', sa.String(length=40), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['candidates.person_id'], name=op.f('fk_candidate_orientations_person_id_candidates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'destination_country', name=op.f('pk_candidate_orientations'))
    )
    op.create_table('vacancies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='draft', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('isco08', sa.String(length=4), nullable=False),
    sa.Column('match_keys', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('employer_id', sa.Uuid(), nullable=True),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('destination_country', sa.String(length=2), nullable=True),
    sa.Column('foreign_employer', sa.String(length=200), nullable=True),
    sa.Column('demand_letter_ref', sa.String(length=100), nullable=True),
    sa.Column('channel', sa.String(length=15), nullable=True),
    sa.Column('required_skills', postgresql.ARRAY(sa.String(length=100)), server_default='{}', nullable=False),
    sa.Column('min_isced', sa.SmallInteger(), nullable=True),
    sa.Column('min_experience_years', sa.Numeric(precision=4, scale=1), server_default='0', nullable=False),
    sa.Column('languages', postgresql.ARRAY(sa.String(length=3)), server_default='{}', nullable=False),
    sa.Column('min_age', sa.SmallInteger(), nullable=False),
    sa.Column('max_age', sa.SmallInteger(), nullable=True),
    sa.Column('positions', sa.Integer(), nullable=False),
    sa.Column('open_positions', sa.Integer(), nullable=False),
    sa.Column('wage_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('wage_currency', sa.String(length=3), nullable=False),
    sa.Column('wage_period', sa.String(length=5), nullable=False),
    sa.Column('contract_months', sa.SmallInteger(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('worker_fees', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('worker_fee_total', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind = 'domestic' AND employer_id IS NOT NULL OR kind = 'overseas' AND agency_id IS NOT NULL AND destination_country IS NOT NULL", name=op.f('ck_vacancies_kind_fields')),
    sa.CheckConstraint("kind IN ('domestic', 'overseas')", name=op.f('ck_vacancies_kind')),
    sa.CheckConstraint("status IN ('draft', 'published', 'paused', 'filled', 'closed', 'expired')", name=op.f('ck_vacancies_status')),
    sa.CheckConstraint('open_positions BETWEEN 0 AND positions', name=op.f('ck_vacancies_open_positions')),
    sa.CheckConstraint('worker_fee_total = 0', name=op.f('ck_vacancies_employer_pays')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_vacancies_agency_id_agencies')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_vacancies_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacancies')),
    sa.UniqueConstraint('reference', name=op.f('uq_vacancies_reference'))
    )
    op.create_index('ix_vacancies_agency', 'vacancies', ['agency_id', 'status'], unique=False)
    op.create_index('ix_vacancies_closes_on', 'vacancies', ['closes_on'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_vacancies_employer', 'vacancies', ['employer_id'], unique=False)
    op.create_index('ix_vacancies_open_match_keys', 'vacancies', ['match_keys'], unique=False, postgresql_using='gin', postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_vacancies_province_created', 'vacancies', ['province_code', 'created_at', 'id'], unique=False)
    op.create_table('recruitment_costs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('vacancy_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('item', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_by', sa.String(length=10), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("paid_by IN ('employer', 'agency', 'worker')", name=op.f('ck_recruitment_costs_paid_by')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_recruitment_costs_amount')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_recruitment_costs_agency_id_agencies')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_recruitment_costs_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recruitment_costs'))
    )
    op.create_index('ix_recruitment_costs_agency_worker_paid', 'recruitment_costs', ['agency_id'], unique=False, postgresql_where=sa.text("paid_by = 'worker'"))
    op.create_index('ix_recruitment_costs_vacancy_person', 'recruitment_costs', ['vacancy_id', 'person_id'], unique=False)
    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('vacancy_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='referred', nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('person_province_code', sa.String(length=6), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('overseas', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('referred_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('referred', 'interviewed', 'offered', 'placed', 'rejected', 'withdrawn', 'no_show')", name=op.f('ck_referrals_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_referrals_agency_id_agencies')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_referrals_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    op.create_index('ix_referrals_person', 'referrals', ['person_id', 'created_at'], unique=False)
    op.create_index('ix_referrals_province', 'referrals', ['province_code', 'created_at'], unique=False)
    op.create_index('ix_referrals_vacancy', 'referrals', ['vacancy_id', 'created_at'], unique=False)
    op.create_index('uq_referrals_open_vacancy_person', 'referrals', ['vacancy_id', 'person_id'], unique=True, postgresql_where=sa.text("status IN ('referred', 'interviewed', 'offered')"))
    op.create_table('name_list_entries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('vacancy_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='selected', nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('selected', 'withdrawn')", name=op.f('ck_name_list_entries_status')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_name_list_entries_referral_id_referrals')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_name_list_entries_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_name_list_entries')),
    sa.UniqueConstraint('vacancy_id', 'person_id', name='uq_name_list_entries_vacancy_person')
    )
    op.create_table('placements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('vacancy_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=6), server_default='active', nullable=False),
    sa.Column('overseas', sa.Boolean(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('placed_by', sa.String(length=100), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'ended')", name=op.f('ck_placements_status')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_placements_referral_id_referrals')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_placements_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_placements_referral_id'))
    )
    op.create_index('ix_placements_vacancy', 'placements', ['vacancy_id'], unique=False)
    op.create_index('uq_placements_active_person', 'placements', ['person_id'], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_table('referral_status_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('previous_status', sa.String(length=12), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_status_changes_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_status_changes'))
    )
    op.create_index('ix_referral_status_changes_referral', 'referral_status_changes', ['referral_id', 'changed_at'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
