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

# -- A person's record, the registration form and the person's page --------------------------

# ISCED 2011 levels as Lao schools name them.
EDUCATION = {
    0: N_("Early childhood education"),
    1: N_("Primary school"),
    2: N_("Lower secondary school"),
    3: N_("Upper secondary school"),
    4: N_("Post-secondary vocational course"),
    5: N_("Higher diploma"),
    6: N_("Bachelor's degree"),
    7: N_("Master's degree"),
    8: N_("Doctorate"),
}
# The languages most spoken by jobseekers and asked for abroad (ISO 639 codes as stored).
LANGUAGES = {
    "lo": N_("Lao"),
    "th": N_("Thai"),
    "en": N_("English"),
    "vi": N_("Vietnamese"),
    "zh": N_("Chinese"),
    "ko": N_("Korean"),
    "ja": N_("Japanese"),
    "fr": N_("French"),
    "hmn": N_("Hmong"),
    "kjg": N_("Khmu"),
}
PROFICIENCY = {
    "basic": N_("A little"),
    "conversational": N_("Can hold a conversation"),
    "fluent": N_("Fluent"),
    "native": N_("Mother tongue"),
}
PARTNER_CATEGORIES = {
    "un_agencies": N_("United Nations agencies (such as ILO, IOM)"),
    "government": N_("Other government offices"),
    "ngos": N_("Non-governmental organisations"),
    "employers_associations": N_("Employers' associations"),
}
# How consent is given at the counter; `electronic` is the person's own, through a channel.
COUNTER_METHODS = {
    "signed": N_("Signed the form"),
    "thumbprint": N_("Thumbprint (needs a witness)"),
    "verbal": N_("Said so out loud (needs a witness)"),
}
CONSENT_METHODS = {**COUNTER_METHODS, "electronic": N_("By themselves, electronically")}
MESSAGE_LANGUAGES = {"en": N_("English"), "th": N_("Thai")}
CONSENT_PURPOSES = {
    "registration": N_("Keeping their registration"),
    "job_matching": N_("Job matching"),
    "contact_sms": N_("Messages by SMS"),
    "contact_email": N_("Messages by email"),
    "partner_sharing": N_("Sharing with a partner organisation"),
}
CONSENT_STATUSES = {
    "requested": N_("Asked, no answer yet"),
    "given": N_("Agreed"),
    "renewed": N_("Agreed again"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "expired": N_("Expired"),
    "invalidated": N_("Cancelled by an administrator"),
}
# What an officer records at the counter (an administrator's `invalidated` is not offered).
CONSENT_DECISIONS = {
    "given": N_("They agree"),
    "refused": N_("They refuse"),
    "renewed": N_("They agree again (renewal)"),
}
MIGRATION_CHANNELS = {
    "mou": N_("Lao-Thai MOU, through a licensed agency"),
    "other_regular": N_("Another regular way"),
    "irregular": N_("Irregular (as the person tells it)"),
}
RETURN_REASONS = {
    "contract_completed": N_("Contract completed"),
    "permit_ended": N_("Work permit ended"),
    "dismissed": N_("Dismissed"),
    "abuse_or_exploitation": N_("Abuse or exploitation"),
    "health": N_("Health"),
    "family": N_("Family"),
    "deported": N_("Deported"),
    "other": N_("Other"),
}
# A status change as the button that makes it reads.
JOBSEEKER_MOVES = {
    "active": N_("Looking for work again"),
    "referred": N_("Referred to a job"),
    "placed": N_("Found work through the service"),
    "inactive": N_("Not looking for work now"),
}
MIGRATION_MOVES = {
    "prospective": N_("Back to thinking of going"),
    "ready": N_("Ready to leave"),
    "departed": N_("Left the country"),
    "abroad": N_("Arrived and working abroad"),
    "returned": N_("Came back"),
    "cancelled": N_("Gave up going"),
}
MESSAGE_KINDS = {
    "welcome": N_("Welcome"),
    "welcome_migrant": N_("Welcome (migration)"),
    "referral": N_("Referral to a job"),
    "interview": N_("Interview"),
    "offer": N_("Job offer"),
    "placement_confirmed": N_("Placement confirmed"),
    "orientation_required": N_("Orientation needed"),
    "orientation_invitation": N_("Orientation invitation"),
    "orientation_waitlisted": N_("Orientation waiting list"),
    "orientation_cancelled": N_("Orientation cancelled"),
    "session_changed": N_("Orientation session changed"),
    "certificate_issued": N_("Certificate issued"),
    "return_reminder": N_("Return reminder"),
}
MESSAGE_STATUSES = {
    "queued": N_("Waiting to be sent"),
    "sending": N_("Being sent"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Not delivered"),
    "cancelled": N_("Cancelled"),
}
CHANNELS = {"sms": N_("SMS"), "email": N_("Email")}
AUDIT_ACTIONS = {
    "read": N_("Opened the record"),
    "listed": N_("Shown in a list"),
    "registered": N_("Registered"),
    "updated": N_("Changed the record"),
    "merged": N_("Merged a duplicate into it"),
    "merged_into": N_("Merged into another record"),
    "erased": N_("Erased"),
    "consent_recorded": N_("Recorded a consent"),
    "consents_read": N_("Read the consents"),
    "migration_changed": N_("Changed a migration record"),
    "migration_read": N_("Read the migration records"),
    "jobseeker_status_changed": N_("Changed the jobseeker status"),
    "duplicate_overridden": N_("Registered despite a probable duplicate"),
    "imported": N_("Imported from a file"),
    "card_shown": N_("Shown as an identity card"),
    "visit_recorded": N_("Recorded a visit"),
    "served_at": N_("Another office started serving them"),
    "transferred": N_("Took the record over"),
    "slip_printed": N_("Printed the registration slip"),
}
IMPORT_STATUSES = {
    "created": N_("Registered"),
    "already_imported": N_("Registered by an earlier upload"),
    "duplicate": N_("Already registered (same identity document)"),
    "probable_duplicate": N_("May be registered already"),
    "error": N_("Not registered: fix the row"),
}
DOCUMENT_KINDS = {
    "national_id": N_("National ID card"),
    "family_book": N_("Family book"),
    "passport": N_("Passport"),
}
