"""The supervisor and the side services it runs."""

from .supervisor import LabProcess, Lifetime, free_port, require_free_port, spawn

__all__ = ["LabProcess", "Lifetime", "free_port", "require_free_port", "spawn"]
