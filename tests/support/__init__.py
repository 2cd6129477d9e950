"""Test support: fixtures' building blocks, fake clocks and loopback stubs of services with no emulator."""
