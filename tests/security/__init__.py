"""Attacks, one module per trust boundary, each written as the attacker's requests through the HTTP surface."""
