"""The web portal (``rbpipe serve``)."""
