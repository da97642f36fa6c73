"""The ASGI application uvicorn serves (``include.api.server:app``), settings from the environment."""
from include.api.app import create_app

app = create_app()
