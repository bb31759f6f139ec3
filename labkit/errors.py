"""Errors the lab raises: each says what went wrong and how to fix it."""

from __future__ import annotations


class LabError(Exception):
    """A problem the learner can act on: ``problem`` says what, ``fix`` says how."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem)

    def __str__(self) -> str:
        if self.fix:
            return f"{self.problem}\nFix: {self.fix}"
        return self.problem


class BinaryNotFound(LabError):
    """No usable ``vault`` or ``bao`` binary."""


class PortBusy(LabError):
    """A loopback port the lab needs is taken."""


class WorkspaceError(LabError):
    """The lab folder cannot be used (not writable, corrupt, owned by another lab)."""


class ServerStartError(LabError):
    """The server process exited or never became ready."""


class FeatureUnavailable(LabError):
    """The server flavour or version cannot do what was asked."""


class LabNotFound(LabError):
    """No lab by that name."""


class CheckFailed(LabError):
    """A notebook check cell found something wrong."""
