"""The channel-neutral message model: what every channel parses into and what conversations consume.

Both `channels/` and `conversations/` import from here, never from each other's models.
"""
