"""The base of the hub's manage.py commands: bad arguments give one line and exit code 1."""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser


class _Parser(CommandParser):
    def error(self, message):
        if self.called_from_command_line:
            sys.stderr.write(f"Error: {message}\n")
            sys.exit(1)
        raise CommandError(f"Error: {message}")


class HubCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser  # Django builds a CommandParser itself; only error() differs.
        return parser

    def fail(self, exc) -> CommandError:
        """A one-line CommandError from a ValidationError (or any exception with messages)."""
        messages = getattr(exc, "message_dict", None)
        if messages:
            text = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in messages.items())
        else:
            text = " ".join(getattr(exc, "messages", [str(exc)]))
        return CommandError(text)
