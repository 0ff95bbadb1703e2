"""The channel layer: channels_redis' Redis pub/sub layer, made safe to lose Redis.

Why pub/sub: a group_send is one PUBLISH, and each process subscribes once per group and hands
the message to its own members, so a push to 10,000 sockets costs Redis one message instead of
10,000 (the core layer queues one copy per channel and each process pops them one by one).
Group membership lives in the process, so joining a group that the process already follows
costs no Redis round trip.

What this subclass adds:
- Redis forgets a connection's subscriptions when the connection goes, and drops whatever is
  published while nobody is subscribed. So when the subscription connection fails, every local
  channel is sent {"type": "channel_layer.lost"} and the layer starts afresh (no channel, no
  group, no subscription); the consumer closes its socket, the page reconnects and asks for
  what it missed. (channels_redis would reconnect on its own and resubscribe, and nobody would
  know what was lost in between.)
- Pub/sub channels are server-wide: the database number in the address does not separate them
  as it separates keys. The prefix therefore carries the database number, so two deployments,
  or a test run and a dev server, on one Redis server stay apart as they did with the core layer.
- A channel whose subscription fails is not left behind in the layer (a connection attempt
  while Redis is down would leave its queue forever).
"""

import asyncio
import logging

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _wrap_close, decode_hosts
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
LOST = {"type": "channel_layer.lost"}


def _database(host: dict) -> int:
    if "address" in host:
        return int(parse_url(host["address"]).get("db", 0))
    return int(host.get("db", 0))


class HubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, hosts=None, prefix="asgi", **kwargs):
        hosts = decode_hosts(hosts)
        super().__init__(hosts=hosts, prefix=f"{prefix}:{_database(hosts[0])}:", **kwargs)

    def _get_layer(self):  # as channels_redis does, with this module's loop layer
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, **kwargs):
        super().__init__(hosts=hosts, **kwargs)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]

    async def _subscribe_to_channel(self, channel):
        try:
            await super()._subscribe_to_channel(channel)
        except BaseException:
            self.channels.pop(channel, None)
            raise

    async def receive(self, channel):
        if channel not in self.channels:
            # Its subscription went with a lost connection and its consumer has been told: it
            # hears nothing more (a channel is made by new_channel(), never resubscribed here).
            await asyncio.get_running_loop().create_future()
        return await super().receive(channel)

    def connection_lost(self, shard):
        """Tells every channel of `shard` and forgets them and their groups: Redis has."""
        lost = self.channel_layer.serialize(LOST)
        for channel in [c for c in self.channels if self._get_shard(c) is shard]:
            self.channels.pop(channel).put_nowait(lost)
        for group in [g for g in self.groups if self._get_shard(g) is shard]:
            del self.groups[group]


class _Shard(RedisSingleShardConnection):
    async def _do_receiving(self):
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                logger.warning("channel layer: lost its Redis subscriptions (%s); closing local channels", exc)
                await self._forget()
                self.channel_layer.connection_lost(self)
            except Exception:
                logger.exception("channel layer: unexpected error while receiving")
                await asyncio.sleep(1)

    async def _forget(self):
        async with self._lock:
            redis, pubsub = self._redis, self._pubsub
            self._redis, self._pubsub, self._subscribed_to = None, None, set()
        try:
            if pubsub is not None:
                await pubsub.aclose()
            if redis is not None:
                await _close_redis(redis)
        except Exception:  # noqa: BLE001, S110 - they are broken already
            pass
