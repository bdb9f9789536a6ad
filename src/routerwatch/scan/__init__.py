"""Safe network scanner: scope (what may be touched), guard (the only way out), scheduler and
read-only probes. Public API: :mod:`routerwatch.scan.scope` (parse_scope, Scope, ScopeError,
default_gateway, DEFAULT_PORTS) and :mod:`routerwatch.scan.scanner` (ScanOptions, scan,
scan_async)."""
