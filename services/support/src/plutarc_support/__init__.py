"""The support service: tickets opened inside the product, their threads, operators, operator-only
internal notes (on a private topic) and auto-close after inactivity with a warning first.
See docs/support.md."""
