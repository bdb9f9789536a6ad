"""The dashboard: server-rendered pages (Jinja2 + HTMX) mounted under ``/ui`` of the fleet
server's app. See docs/dashboard.md."""
