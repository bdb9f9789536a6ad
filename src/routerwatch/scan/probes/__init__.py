"""One module per probe; each has a pure parse half (tested with recorded responses) and a thin
I/O half that only sends through :class:`routerwatch.scan.guard.Guard`."""
