"""Analyses: records (+ a symbolizer) in, plain JSON-able data out. No printing here."""
