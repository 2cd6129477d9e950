"""Meeting events and EHR writeback: call-event subscriptions, participant events, the clinician's live view, writeback
adapters (Epic, FHIR), failed writebacks."""
