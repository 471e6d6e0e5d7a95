"""Settings, example environment files and the routing map."""
