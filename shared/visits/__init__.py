"""Virtual visits: the EHR launches (clinician and patient), OAuth round trips, SMS join links, visit sessions, one
meeting per appointment and the meeting providers."""
