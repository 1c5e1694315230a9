"""One router per resource, each declaring the token dependency once (health is open)."""
