"""Scheduling: signed HL7 SIU messages received, queued and applied to appointments; confirmation texts; the reminder
index and its minute tick; phone number retention."""
