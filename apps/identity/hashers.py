from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 iterations, 1 lane.

    Keeps the `argon2` algorithm name, so Django re-hashes older argon2 hashes to these
    parameters at the next log-in.
    """

    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1
