"""Notifications: an outbox written in the same transaction as the case event, delivered to signed webhooks.

Modules: ``models`` (webhook, notification, delivery tables), ``settings`` (``GEOGRID_NOTIFY_*``), ``outbox``
(``emit``: the notification and one pending delivery per active webhook, in the caller's transaction), ``signing``
(HMAC-SHA256 of the body), ``worker`` (claims due deliveries with ``FOR UPDATE SKIP LOCKED``, posts, retries with
backoff, dead-letters after the last attempt).
"""
