"""Domain services: plain async functions that own their transaction and raise DomainError."""


class DomainError(Exception):
    """A rule said no; the caller shows a translated message for it."""
