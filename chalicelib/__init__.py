"""Helpdesk back end: everything the Lambda functions import besides ``app.py``."""
