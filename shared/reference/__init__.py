"""Reference data from maintained libraries: provinces, countries, phone numbers."""
