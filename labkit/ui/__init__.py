"""Widgets and pictures, each with a static fallback for headless runs and HTML."""
