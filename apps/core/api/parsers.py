"""The API's JSON parser: DRF's, refusing what PostgreSQL cannot store.

A NUL character (\\u0000) is valid JSON but no PostgreSQL text or jsonb value may hold one: left
through, it reaches the database as a 500. Here it is a 422 (well-formed, but not storable) naming
where it is, for every endpoint.
"""

from rest_framework import parsers


def nul_at(data) -> str | None:
    """The path of the first string (value or key) in `data` holding a NUL character, or None."""
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "the body"
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return where.replace("\x00", "\\u0000")
                stack.append((item, where))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        where = nul_at(data)
        if where is not None:
            from .exceptions import Unprocessable  # (it imports DRF's views, which import this module)

            raise Unprocessable({where: ["Text cannot hold the NUL character (\\u0000)."]})
        return data
