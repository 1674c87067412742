"""``python -m local`` (``make run``): the whole helpdesk on this machine, on embedded moto."""

from __future__ import annotations

from local.runner import main

raise SystemExit(main())
