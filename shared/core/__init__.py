"""The core every package uses: settings, domain errors, clock, encoding, retry, outbound HTTP."""
