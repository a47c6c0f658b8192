"""Registering a jobseeker: the form, the duplicate check as one types, districts, occupations."""
