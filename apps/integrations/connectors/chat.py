"""Chat: Slack (incoming webhooks and chat.postMessage), Microsoft Teams and Discord (incoming
webhooks)."""

from ..errors import ConnectorError
from . import Action, Connector, obj, text

MESSAGE = obj({"text": text("The message.", minLength=1)}, ["text"])
SENT = obj({"ok": {"type": "boolean"}})


def _webhook_post(payload_of):
    def call(client, inputs):
        client.request("POST", "", json_body=payload_of(inputs))
        return {"ok": True}

    return call


def _slack_post_message(client, inputs):
    body = {"channel": inputs["channel"], "text": inputs["text"]}
    if inputs.get("thread_ts"):
        body["thread_ts"] = inputs["thread_ts"]
    data = client.request("POST", "chat.postMessage", json_body=body).json() or {}
    if not data.get("ok"):  # Slack's Web API answers 200 with ok: false and the reason
        error = data.get("error", "no reason given")
        credential = error in ("invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive")
        if credential:
            from ..errors import CredentialError

            raise CredentialError(f"Slack refused the token: {error}.")
        raise ConnectorError(f"Slack did not post the message: {error}.", retryable=error == "ratelimited")
    return {"ok": True, "channel": data.get("channel", ""), "ts": data.get("ts", "")}


def _slack_check(client):
    if client.connection.auth_type != "bearer":
        return ""
    data = client.request("POST", "auth.test").json() or {}
    if not data.get("ok"):
        from ..errors import CredentialError

        raise CredentialError(f"Slack refused the token: {data.get('error', 'no reason given')}.")
    return f"Signed in to {data.get('team', 'Slack')} as {data.get('user', 'the app')}."


SLACK = Connector(
    "slack",
    "Slack",
    "Post messages to Slack: by an incoming webhook's address, or as an app with its bot token.",
    ("webhook", "bearer"),
    default_base_url="https://slack.com/api/",
    check=_slack_check,
    actions=(
        Action(
            "slack.post_webhook",
            "Slack: post by incoming webhook",
            "Posts a message to the channel of the connection's incoming webhook.",
            MESSAGE,
            _webhook_post(lambda i: {"text": i["text"]}),
            SENT,
            auth_types=("webhook",),
        ),
        Action(
            "slack.post_message",
            "Slack: post a message",
            "Posts a message to a channel with chat.postMessage (a bot token with chat:write).",
            obj(
                {
                    "channel": text("The channel's id or name, e.g. #general.", minLength=1),
                    "text": text("The message.", minLength=1),
                    "thread_ts": text("Reply in this message's thread (its ts)."),
                },
                ["channel", "text"],
            ),
            _slack_post_message,
            obj({"ok": {"type": "boolean"}, "channel": {"type": "string"}, "ts": {"type": "string"}}),
            auth_types=("bearer",),
        ),
    ),
)

TEAMS = Connector(
    "teams",
    "Microsoft Teams",
    "Post messages to a Teams channel by its incoming webhook (or a Workflows webhook) address.",
    ("webhook",),
    actions=(
        Action(
            "teams.post_message",
            "Teams: post a message",
            "Posts a message card to the channel of the connection's webhook.",
            obj({"text": text("The message.", minLength=1), "title": text("A title above it.")}, ["text"]),
            _webhook_post(
                lambda i: {
                    "@type": "MessageCard",
                    "@context": "https://schema.org/extensions",
                    "summary": i.get("title") or i["text"][:80],
                    **({"title": i["title"]} if i.get("title") else {}),
                    "text": i["text"],
                }
            ),
            SENT,
        ),
    ),
)

DISCORD = Connector(
    "discord",
    "Discord",
    "Post messages to a Discord channel by its webhook address.",
    ("webhook",),
    actions=(
        Action(
            "discord.post_message",
            "Discord: post a message",
            "Posts a message to the channel of the connection's webhook.",
            obj(
                {"content": text("The message.", minLength=1, maxLength=2000), "username": text("Post as this name.")},
                ["content"],
            ),
            _webhook_post(lambda i: {k: i[k] for k in ("content", "username") if i.get(k)}),
            SENT,
        ),
    ),
)

CONNECTORS = [SLACK, TEAMS, DISCORD]
