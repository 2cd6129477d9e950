"""Texts to patients: SMS settings and consents, sending a confirmation or a reminder, delivery reports and STOP/START,
phone numbers, and the SMS providers (ACS, local outbox)."""
