"""Azure Tables and Queues: accounts, the generic repository, geography routing, typed queue messages."""
