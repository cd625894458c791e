"""The Flask side of the app: request security, login/logout and downloads, the HTTP API, the server runner."""
