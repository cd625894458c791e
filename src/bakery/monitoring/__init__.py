"""Monitoring: what the system checks about itself every night, and how a person is told.

`alerts` is the alert itself, `channels` delivers it (SMTP, a JSON webhook), `notify` applies the cooldown,
delivers and records every alert in ops.alerts with its delivery status, `config` reads conf/monitoring.yml.
"""
