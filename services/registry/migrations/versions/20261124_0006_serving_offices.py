"""Offices named in Lao and English; the offices serving a person of another province; the
audit trail names on what basis an office acted; documents found by their number alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The seed offices' names as shared/reference/offices.py gave them when this was written
# (frozen here: a later change of the reference must not change what this revision did).
SEED_NAMES = (
    ("ESC-AT", "ສູນບໍລິການຈັດຫາງານ ແຂວງອັດຕະປື", "Employment Service Centre, Attapeu"),
    ("ESC-BK", "ສູນບໍລິການຈັດຫາງານ ແຂວງບໍ່ແກ້ວ", "Employment Service Centre, Bokeo"),
    ("ESC-BL", "ສູນບໍລິການຈັດຫາງານ ແຂວງບໍລິຄຳໄຊ", "Employment Service Centre, Bolikhamxay"),
    ("ESC-CH", "ສູນບໍລິການຈັດຫາງານ ແຂວງຈຳປາສັກ", "Employment Service Centre, Champasak"),
    ("ESC-HO", "ສູນບໍລິການຈັດຫາງານ ແຂວງຫົວພັນ", "Employment Service Centre, Houaphanh"),
    ("ESC-KH", "ສູນບໍລິການຈັດຫາງານ ແຂວງຄຳມ່ວນ", "Employment Service Centre, Khammouane"),
    ("ESC-LM", "ສູນບໍລິການຈັດຫາງານ ແຂວງຫຼວງນ້ຳທາ", "Employment Service Centre, Luang Namtha"),
    ("ESC-LP", "ສູນບໍລິການຈັດຫາງານ ແຂວງຫຼວງພະບາງ", "Employment Service Centre, Luang Prabang"),
    ("ESC-OU", "ສູນບໍລິການຈັດຫາງານ ແຂວງອຸດົມໄຊ", "Employment Service Centre, Oudomxay"),
    ("ESC-PH", "ສູນບໍລິການຈັດຫາງານ ແຂວງຜົ້ງສາລີ", "Employment Service Centre, Phongsaly"),
    ("ESC-SL", "ສູນບໍລິການຈັດຫາງານ ແຂວງສາລະວັນ", "Employment Service Centre, Salavan"),
    ("ESC-SV", "ສູນບໍລິການຈັດຫາງານ ແຂວງສະຫວັນນະເຂດ", "Employment Service Centre, Savannakhet"),
    ("ESC-VI", "ສູນບໍລິການຈັດຫາງານ ແຂວງວຽງຈັນ", "Employment Service Centre, Vientiane Province"),
    ("ESC-VT", "ສູນບໍລິການຈັດຫາງານ ນະຄອນຫຼວງວຽງຈັນ", "Employment Service Centre, Vientiane Capital"),
    ("ESC-XA", "ສູນບໍລິການຈັດຫາງານ ແຂວງໄຊຍະບູລີ", "Employment Service Centre, Xayaboury"),
    ("ESC-XE", "ສູນບໍລິການຈັດຫາງານ ແຂວງເຊກອງ", "Employment Service Centre, Sekong"),
    ("ESC-XI", "ສູນບໍລິການຈັດຫາງານ ແຂວງຊຽງຂວາງ", "Employment Service Centre, Xiangkhouang"),
    ("ESC-XS", "ສູນບໍລິການຈັດຫາງານ ແຂວງໄຊສົມບູນ", "Employment Service Centre, Xaisomboun"),
    ("MRC-BK", "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງບໍ່ແກ້ວ", "Migrant Resource Centre, Bokeo"),
    ("MRC-CH", "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງຈຳປາສັກ", "Migrant Resource Centre, Champasak"),
    (
        "MRC-LP",
        "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງຫຼວງພະບາງ",
        "Migrant Resource Centre, Luang Prabang",
    ),
    (
        "MRC-SV",
        "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງສະຫວັນນະເຂດ",
        "Migrant Resource Centre, Savannakhet",
    ),
    (
        "MRC-VT",
        "ສະຖາບັນພັດທະນາສີມືແຮງງານ ສະຫະພັນກຳມະບານລາວ, ນະຄອນຫຼວງວຽງຈັນ",
        "LFTU Skills Development Institute, Vientiane Capital",
    ),
)


def upgrade() -> None:
    op.add_column("offices", sa.Column("name_lo", sa.String(200)))
    op.add_column("offices", sa.Column("name_en", sa.String(200)))
    names = sa.table(
        "offices",
        sa.column("code", sa.String),
        sa.column("name_lo", sa.String),
        sa.column("name_en", sa.String),
    )
    for code, lo, en in SEED_NAMES:
        op.execute(names.update().where(names.c.code == code).values(name_lo=lo, name_en=en))
    # An office an admin added has one name, as it was typed: it stands for both until an admin
    # gives the Lao one.
    op.execute("UPDATE offices SET name_lo = name WHERE name_lo IS NULL")
    op.execute("UPDATE offices SET name_en = name WHERE name_en IS NULL")
    op.alter_column("offices", "name_lo", nullable=False)
    op.alter_column("offices", "name_en", nullable=False)
    op.drop_column("offices", "name")

    op.create_table(
        "service_links",
        sa.Column(
            "person_id",
            sa.Uuid,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("office_code", sa.String(20), primary_key=True),
        sa.Column("basis", sa.String(10), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text),
        sa.CheckConstraint("basis IN ('visit', 'enrolment')", name="basis"),
    )
    op.create_index("ix_service_links_office", "service_links", ["office_code", "person_id"])

    op.add_column("audit_log", sa.Column("basis", sa.String(20)))
    # A search by document number does not know the kind or the issuing country.
    op.create_index("ix_identity_documents_by_number", "identity_documents", ["number"])


def downgrade() -> None:
    op.drop_index("ix_identity_documents_by_number", "identity_documents")
    op.drop_column("audit_log", "basis")
    op.drop_index("ix_service_links_office", "service_links")
    op.drop_table("service_links")
    op.add_column("offices", sa.Column("name", sa.String(200)))
    op.execute("UPDATE offices SET name = name_en")
    op.alter_column("offices", "name", nullable=False)
    op.drop_column("offices", "name_en")
    op.drop_column("offices", "name_lo")
