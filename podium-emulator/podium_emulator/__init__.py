"""A local emulator of the Podium API, and a generator of messy contact corpora.

The emulator is a small ASGI app (starlette, served by uvicorn on 127.0.0.1)
over an in-memory store. Tests reach it through `podium_emulator.testing`.
"""

__version__ = "0.1.0"
