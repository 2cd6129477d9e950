"""Fakes of the outside systems the connector talks to, speaking their real protocols on the wire: a sandbox EHR
(SMART on FHIR, HL7v2 scheduling messages, a writeback receiver), a local sign-in issuer, and a meeting room."""
