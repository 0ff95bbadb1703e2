"""Prints the GraphQL gateway's schema (SDL), or writes it to --file; --check exits 1 when the file
differs (`make graphql` regenerates tests/api/schema.graphql, which a test compares)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.api.graphql.schema import printed


class Command(BaseCommand):
    help = "Print the GraphQL schema (SDL), write it to --file, or --check that the file is current."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Write the schema here instead of printing it.")
        parser.add_argument("--check", action="store_true", help="Fail if --file differs from the schema.")

    def handle(self, *args, file=None, check=False, **options):
        sdl = printed()
        if file is None:
            if check:
                raise CommandError("--check needs --file.")
            self.stdout.write(sdl, ending="")
            return
        path = Path(file)
        if check:
            current = path.read_text() if path.exists() else ""
            if current != sdl:
                raise CommandError(f"{file} is not the current GraphQL schema: run `make graphql`.")
            return
        path.write_text(sdl)
        self.stdout.write(f"Wrote {file}.")
