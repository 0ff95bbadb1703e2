"""{% load platform_flags %}{% flag "new-editor" %}…{% else %}…{% endflag %}: the block shows when
the platform flag is on for the request's tenant (a variant counts as on; {{ flag_value }} holds
the value inside)."""

from django import template

from ..services import platform_flag_value

register = template.Library()


class FlagNode(template.Node):
    def __init__(self, key, on, off):
        self.key, self.on, self.off = key, on, off

    def render(self, context):
        request = context.get("request")
        value = platform_flag_value(self.key.resolve(context), getattr(request, "tenant", None))
        if value is False:
            return self.off.render(context) if self.off is not None else ""
        with context.push(flag_value=value):
            return self.on.render(context)


@register.tag("flag")
def flag(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError('Use {% flag "key" %}…{% endflag %}.')
    on = parser.parse(("else", "endflag"))
    off = None
    if parser.next_token().contents == "else":
        off = parser.parse(("endflag",))
        parser.delete_first_token()
    return FlagNode(parser.compile_filter(bits[1]), on, off)
