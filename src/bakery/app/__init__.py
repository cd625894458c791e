"""The web application and HTTP API: Dash pages, Flask routes, auth, and read-only serving of the gold tables."""
