"""The full labour bank: person record, documents, offices, jobseeker profiles, referrals,
audit trail, bulk imports, return reminders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'::jsonb")

# The office register as a new database starts it (frozen: a revision imports no live code,
# which moves on; the live list is shared/reference/offices.py, whose later changes reach
# existing databases only through a revision of their own): code, kind, province, English name.
SEED_OFFICES = [
    ("ESC-AT", "esc", "LA-AT", "Employment Service Centre, Attapeu"),
    ("ESC-BK", "esc", "LA-BK", "Employment Service Centre, Bokeo"),
    ("ESC-BL", "esc", "LA-BL", "Employment Service Centre, Bolikhamxay"),
    ("ESC-CH", "esc", "LA-CH", "Employment Service Centre, Champasak"),
    ("ESC-HO", "esc", "LA-HO", "Employment Service Centre, Houaphanh"),
    ("ESC-KH", "esc", "LA-KH", "Employment Service Centre, Khammouane"),
    ("ESC-LM", "esc", "LA-LM", "Employment Service Centre, Luang Namtha"),
    ("ESC-LP", "esc", "LA-LP", "Employment Service Centre, Luang Prabang"),
    ("ESC-OU", "esc", "LA-OU", "Employment Service Centre, Oudomxay"),
    ("ESC-PH", "esc", "LA-PH", "Employment Service Centre, Phongsaly"),
    ("ESC-SL", "esc", "LA-SL", "Employment Service Centre, Salavan"),
    ("ESC-SV", "esc", "LA-SV", "Employment Service Centre, Savannakhet"),
    ("ESC-VI", "esc", "LA-VI", "Employment Service Centre, Vientiane Province"),
    ("ESC-VT", "esc", "LA-VT", "Employment Service Centre, Vientiane Capital"),
    ("ESC-XA", "esc", "LA-XA", "Employment Service Centre, Xayaboury"),
    ("ESC-XE", "esc", "LA-XE", "Employment Service Centre, Sekong"),
    ("ESC-XI", "esc", "LA-XI", "Employment Service Centre, Xiangkhouang"),
    ("ESC-XS", "esc", "LA-XS", "Employment Service Centre, Xaisomboun"),
    ("MRC-BK", "mrc", "LA-BK", "Migrant Resource Centre, Bokeo"),
    ("MRC-CH", "mrc", "LA-CH", "Migrant Resource Centre, Champasak"),
    ("MRC-LP", "mrc", "LA-LP", "Migrant Resource Centre, Luang Prabang"),
    ("MRC-SV", "mrc", "LA-SV", "Migrant Resource Centre, Savannakhet"),
    ("MRC-VT", "mrc", "LA-VT", "LFTU Skills Development Institute, Vientiane Capital"),
]


def upgrade() -> None:
    offices = op.create_table(
        "offices",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("active", sa.Boolean, server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('esc', 'mrc')", name="kind"),
    )
    op.bulk_insert(
        offices,
        [
            {"code": code, "kind": kind, "province_code": province, "name": name}
            for code, kind, province, name in SEED_OFFICES
        ],
    )

    # The person record grows to the whole registration form.
    op.drop_constraint("a_name", "people", type_="check")
    op.drop_index("ix_people_province_code", "people")
    op.alter_column("people", "date_of_birth", nullable=True)
    for column in (
        sa.Column("birth_year", sa.SmallInteger),
        sa.Column("email", sa.String(254)),
        sa.Column("ethnicity", sa.String(30)),
        sa.Column("disability", JSONB),
        sa.Column("has_disability", sa.Boolean),
        sa.Column("district", sa.String(100)),
        sa.Column("village", sa.String(100)),
        sa.Column("isced_level", sa.SmallInteger),
        sa.Column("skills", JSONB, server_default=EMPTY_LIST, nullable=False),
        sa.Column("certificates", JSONB, server_default=EMPTY_LIST, nullable=False),
        sa.Column("languages", JSONB, server_default=EMPTY_LIST, nullable=False),
        sa.Column("experience", JSONB, server_default=EMPTY_LIST, nullable=False),
        sa.Column("name_tokens", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("occupation_codes", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("jobseeker_status", sa.String(10)),
        sa.Column("migration_status", sa.String(20)),
        sa.Column("duplicate_override", JSONB),
        sa.Column("record_status", sa.String(10), server_default="active", nullable=False),
        sa.Column("merged_into", sa.Uuid, sa.ForeignKey("people.id", name="fk_people_merged_into_people")),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ):
        op.add_column("people", column)
    op.execute("UPDATE people SET birth_year = extract(year FROM date_of_birth)")
    op.alter_column("people", "birth_year", nullable=False)
    op.create_check_constraint(
        "a_name",
        "people",
        "record_status <> 'active' OR given_name_lo IS NOT NULL OR given_name_en IS NOT NULL",
    )
    op.create_check_constraint(
        "record_status", "people", "record_status IN ('active', 'merged', 'erased')"
    )
    op.create_check_constraint(
        "born_if_active", "people", "record_status <> 'active' OR date_of_birth IS NOT NULL"
    )
    list_filters = ["sex", "jobseeker_status", "date_of_birth"]
    op.create_index(
        "ix_people_province_list",
        "people",
        ["province_code", "created_at", "id", *list_filters],
        postgresql_where=sa.text("record_status = 'active'"),
    )
    op.create_index(
        "ix_people_list",
        "people",
        ["created_at", "id", *list_filters],
        postgresql_where=sa.text("record_status = 'active'"),
    )
    op.create_index("ix_people_office_created", "people", ["office_code", "created_at", "id"])
    op.create_index("ix_people_date_of_birth", "people", ["date_of_birth"])
    op.create_index("ix_people_phone", "people", ["phone"])
    op.create_index("ix_people_name_tokens", "people", ["name_tokens"], postgresql_using="gin")
    op.create_index(
        "ix_people_occupation_codes", "people", ["occupation_codes"], postgresql_using="gin"
    )

    op.create_table(
        "identity_documents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("issued_on", sa.Date),
        sa.Column("expires_on", sa.Date),
        sa.UniqueConstraint("kind", "country", "number", name="uq_identity_documents_number"),
        sa.CheckConstraint("kind IN ('national_id', 'family_book', 'passport')", name="kind"),
    )
    op.create_index("ix_identity_documents_person_id", "identity_documents", ["person_id"])

    op.create_table(
        "jobseeker_profiles",
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("desired_occupations", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("preferred_provinces", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("willing_to_work_abroad", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("abroad_countries", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("availability", sa.String(12)),
        sa.Column("available_from", sa.Date),
        sa.Column("status_reason", sa.String(200)),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'referred', 'placed', 'inactive')", name="status"),
    )
    op.create_index("ix_jobseeker_profiles_status", "jobseeker_profiles", ["status"])
    # Everyone registered before profiles existed was registered as a jobseeker.
    op.execute("INSERT INTO jobseeker_profiles (person_id, status) SELECT id, 'active' FROM people")
    op.execute("UPDATE people SET jobseeker_status = 'active'")

    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_referrals_person_id", "referrals", ["person_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.clock_timestamp(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("office_code", sa.String(20)),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("person_id", sa.Uuid),
        sa.Column("fields", ARRAY(sa.String), server_default="{}", nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("request_id", sa.String(64)),
    )
    op.create_index("ix_audit_log_person_at", "audit_log", ["person_id", "at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    # Append-only for everyone, the application's own role included: a trail that can be
    # edited proves nothing.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
        """
    )

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200)),
        sa.Column("office_code", sa.String(20)),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("summary", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_import_batches_file_sha256", "import_batches", ["file_sha256"])
    op.create_table(
        "imported_rows",
        sa.Column("row_key", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
        sa.Column("batch_id", sa.Uuid, sa.ForeignKey("import_batches.id"), nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
    )
    op.create_index("ix_imported_rows_person_id", "imported_rows", ["person_id"])

    op.add_column("migration_records", sa.Column("return_due_on", sa.Date))
    op.add_column("migration_records", sa.Column("reminded_for", sa.Date))
    op.create_index(
        "ix_migration_records_return_due_on",
        "migration_records",
        ["return_due_on"],
        postgresql_where=sa.text("status IN ('departed', 'abroad')"),
    )


def downgrade() -> None:
    op.drop_index("ix_migration_records_return_due_on", "migration_records")
    op.drop_column("migration_records", "reminded_for")
    op.drop_column("migration_records", "return_due_on")
    op.drop_table("imported_rows")
    op.drop_table("import_batches")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("referrals")
    op.drop_table("jobseeker_profiles")
    op.drop_table("identity_documents")
    for index in (
        "ix_people_occupation_codes",
        "ix_people_name_tokens",
        "ix_people_phone",
        "ix_people_date_of_birth",
        "ix_people_list",
        "ix_people_office_created",
        "ix_people_province_list",
    ):
        op.drop_index(index, "people")
    for check in ("born_if_active", "record_status", "a_name"):
        op.drop_constraint(check, "people", type_="check")
    for column in (
        "updated_at", "version", "erased_at", "merged_into", "record_status",
        "duplicate_override", "jobseeker_status", "migration_status", "occupation_codes", "name_tokens",
        "experience", "languages", "certificates", "skills", "isced_level", "village",
        "district", "has_disability", "disability", "ethnicity", "email", "birth_year",
    ):
        op.drop_column("people", column)
    op.execute("DELETE FROM people WHERE date_of_birth IS NULL")
    op.alter_column("people", "date_of_birth", nullable=False)
    op.create_check_constraint(
        "a_name", "people", "given_name_lo IS NOT NULL OR given_name_en IS NOT NULL"
    )
    op.create_index("ix_people_province_code", "people", ["province_code"])
    op.drop_table("offices")
