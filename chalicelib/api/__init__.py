"""HTTP surfaces: one blueprint module per part of the admin JSON API."""
