"""Secrets strong enough for production settings, for tests that build them (random values made
once for the tests; production refuses weak ones: shared/secrets.py)."""

from __future__ import annotations

JWT_SECRET = "c3075f3be6b3737b6f6c73c28b14927851f26f32c673fb22a6bd132a26ff8d27"
CERTIFICATE_KEY = "7555a4ab94d2ebcd116732ae2140631e71110c40a80ea26a300533612f99f14f"
PARTNER_PSEUDONYM_KEY = "f1398511932740ea6f82191dc70ed047444e18384fe5e32461dd299e4734ebaf"
PARTNER_WEBHOOK_KEY = "6589baa0748254aefa6f45160d80f8046f9e6690877b8459b783bb2a57e3eba5"
SMS_GATEWAY_TOKEN = "88f1cc77161f174d296f21b21517201b67b89b4a12dc54d206e4051d342795e4"
SMS_INBOUND_SECRET = "whsec_384clhlzOJ20JNWgBFsjbbA1JDU1duRBXbGvduvT3Xk="
SERVICE_TOKEN = "662bf6c0152d4cb7958d0fbab2a0d7365681b7d2710e9168699546d117a075c0"
CONSOLE_OIDC_CLIENT_SECRET = "8d7dac4767007ff0e738eddff53931e457f25204ced113ab909498b4e866f553"

# The keys every production process needs besides its database, broker and token settings.
KEYS = {
    "certificate_key": CERTIFICATE_KEY,
    "partner_pseudonym_key": PARTNER_PSEUDONYM_KEY,
    "partner_webhook_key": PARTNER_WEBHOOK_KEY,
    "service_token": SERVICE_TOKEN,
}
# The same as environment variables, for a process started by a test.
KEYS_ENV = {f"LABOURX_{name.upper()}": value for name, value in KEYS.items()}
