"""routerwatch: find SOHO routers, their known vulnerabilities and signs of compromise."""

__version__ = "0.1.0"
