"""Use cases. They take repositories and clients as arguments and never read the environment."""
