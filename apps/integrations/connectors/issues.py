"""Issue trackers: GitHub (issues and comments), GitLab and Jira (issues)."""

from urllib.parse import quote

from . import Action, Connector, obj, text

ISSUE_OUT = obj(
    {"id": {"type": ["integer", "string"]}, "number": {"type": ["integer", "string"]}, "url": {"type": "string"}}
)


def _repo(inputs) -> str:
    return f"repos/{quote(inputs['owner'], safe='')}/{quote(inputs['repo'], safe='')}"


def _github_issue(client, inputs):
    path = f"{_repo(inputs)}/issues"
    body = {k: inputs[k] for k in ("title", "body", "labels", "assignees") if inputs.get(k)}
    data = client.request("POST", path, json_body=body, headers={"Accept": "application/vnd.github+json"}).json()
    return {"id": data["id"], "number": data["number"], "url": data.get("html_url", "")}


def _github_comment(client, inputs):
    path = f"{_repo(inputs)}/issues/{int(inputs['number'])}/comments"
    data = client.request("POST", path, json_body={"body": inputs["body"]}).json()
    return {"id": data["id"], "url": data.get("html_url", "")}


def _github_check(client):
    data = client.request("GET", "user").json() or {}
    return f"Signed in to GitHub as {data.get('login', 'someone')}."


REPO = {
    "owner": text("The repository's owner (user or organisation).", minLength=1),
    "repo": text("The repository.", minLength=1),
}

GITHUB = Connector(
    "github",
    "GitHub",
    "Open issues and comment on them (a personal access token or a GitHub App's token).",
    ("bearer", "oauth2"),
    default_base_url="https://api.github.com/",
    oauth_endpoints=("https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token"),
    check=_github_check,
    actions=(
        Action(
            "github.create_issue",
            "GitHub: open an issue",
            "Opens an issue in a repository.",
            obj(
                {
                    **REPO,
                    "title": text("The issue's title.", minLength=1),
                    "body": text("What it says (Markdown)."),
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "assignees": {"type": "array", "items": {"type": "string"}},
                },
                ["owner", "repo", "title"],
            ),
            _github_issue,
            ISSUE_OUT,
        ),
        Action(
            "github.create_comment",
            "GitHub: comment on an issue",
            "Adds a comment to an issue or pull request.",
            obj(
                {
                    **REPO,
                    "number": {"type": "integer", "minimum": 1},
                    "body": text("The comment (Markdown).", minLength=1),
                },
                ["owner", "repo", "number", "body"],
            ),
            _github_comment,
            obj({"id": {"type": "integer"}, "url": {"type": "string"}}),
        ),
    ),
)


def _gitlab_issue(client, inputs):
    path = f"projects/{quote(str(inputs['project']), safe='')}/issues"
    body = {"title": inputs["title"]}
    if inputs.get("description"):
        body["description"] = inputs["description"]
    if inputs.get("labels"):
        body["labels"] = ",".join(inputs["labels"])
    data = client.request("POST", path, json_body=body).json()
    return {"id": data["id"], "number": data["iid"], "url": data.get("web_url", "")}


def _gitlab_check(client):
    data = client.request("GET", "user").json() or {}
    return f"Signed in to GitLab as {data.get('username', 'someone')}."


GITLAB = Connector(
    "gitlab",
    "GitLab",
    "Open issues in a GitLab project (gitlab.com or your own instance: its /api/v4/ address).",
    ("api_key", "bearer", "oauth2"),
    default_base_url="https://gitlab.com/api/v4/",
    oauth_endpoints=("https://gitlab.com/oauth/authorize", "https://gitlab.com/oauth/token"),
    check=_gitlab_check,
    settings_help="An API key goes in the PRIVATE-TOKEN header: set the key's header name to PRIVATE-TOKEN.",
    actions=(
        Action(
            "gitlab.create_issue",
            "GitLab: open an issue",
            "Opens an issue in a project.",
            obj(
                {
                    "project": {
                        "type": ["integer", "string"],
                        "description": "The project's id or path, e.g. group/app.",
                    },
                    "title": text("The issue's title.", minLength=1),
                    "description": text("What it says (Markdown)."),
                    "labels": {"type": "array", "items": {"type": "string"}},
                },
                ["project", "title"],
            ),
            _gitlab_issue,
            ISSUE_OUT,
        ),
    ),
)


def _jira_issue(client, inputs):
    fields = {
        "project": {"key": inputs["project"]},
        "summary": inputs["summary"],
        "issuetype": {"name": inputs.get("issue_type") or "Task"},
    }
    if inputs.get("description"):  # Atlassian Document Format, one paragraph
        fields["description"] = {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": inputs["description"]}]}],
        }
    data = client.request("POST", "rest/api/3/issue", json_body={"fields": fields}).json()
    base = client.base_url().rstrip("/")
    return {"id": data["id"], "number": data["key"], "url": f"{base}/browse/{data['key']}"}


def _jira_check(client):
    data = client.request("GET", "rest/api/3/myself").json() or {}
    return f"Signed in to Jira as {data.get('displayName') or data.get('emailAddress') or 'someone'}."


JIRA = Connector(
    "jira",
    "Jira",
    "Create Jira issues (Jira Cloud: your site's address, your email and an API token).",
    ("basic", "bearer", "oauth2"),
    oauth_endpoints=("https://auth.atlassian.com/authorize", "https://auth.atlassian.com/oauth/token"),
    check=_jira_check,
    settings_help="Base URL: your site, e.g. https://acme.atlassian.net/. "
    "Username: your email; password: an API token.",
    actions=(
        Action(
            "jira.create_issue",
            "Jira: create an issue",
            "Creates an issue in a project.",
            obj(
                {
                    "project": text("The project's key, e.g. OPS.", minLength=1),
                    "summary": text("The issue's summary.", minLength=1),
                    "description": text("What it says."),
                    "issue_type": text("Task, Bug, Story… (default Task)."),
                },
                ["project", "summary"],
            ),
            _jira_issue,
            ISSUE_OUT,
        ),
    ),
)

CONNECTORS = [GITHUB, GITLAB, JIRA]
