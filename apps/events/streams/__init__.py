"""The external event stream: every domain event of every tenant, published for consumers at scale
(docs/operations/replicas-and-streams.md). `base` is the interface and the messages; each engine
is a module beside it (`jetstream`: NATS JetStream)."""
