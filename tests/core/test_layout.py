"""Each app keeps its own templates and static files (apps/<app>/templates/<app>/, static/<app>/);
the root templates/ and static/ hold only the shell's layout and kit."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.templatetags.static import static

ROOT = Path(settings.BASE_DIR)
SHELL_TEMPLATES = {
    "base.html",
    "public_base.html",
    "_head.html",
    "_messages.html",
    "_theme_toggle.html",
    "403.html",
    "404.html",
    "500.html",
    "503.html",
}


def test_the_root_holds_only_the_shell():
    templates = ROOT / "templates"
    assert {path.relative_to(templates).as_posix() for path in templates.rglob("*.html")} == SHELL_TEMPLATES
    assert {p.name for p in (ROOT / "static").iterdir()} == {"hub", "vendor"}


def test_identity_overrides_allauth_templates_from_its_own_folder():
    for name in ("account/login.html", "allauth/layouts/base.html", "allauth/elements/button.html"):
        origin = Path(get_template(name).origin.name)
        assert origin.is_relative_to(ROOT / "apps" / "identity" / "templates"), (name, origin)


def test_app_templates_and_static_files_are_found_in_their_apps():
    assert Path(get_template("notifications/_bell.html").origin.name).is_relative_to(ROOT / "apps" / "notifications")
    for name in ("notifications/sw.js", "notifications/live.js", "identity/passkeys.js"):
        app = name.split("/")[0]
        assert Path(finders.find(name)).is_relative_to(ROOT / "apps" / app / "static"), name
    # The service worker keeps its address, and so its scope (/static/notifications/).
    assert static("notifications/sw.js") == "/static/notifications/sw.js"
