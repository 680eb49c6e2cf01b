"""Reporters: results (plain data) in, text / JSON / HTML out. They only render."""
