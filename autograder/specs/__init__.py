"""Verified checks, one module per assignment (see autograder/parts.py)."""
