"""Browser tier: the customer portal in headless Chromium, against the real local stack."""
