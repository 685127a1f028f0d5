"""Which chat the app serves: the one in this process (the default), or the one in Redis
that every process naming the same REDIS_URL shares."""

from typing import Any

from chat_core import Chat, Waiting

from .config import limits_from


def make_chat(config: Any, waiting: Waiting) -> Any:
    """A `chat_core.Chat`, or a `chat_redis.RedisChat` when REDIS_URL is set: both answer
    the same calls, with the same rules."""
    url = config.get("REDIS_URL")
    if not url:
        return Chat(limits_from(config), waiting=waiting)
    from chat_redis import RedisChat

    return RedisChat(url, limits_from(config), waiting, prefix=str(config["REDIS_PREFIX"]))


def is_shared(chat: Any) -> bool:
    """Whether the chat's state lives outside this process."""
    return not isinstance(chat, Chat)
