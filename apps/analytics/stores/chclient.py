"""One way to talk to ClickHouse for both of its forms: a server (clickhouse-connect, over HTTP)
and chDB (ClickHouse inside this process). The same SQL runs on both; answers come back as
JSONCompact rows, so the stores read them the same way.

HUB_ANALYTICS_CLICKHOUSE_URL says which:

- `http://user:password@host:8123` (or `https://…:8443`): a ClickHouse server, the production
  form. Every process (web, Celery workers) connects to it.
- `chdb:///absolute/path` (`{pid}` in the path is replaced by the process id): chDB, for tests,
  benchmarks and single-process tools. chDB keeps its data in that directory and locks it: a
  second process cannot open the same directory while one holds it ("Cannot lock file
  …/status"), and one process can hold one directory only (a second path fails with
  "EmbeddedServer already initialized"). Threads of the process may share it (four threads
  querying one session at once ran clean here), so one client serves the whole process.
  A web process and a Celery worker therefore cannot share an embedded store: use a server.

Values always travel as query parameters (`{name:Type}` in the SQL), never inside the SQL text.
"""

import os
import threading
from urllib.parse import unquote, urlparse

import orjson

from .. import conf

_lock = threading.Lock()
_clients: dict[str, "Client"] = {}


class ClickHouseError(Exception):
    """ClickHouse refused a statement or could not be reached."""


class Client:
    def query(self, sql: str, params: dict | None = None) -> list[list]:
        """The rows of a SELECT."""
        text = self._raw(sql, params or {})
        return orjson.loads(text)["data"] if text.strip() else []

    def command(self, sql: str, params: dict | None = None) -> None:
        raise NotImplementedError

    def insert(
        self, table: str, columns: list[str], rows: list[list], *, token: str | None = None, deduplicate: bool = True
    ) -> None:
        """Inserts rows (JSON-able lists) in one block; a block inserted again with the same
        `token` (or, without one, the same data) is dropped by a table that keeps a deduplication
        window, unless `deduplicate` is false."""
        raise NotImplementedError

    def _raw(self, sql: str, params: dict) -> bytes:
        raise NotImplementedError


class ChdbClient(Client):
    def __init__(self, path: str):
        from chdb import session

        os.makedirs(path, exist_ok=True)
        self.path = path
        self.session = session.Session(path)

    def _run(self, sql: str, fmt: str = "JSONCompact", params: dict | None = None):
        params = {name: param_text(value) for name, value in (params or {}).items()}
        try:
            return self.session.query(sql, fmt, params=params or None)
        except RuntimeError as exc:
            raise ClickHouseError(str(exc)) from exc

    def _raw(self, sql: str, params: dict) -> bytes:
        return self._run(sql, params=params).bytes()

    def command(self, sql: str, params: dict | None = None) -> None:
        self._run(sql, "CSV", params)

    def insert(self, table, columns, rows, *, token=None, deduplicate=True) -> None:
        if not rows:
            return
        settings = "date_time_input_format = 'best_effort'"
        if token:
            settings += f", insert_deduplication_token = '{_token(token)}'"
        if not deduplicate:
            settings += ", insert_deduplicate = 0"
        data = b"\n".join(orjson.dumps(row) for row in rows).decode()
        self._run(f"INSERT INTO {table} ({', '.join(columns)}) SETTINGS {settings} FORMAT JSONCompactEachRow\n{data}")

    def close(self) -> None:
        self.session.close()


class ServerClient(Client):
    def __init__(self, url: str):
        import clickhouse_connect

        parts = urlparse(url)
        secure = parts.scheme == "https"
        self.client = clickhouse_connect.get_client(
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            secure=secure,
            settings={"output_format_json_quote_64bit_integers": 0},
        )

    def _raw(self, sql: str, params: dict) -> bytes:
        try:
            return self.client.raw_query(sql, parameters=params, fmt="JSONCompact")
        except Exception as exc:  # clickhouse-connect's errors have no common base with a message
            raise ClickHouseError(str(exc)) from exc

    def command(self, sql: str, params: dict | None = None) -> None:
        try:
            self.client.command(sql, parameters=params or None)
        except Exception as exc:
            raise ClickHouseError(str(exc)) from exc

    def insert(self, table, columns, rows, *, token=None, deduplicate=True) -> None:
        if not rows:
            return
        settings = {"date_time_input_format": "best_effort"}
        if token:
            settings["insert_deduplication_token"] = _token(token)
        if not deduplicate:
            settings["insert_deduplicate"] = 0
        block = b"\n".join(orjson.dumps(row) for row in rows)
        try:
            self.client.raw_insert(table, columns, insert_block=block, settings=settings, fmt="JSONCompactEachRow")
        except Exception as exc:
            raise ClickHouseError(str(exc)) from exc


_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def param_text(value) -> str:
    """A parameter's value as chDB reads it: texts in ClickHouse's escaped form (a backslash,
    tab or newline written as \\, \t, \n), lists as arrays (texts quoted, numbers as written),
    numbers as written. (clickhouse-connect does the same for a server.)"""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return value.translate(_ESCAPED)
    return str(value)


def _literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.translate(_ESCAPED).replace("'", "\\'") + "'"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"An array parameter holds texts or numbers, not {type(value).__name__}.")
    return repr(value)


def _token(token: str) -> str:
    if not token.isalnum():
        raise ValueError("A deduplication token is letters and digits only.")
    return token


def url() -> str:
    return conf.get("HUB_ANALYTICS_CLICKHOUSE_URL").replace("{pid}", str(os.getpid()))


def client() -> Client:
    """This process's client for HUB_ANALYTICS_CLICKHOUSE_URL (made once)."""
    target = url()
    with _lock:
        if target not in _clients:
            if target.startswith("chdb://"):
                _clients[target] = ChdbClient(target.removeprefix("chdb://"))
            elif target.startswith(("http://", "https://")):
                try:
                    _clients[target] = ServerClient(target)
                except ClickHouseError:
                    raise
                except Exception as exc:  # clickhouse-connect checks the server when it connects
                    raise ClickHouseError(f"ClickHouse cannot be reached: {exc}") from exc
            else:
                raise ClickHouseError("HUB_ANALYTICS_CLICKHOUSE_URL must start with http://, https:// or chdb://.")
        return _clients[target]
