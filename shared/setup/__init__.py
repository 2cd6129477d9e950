"""Setting up an organisation: organisation, FHIR endpoints, approval by EHR sign-in, integration records, HL7 signing
certificates, audit log."""
