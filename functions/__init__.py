"""Thin triggers: parse, call a service, render. One blueprint per file."""
