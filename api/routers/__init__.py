"""One module per concern; each may expose ``router`` (an APIRouter) and ``setup(app)`` (start-up hooks)."""
