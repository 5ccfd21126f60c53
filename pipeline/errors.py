"""Exceptions that mean "the tool could not run" (as opposed to bad data, which is a Problem)."""


class RunError(Exception):
    """A condition that stops a command: the message is one Indonesian sentence for the user,
    ideally saying what to do next. The CLI prints it without a traceback and exits non-zero."""
