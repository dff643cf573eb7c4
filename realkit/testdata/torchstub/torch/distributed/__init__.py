"""Test stand-in: see run.py."""
