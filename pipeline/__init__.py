"""rbpipe: monthly consolidation of Bureaucratic Reform (RB) action-plan workbooks."""

__version__ = "0.1.0"
