"""Victim architectures and wrappers for tools/export_victim.py."""
