"""Tests that run the registry-free stand-in images on a real Docker engine."""
