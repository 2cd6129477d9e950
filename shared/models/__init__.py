"""Pydantic models: stored rows, API bodies (XCreate / XUpdate / XPublic) and queue message schemas."""
