"""HTML surfaces served outside ``/api``: one blueprint module per group of pages."""
