"""The GraphQL gateway: /graphql/ on each tenant's host, over the types each app registers
(apps.core.registry GraphQLType) and the same authentication, scopes, rate limits and metering as
the REST API. docs/api/graphql.md says what an integrator sees."""
