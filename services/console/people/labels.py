"""How the registry's codes read for an officer (translated where shown)."""

from __future__ import annotations

from services.console.i18n import N_

JOBSEEKER_STATUS = {
    "active": N_("Looking for work"),
    "referred": N_("Referred to a job"),
    "placed": N_("In work"),
    "inactive": N_("Not looking now"),
}
SEX = {"female": N_("Female"), "male": N_("Male"), "other": N_("Other")}
AGE_BANDS = ("15-24", "25-34", "35-44", "45-54", "55-64", "65+")
MIGRATION_STATUS = {
    "prospective": N_("Thinking of going abroad"),
    "ready": N_("Ready to leave"),
    "departed": N_("Left the country"),
    "abroad": N_("Working abroad"),
    "returned": N_("Came back"),
    "cancelled": N_("Migration cancelled"),
}
# What an officer can do about someone on an identity card (the registry's `actions`).
CARD_ACTIONS = {
    "open": N_("Open this person"),
    "record_visit": N_("Record a visit at your office (on the person's page)"),
    "take_over": N_("Take the record over: the person moved here (on the person's page)"),
}
REFERRAL_STATUS = {
    "referred": N_("Referred"),
    "interviewed": N_("Interviewed"),
    "offered": N_("Offered the job"),
}
