"""The operations, shared by GraphQL and the REST layer. Each takes its services and caller explicitly."""
