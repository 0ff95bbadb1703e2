"""The channel layer: channels_redis' Redis pub/sub layer, made safe to lose Redis, with
listeners for consumers that only hear groups.

Why pub/sub: a group_send is one PUBLISH, and each process subscribes once per group and hands
the message to its own members, so a push to 10,000 sockets costs Redis one message instead of
10,000 (the core layer queues one copy per channel and each process pops them one by one).
Group membership lives in the process, so joining a group that the process already follows
costs no Redis round trip.

What this subclass adds:
- listen(groups, listener) / unlisten(): a consumer that only receives group messages (the
  dashboard's HubConsumer) need not have a channel: no subscription, queue and waiting task per
  socket, and no task per socket and message (Channels' receive loop). The layer reads each
  message once and calls the listeners, a wave of tasks at a time.
- Redis forgets a connection's subscriptions when the connection goes, and drops whatever is
  published while nobody is subscribed. So when the subscription connection fails, every local
  channel and listener gets {"type": "channel_layer.lost"} and the layer starts afresh (no
  channel, no group, no subscription); the consumer closes its socket, the page reconnects and
  asks for what it missed. (channels_redis would reconnect on its own and resubscribe, and
  nobody would know what was lost in between.)
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
WAVE = 500


async def _call(listener, message):
    try:
        await listener(message)
    except Exception as exc:  # noqa: BLE001 - e.g. the socket closed meanwhile; the others go on
        logger.warning("channel layer: a listener failed on %s: %r", message.get("type"), exc)


def _database(host: dict) -> int:
    if "address" in host:
        return int(parse_url(host["address"]).get("db", 0))
    return int(host.get("db", 0))


class HubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, hosts=None, prefix="asgi", **kwargs):
        hosts = decode_hosts(hosts)
        super().__init__(hosts=hosts, prefix=f"{prefix}:{_database(hosts[0])}:", **kwargs)

    async def listen(self, groups, listener):
        """From now on `await listener(message)` runs for each message sent to any of `groups`
        (and once for channel_layer.lost): for consumers that only receive group messages, with
        no channel, queue or waiting task of their own. Stops with unlisten()."""
        await self._get_layer().listen(groups, listener)

    async def unlisten(self, groups, listener):
        await self._get_layer().unlisten(groups, listener)

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
        self.listeners = {}  # group channel name -> listeners (see HubChannelLayer.listen)
        self._tasks = set()

    async def listen(self, groups, listener):
        for group in groups:
            name = self._get_group_channel_name(group)
            self.listeners.setdefault(name, set()).add(listener)
            try:
                await self._get_shard(name).subscribe(name)
            except BaseException:
                await self.unlisten(groups, listener)
                raise

    async def unlisten(self, groups, listener):
        for group in groups:
            name = self._get_group_channel_name(group)
            listeners = self.listeners.get(name, set())
            if listener in listeners:
                listeners.remove(listener)
                if not listeners:
                    del self.listeners[name]
                    if name not in self.groups:
                        await self._get_shard(name).unsubscribe(name)

    async def group_discard(self, group, channel):
        name = self._get_group_channel_name(group)
        if name not in self.listeners:
            await super().group_discard(group, channel)
        elif channel in self.groups.get(name, ()):  # the subscription stays: listeners follow it
            self.groups[name].remove(channel)
            if not self.groups[name]:
                del self.groups[name]

    async def deliver(self, raw):
        """Hands a published message to the listeners of its group: each in a task of its own
        (one socket that cannot take more must not hold up the others), a wave at a time, so
        that a push to 10,000 sockets never has more than WAVE tasks alive."""
        name = raw["channel"].decode() if isinstance(raw["channel"], bytes) else raw["channel"]
        if name in self.listeners:
            await self._call_all(list(self.listeners[name]), self.channel_layer.deserialize(raw["data"]))

    async def _call_all(self, listeners, message):
        loop = asyncio.get_running_loop()
        for start in range(0, len(listeners), WAVE):
            for listener in listeners[start : start + WAVE]:
                task = loop.create_task(_call(listener, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await asyncio.sleep(0)  # the wave's tasks run (and mostly finish) before the next

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

    async def connection_lost(self, shard):
        """Tells every channel of `shard` and forgets them and their groups: Redis has."""
        lost = self.channel_layer.serialize(LOST)
        for channel in [c for c in self.channels if self._get_shard(c) is shard]:
            self.channels.pop(channel).put_nowait(lost)
        for group in [g for g in self.groups if self._get_shard(g) is shard]:
            del self.groups[group]
        listeners = set()
        for group in [g for g in self.listeners if self._get_shard(g) is shard]:
            listeners |= self.listeners.pop(group)
        await self._call_all(list(listeners), LOST)


class _Shard(RedisSingleShardConnection):
    async def _do_receiving(self):
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    if message is not None:
                        self._receive_message(message)
                        await self.channel_layer.deliver(message)
                else:
                    await asyncio.sleep(0.1)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                logger.warning("channel layer: lost its Redis subscriptions (%s); closing local channels", exc)
                await self._forget()
                await self.channel_layer.connection_lost(self)
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
