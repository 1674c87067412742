"""Notifications: which changes tell whom (``rules``), and the messages they become
(``templates``). Sending, idempotency and the delivery log come with the rest of the
notifications issue."""
