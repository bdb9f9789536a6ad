"""The remote-worker agent and the site sensor: outbound-only front ends of the core pipeline.

- :mod:`routerwatch.agent.gateway`: the default gateway (IPv4/IPv6) and the network identity
  (gateway MAC, SSID) from each OS's own commands, parsed from their text (pure functions).
- :mod:`routerwatch.agent.config`: the enrolled credential on disk (user-only permissions).
- :mod:`routerwatch.agent.outbox`: the bounded on-disk queue of results not yet delivered.
- :mod:`routerwatch.agent.transport`: HTTP to the fleet server (TLS: system CAs or a pinned
  certificate file).
- :mod:`routerwatch.agent.runner`: one agent round (the gateway only) and the schedule.
- :mod:`routerwatch.agent.sensor`: sensor rounds: pull the site's jobs, local scope, scan, upload.
"""
