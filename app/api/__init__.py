"""The HTTP and websocket edge: routers, dependencies, error mapping."""
