"""The one delivery path for every message the bot sends on its own initiative.

Features put rows in the outbox (`outbox.enqueue`, `outbox.enqueue_select`); the `Sender`
claims due rows, renders each in its recipient's current language (`kinds`), and sends it
through a `Channel` within Telegram's limits. See README, "Delivery path".
"""
