"""SlackEmulator driven by the real slack_sdk WebClient."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox import Fault, SlackEmulator
from bot.sandbox.driver import SlackDriver
from bot.sandbox.manifest import DEFAULT_MANIFEST, AppManifest
from bot.sandbox.slack import NotDelivered

TOKEN = "xoxb-sandbox"

SECTION = {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*Hi*"}}


def _modal(title: str = "Reply", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "reply",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reply",
                "label": {"type": "plain_text", "text": "Reply"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
        **extra,
    }


def _button(text: str, action_id: str = "go") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, channels={"cases": "C0CASES01"}) as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(base_url=slack.url, token=TOKEN)


def test_url_is_loopback_with_trailing_slash(slack: SlackEmulator) -> None:
    assert slack.url.startswith("http://127.0.0.1:")
    assert slack.url.endswith("/api/")


def test_post_message_with_blocks_is_recorded(slack: SlackEmulator, client: WebClient) -> None:
    response = client.chat_postMessage(channel="#cases", text="fallback", blocks=[SECTION])

    assert response["channel"] == "C0CASES01"
    [message] = slack.messages("cases")
    assert message["ts"] == response["ts"]
    assert message["text"] == "fallback"
    assert message["blocks"] == [SECTION]
    assert message["user"] == "U0EARSHOT"
    assert response["message"]["blocks"] == [SECTION]


def test_message_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="cases", text=str(i))["ts"] for i in range(5)]

    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


def test_thread_reply_and_metadata_are_kept(slack: SlackEmulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="cases", text="case")
    metadata = {"event_type": "case", "event_payload": {"case_id": 7}}
    client.chat_postMessage(channel="cases", text="note", thread_ts=parent["ts"], metadata=metadata)

    reply = slack.messages("cases")[-1]
    assert reply["thread_ts"] == parent["ts"]
    assert reply["metadata"] == metadata


def test_post_without_text_or_blocks_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel="cases")

    assert error.value.response["error"] == "no_text"


def test_update_keeps_edit_history(slack: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="cases", text="v1", blocks=[SECTION])
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="v2")

    message = slack.message("cases", posted["ts"])
    assert message is not None
    assert message["text"] == "v2"
    assert message["blocks"] == [SECTION]  # omitted blocks are kept, as Slack does
    assert [edit["text"] for edit in message["edits"]] == ["v1"]


def test_update_of_unknown_message_is_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_update(channel="C0CASES01", ts="1.000001", text="x")

    assert error.value.response["error"] == "message_not_found"


def test_get_permalink_points_at_message(slack: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="cases", text="hello")

    link = client.chat_getPermalink(channel=posted["channel"], message_ts=posted["ts"])

    ts_digits = posted["ts"].replace(".", "")
    assert link["permalink"] == f"{slack.base_url}/archives/C0CASES01/p{ts_digits}"
    with urllib.request.urlopen(link["permalink"], timeout=5) as page:
        assert json.load(page)["text"] == "hello"


def test_post_ephemeral_is_not_a_channel_message(slack: SlackEmulator, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="cases", user="U0AGENT01", text="only you")

    assert response["message_ts"]
    assert slack.messages("cases") == []
    [ephemeral] = slack.ephemerals("U0AGENT01")
    assert ephemeral["text"] == "only you"


def test_views_open_then_update_with_stale_hash_conflicts(
    slack: SlackEmulator, client: WebClient
) -> None:
    opened = client.views_open(trigger_id="t-1", view=_modal())["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal("Sent"))

    with pytest.raises(SlackApiError) as error:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal("Again"))

    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["title"]["text"] == "Sent"
    assert error.value.response["error"] == "hash_conflict"
    assert slack.view(opened["id"])["title"]["text"] == "Sent"


def test_trigger_id_can_be_used_once(client: WebClient) -> None:
    client.views_open(trigger_id="t-once", view=_modal())

    with pytest.raises(SlackApiError) as error:
        client.views_open(trigger_id="t-once", view=_modal())

    assert error.value.response["error"] == "expired_trigger_id"


def test_views_push_stacks_on_the_open_view(slack: SlackEmulator, client: WebClient) -> None:
    root = client.views_open(trigger_id="t-root", view=_modal())["view"]

    pushed = client.views_push(trigger_id="t-push", view=_modal("Confirm"))["view"]

    assert pushed["root_view_id"] == root["id"]
    assert pushed["previous_view_id"] == root["id"]


def test_invalid_blocks_rejected_with_pointer(client: WebClient) -> None:
    blocks = [{"type": "actions", "elements": [_button("x" * 76)]}]

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="t", blocks=blocks)

    assert error.value.response["error"] == "invalid_blocks"
    assert error.value.response["errors"] == [
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]


def test_duplicate_action_ids_are_rejected(client: WebClient) -> None:
    blocks = [
        {"type": "actions", "elements": [_button("A", "same")]},
        {"type": "actions", "elements": [_button("B", "same")]},
    ]

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="t", blocks=blocks)

    assert "duplicate action_id `same`" in error.value.response["errors"][0]


def test_more_than_fifty_blocks_is_invalid(client: WebClient) -> None:
    blocks = [{"type": "divider"} for _ in range(51)]

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="t", blocks=blocks)

    assert error.value.response["errors"] == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]


def test_unknown_block_type_is_invalid(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="t", blocks=[{"type": "table"}])

    assert error.value.response["error"] == "invalid_blocks"


def test_form_encoded_blocks_are_decoded(slack: SlackEmulator, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", params={"channel": "cases", "blocks": json.dumps([SECTION])}
    )

    assert slack.messages("cases")[0]["blocks"] == [SECTION]


def test_long_view_title_is_invalid_arguments(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.views_open(trigger_id="t-2", view=_modal("x" * 25))

    assert error.value.response["error"] == "invalid_arguments"
    assert error.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_view_with_inputs_needs_submit(client: WebClient) -> None:
    view = _modal()
    del view["submit"]

    with pytest.raises(SlackApiError) as error:
        client.views_open(trigger_id="t-3", view=view)

    assert "submit" in error.value.response["response_metadata"]["messages"][0]


def test_rate_limit_fault_raises_with_retry_after(slack: SlackEmulator, client: WebClient) -> None:
    slack.inject(Fault("chat.postMessage", status=429, retry_after=7))

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="x")
    client.chat_postMessage(channel="cases", text="y")

    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"
    assert error.value.response["error"] == "ratelimited"
    assert [m["text"] for m in slack.messages("cases")] == ["y"]


def test_server_error_fault_answers_that_status(slack: SlackEmulator, client: WebClient) -> None:
    slack.inject(Fault("*", status=503))

    with pytest.raises(SlackApiError) as error:
        client.auth_test()

    assert error.value.response.status_code == 503
    assert slack.calls("auth.test")[0].status == 503


def test_fault_body_override_answers_a_slack_error(client: WebClient, slack: SlackEmulator) -> None:
    slack.inject(Fault("chat.postMessage", status=200, body={"ok": False, "error": "is_archived"}))

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="x")

    assert error.value.response["error"] == "is_archived"


def test_delay_fault_still_answers_normally(slack: SlackEmulator, client: WebClient) -> None:
    slack.inject(Fault("auth.test", status=200, delay=0.01))

    assert client.auth_test()["user_id"] == "U0EARSHOT"


def test_invalid_token_is_invalid_auth(slack: SlackEmulator) -> None:
    client = WebClient(base_url=slack.url, token="xoxb-wrong")

    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="cases", text="x")

    assert error.value.response["error"] == "invalid_auth"


def test_auth_test_describes_the_bot(client: WebClient) -> None:
    response = client.auth_test()

    assert (response["team_id"], response["user_id"], response["bot_id"]) == (
        "T0SANDBOX",
        "U0EARSHOT",
        "B0EARSHOT",
    )


def test_users_info_known_and_unknown() -> None:
    with SlackEmulator(users={"U0AGENT01": "Dana Agent"}, scopes=["users:read"]) as slack:
        client = WebClient(base_url=slack.url, token="any")
        user = client.users_info(user="U0AGENT01")["user"]
        with pytest.raises(SlackApiError) as error:
            client.users_info(user="U0NOBODY1")

    assert user["profile"]["display_name"] == "Dana Agent"
    assert error.value.response["error"] == "user_not_found"


def test_unknown_method_is_recorded(slack: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.api_call("reactions.add", params={"name": "eyes"})

    assert error.value.response["error"] == "unknown_method"
    assert slack.calls("reactions.add")[0].params == {"name": "eyes"}


def test_wait_for_returns_when_a_message_appears(slack: SlackEmulator, client: WebClient) -> None:
    poster = threading.Thread(target=lambda: client.chat_postMessage(channel="cases", text="late"))
    poster.start()

    messages = slack.wait_for(lambda: slack.messages("cases"), timeout=10)
    poster.join()

    assert messages[0]["text"] == "late"


def test_wait_for_times_out_with_a_clear_error(slack: SlackEmulator) -> None:
    with pytest.raises(TimeoutError, match="still false"):
        slack.wait_for(lambda: slack.messages("cases"), timeout=0.01)


def test_subscribers_get_events(slack: SlackEmulator, client: WebClient) -> None:
    seen: list[tuple[str, str]] = []
    slack.subscribe(lambda kind, payload: seen.append((kind, payload["text"])))

    posted = client.chat_postMessage(channel="cases", text="a")
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="b")

    assert seen == [("message.posted", "a"), ("message.updated", "b")]


def test_channel_names_resolve_to_stable_ids(slack: SlackEmulator, client: WebClient) -> None:
    first = slack.create_channel("#escalations")
    posted = client.chat_postMessage(channel="escalations", text="x")

    assert first == slack.channel_id("escalations") == posted["channel"] == "C0000001"
    assert slack.create_channel("vip") == "C0000002"
    assert slack.create_channel("#vip") == "C0000002"  # an existing channel is left as it is
    assert slack.channel_name(first) == "escalations"


def test_unknown_channel_id_is_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C0NOPE123", text="x")

    assert error.value.response["error"] == "channel_not_found"


def test_conversations_info_and_list(client: WebClient) -> None:
    info = client.conversations_info(channel="C0CASES01")["channel"]
    listed = client.conversations_list()["channels"]

    assert info["name"] == "cases"
    assert info["is_member"] is True
    assert [c["id"] for c in listed] == ["C0CASES01"]


def test_per_channel_pacing_answers_429() -> None:
    channels = {"cases": "C0CASES01", "other": "C0OTHER01"}
    with SlackEmulator(rate_limit_per_channel=0.001, channels=channels) as slack:
        client = WebClient(base_url=slack.url, token="any")
        client.chat_postMessage(channel="cases", text="1")
        client.chat_postMessage(channel="other", text="2")
        with pytest.raises(SlackApiError) as error:
            client.chat_postMessage(channel="cases", text="3")

    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "1"


def test_view_response_update_keeps_id_with_new_hash(
    slack: SlackEmulator, client: WebClient
) -> None:
    opened = client.views_open(trigger_id="t-4", view=_modal())["view"]

    slack.apply_view_response(opened["id"], {"response_action": "update", "view": _modal("Done")})

    view = slack.view(opened["id"])
    assert view["title"]["text"] == "Done"
    assert view["hash"] != opened["hash"]
    assert view["closed"] is False


def test_view_response_errors_keep_view_open(slack: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t-5", view=_modal())["view"]

    slack.apply_view_response(
        opened["id"], {"response_action": "errors", "errors": {"reply": "Too long"}}
    )

    view = slack.view(opened["id"])
    assert view["errors"] == {"reply": "Too long"}
    assert view["closed"] is False


def test_empty_view_response_closes_view(slack: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t-6", view=_modal())["view"]
    kinds: list[str] = []
    slack.subscribe(lambda kind, _payload: kinds.append(kind))

    slack.apply_view_response(opened["id"], {})

    assert slack.view(opened["id"])["closed"] is True
    assert kinds == ["view.closed"]


def test_invalid_view_in_response_raises(slack: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t-7", view=_modal())["view"]

    with pytest.raises(ValueError, match="invalid view"):
        slack.apply_view_response(opened["id"], {"response_action": "update", "view": {}})


def test_reset_forgets_state_and_calls(slack: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel="cases", text="x")

    slack.reset()

    assert slack.messages() == []
    assert slack.calls() == []
    assert slack.channel_id("cases") == "C0CASES01"


def test_stop_is_idempotent() -> None:
    slack = SlackEmulator().start()
    slack.stop()
    slack.stop()

    with pytest.raises(RuntimeError):
        _ = slack.url


def test_subscribers_run_outside_the_lock(slack: SlackEmulator, client: WebClient) -> None:
    reader_finished: list[bool] = []

    def read_from_another_thread(_kind: str, _payload: dict[str, Any]) -> None:
        reader = threading.Thread(target=slack.messages)
        reader.start()
        reader.join(timeout=5)
        reader_finished.append(not reader.is_alive())

    slack.subscribe(read_from_another_thread)
    client.chat_postMessage(channel="cases", text="x")

    assert reader_finished == [True]


def test_empty_response_on_pushed_view_shows_the_view_below(
    slack: SlackEmulator, client: WebClient
) -> None:
    root = client.views_open(trigger_id="t-8", view=_modal())["view"]
    pushed = client.views_push(trigger_id="t-9", view=_modal("Confirm"))["view"]

    shown = slack.apply_view_response(pushed["id"], None)

    assert shown is not None
    assert shown["id"] == root["id"]
    assert slack.view(pushed["id"])["closed"] is True


def test_response_url_in_channel_posts_a_message(slack: SlackEmulator) -> None:
    webhook = WebhookClient(slack.response_url(channel="cases", user="U0AGENT01"))

    response = webhook.send(text="posted for all", response_type="in_channel")

    assert (response.status_code, response.body) == (200, "ok")
    assert [m["text"] for m in slack.messages("cases")] == ["posted for all"]


def test_response_url_ephemeral_goes_to_the_user(slack: SlackEmulator) -> None:
    webhook = WebhookClient(slack.response_url(channel="cases", user="U0AGENT01"))

    webhook.send(text="just you")

    assert [e["text"] for e in slack.ephemerals("U0AGENT01")] == ["just you"]


def test_response_url_replace_original_updates_the_message(
    slack: SlackEmulator, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="cases", text="old")
    url = slack.response_url(channel=posted["channel"], message_ts=posted["ts"])

    WebhookClient(url).send(text="new", replace_original=True)

    assert slack.message("cases", posted["ts"])["text"] == "new"  # type: ignore[index]


def test_response_url_without_context_is_recorded(slack: SlackEmulator) -> None:
    response = WebhookClient(f"{slack.url}_sandbox/respond").send(text="hello")

    assert response.status_code == 200
    assert slack.responses()[0]["payload"]["text"] == "hello"


def test_response_url_rejects_invalid_blocks(slack: SlackEmulator) -> None:
    webhook = WebhookClient(slack.response_url(channel="cases"))

    response = webhook.send(text="x", blocks=[{"type": "header", "text": {"type": "mrkdwn"}}])

    assert (response.status_code, response.body) == (400, "invalid_blocks")


# -- files_upload_v2 -----------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe digest"  # not valid UTF-8, on purpose


def test_files_upload_v2_keeps_the_bytes_and_shares_them(
    slack: SlackEmulator, client: WebClient
) -> None:
    response = client.files_upload_v2(
        channel="C0CASES01",
        file=PNG,
        filename="digest.png",
        title="Digest",
        initial_comment="Daily digest",
    )

    [uploaded] = slack.files()
    assert uploaded["content"] == PNG == slack.file_bytes(uploaded["id"])
    assert uploaded["id"].startswith("F")
    assert (uploaded["name"], uploaded["title"], uploaded["length"]) == (
        "digest.png",
        "Digest",
        len(PNG),
    )
    assert (uploaded["channel"], uploaded["initial_comment"], uploaded["thread_ts"]) == (
        "C0CASES01",
        "Daily digest",
        None,
    )
    [message] = slack.messages("cases")
    assert message["ts"] == uploaded["ts"]
    assert (message["text"], message["user"]) == ("Daily digest", "U0EARSHOT")
    [shown] = message["files"]
    assert (shown["id"], shown["name"], shown["title"]) == (uploaded["id"], "digest.png", "Digest")
    assert response["file"]["id"] == uploaded["id"]
    [answered] = response["files"]
    assert (answered["title"], answered["name"], answered["size"]) == (
        "Digest",
        "digest.png",
        len(PNG),
    )
    assert answered["mimetype"] == "image/png"
    assert answered["channels"] == ["C0CASES01"]


def test_upload_flow_is_three_calls_and_the_upload_needs_no_token(
    slack: SlackEmulator, client: WebClient
) -> None:
    client.files_upload_v2(channel="C0CASES01", content="hello", filename="note.txt")

    [url_call] = slack.calls("files.getUploadURLExternal")
    [upload] = slack.calls("upload")
    [complete] = slack.calls("files.completeUploadExternal")
    assert (url_call.params["filename"], url_call.params["length"]) == ("note.txt", "5")
    assert upload.method == "POST" and upload.status == 200
    assert "authorization" not in upload.headers
    assert json.loads(complete.params["files"])[0]["title"] == "note.txt"  # title defaults
    assert slack.files()[0]["content"] == b"hello"


def test_upload_url_answers_like_slack(slack: SlackEmulator, client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.bin", length=3)

    assert ticket["upload_url"].startswith(slack.base_url + "/")
    request = urllib.request.Request(ticket["upload_url"], data=b"abc", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        body = answer.read().decode()

    assert body == "OK - 3"
    assert slack.file_bytes(ticket["file_id"]) == b"abc"


def test_upload_as_multipart_form_keeps_the_file_part(
    slack: SlackEmulator, client: WebClient
) -> None:
    ticket = client.files_getUploadURLExternal(filename="d.png", length=len(PNG))

    answer = requests.post(ticket["upload_url"], files={"file": ("d.png", PNG)}, timeout=5)

    assert (answer.status_code, answer.text) == (200, f"OK - {len(PNG)}")
    assert slack.file_bytes(ticket["file_id"]) == PNG


def test_files_upload_v2_from_a_path_to_a_channel_name(
    slack: SlackEmulator, client: WebClient, tmp_path: Path
) -> None:
    path = tmp_path / "digest.png"
    path.write_bytes(PNG)
    slack.create_channel("#care-leads")

    client.files_upload_v2(channel="#care-leads", file=str(path), initial_comment="Daily digest")

    [uploaded] = slack.files()
    assert uploaded["channel"] == slack.channel_id("care-leads")
    assert (uploaded["name"], uploaded["title"], uploaded["content"]) == (
        "digest.png",
        "digest.png",
        PNG,
    )
    assert [m["files"][0]["id"] for m in slack.messages("#care-leads")] == [uploaded["id"]]


def test_files_upload_v2_into_a_thread(slack: SlackEmulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="cases", text="case")

    client.files_upload_v2(
        channel="C0CASES01", file=PNG, filename="d.png", thread_ts=parent["ts"], initial_comment="c"
    )

    reply = slack.messages("cases")[-1]
    assert (reply["thread_ts"], reply["text"]) == (parent["ts"], "c")
    assert slack.files()[0]["thread_ts"] == parent["ts"]


def test_upload_without_a_channel_stays_private(slack: SlackEmulator, client: WebClient) -> None:
    response = client.files_upload_v2(file=PNG, filename="private.png")

    assert slack.messages() == []
    assert slack.files()[0]["channel"] is None
    assert slack.files()[0]["completed"] is True
    assert response["file"]["channels"] == []


def test_completing_an_unknown_file_is_file_not_found(
    slack: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as error:
        client.files_completeUploadExternal(
            files=[{"id": "F0NEVER0001", "title": "x"}], channel_id="C0CASES01"
        )

    assert error.value.response["error"] == "file_not_found"
    assert slack.messages() == []


def test_completing_before_the_bytes_arrive_is_file_not_found(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="late.png", length=10)

    with pytest.raises(SlackApiError) as error:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])

    assert error.value.response["error"] == "file_not_found"


def test_completing_twice_is_file_not_found(client: WebClient) -> None:
    done = client.files_upload_v2(file=PNG, filename="d.png", channel="C0CASES01")

    with pytest.raises(SlackApiError) as error:
        client.files_completeUploadExternal(files=[{"id": done["file"]["id"]}])

    assert error.value.response["error"] == "file_not_found"


def test_sharing_to_an_unknown_channel_id_is_channel_not_found(
    slack: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as error:
        client.files_upload_v2(channel="C0NOPE123", file=PNG, filename="d.png")

    assert error.value.response["error"] == "channel_not_found"
    assert slack.messages() == []
    assert slack.files()[0]["completed"] is False


def test_zero_length_upload_url_is_missing_argument(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.files_getUploadURLExternal(filename="empty.txt", length=0)

    assert error.value.response["error"] == "missing_argument"


# -- App Home ------------------------------------------------------------------------------------

HOME = {"type": "home", "blocks": [SECTION]}


def test_views_publish_stores_the_home_view(slack: SlackEmulator, client: WebClient) -> None:
    first = client.views_publish(user_id="U0AGENT01", view=HOME)["view"]
    second = client.views_publish(
        user_id="U0AGENT01", view={**HOME, "private_metadata": "v2"}, hash=first["hash"]
    )["view"]

    assert (first["type"], first["blocks"], first["id"][0]) == ("home", [SECTION], "V")
    assert second["id"] == first["id"]
    assert second["hash"] != first["hash"]
    assert slack.home("U0AGENT01") == second
    assert slack.home_publishes("U0AGENT01") == 2
    assert slack.home("U0NOBODY1") is None
    assert slack.home_publishes("U0NOBODY1") == 0
    assert slack.views() == []  # the Home tab is not a modal


def test_views_publish_with_a_stale_hash_conflicts(slack: SlackEmulator, client: WebClient) -> None:
    first = client.views_publish(user_id="U0AGENT01", view=HOME)["view"]
    client.views_publish(user_id="U0AGENT01", view=HOME)

    with pytest.raises(SlackApiError) as error:
        client.views_publish(user_id="U0AGENT01", view=HOME, hash=first["hash"])

    assert error.value.response["error"] == "hash_conflict"
    assert slack.home_publishes("U0AGENT01") == 2


def test_views_publish_of_a_modal_is_invalid_arguments(
    slack: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as error:
        client.views_publish(user_id="U0AGENT01", view=_modal())

    assert error.value.response["error"] == "invalid_arguments"
    assert error.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be `home` [json-pointer:/view/type]"
    ]
    assert slack.home("U0AGENT01") is None


def test_views_publish_checks_home_blocks(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.views_publish(user_id="U0AGENT01", view={"type": "home", "blocks": [{"type": "x"}]})

    assert error.value.response["error"] == "invalid_arguments"


class _Recorder(BaseHTTPRequestHandler):
    """Stands in for the bot's /slack/events: records what the driver sends, answers 200."""

    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_driver_sends_a_signed_app_home_opened_event(
    slack: SlackEmulator,
    client: WebClient,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = receiver
    driver = SlackDriver(bot_url=url, signing_secret="s3cret", slack=slack)
    client.views_publish(user_id="U0AGENT01", view=HOME)

    answer = driver.app_home_opened("U0AGENT01")

    assert answer.status == 200
    [(headers, body)] = received
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback"
    event = envelope["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", "U0AGENT01", "home")
    assert event["channel"] == slack.dm_channel("U0AGENT01")
    assert event["channel"].startswith("D")
    assert float(event["event_ts"]) > 0
    assert event["view"] == slack.home("U0AGENT01")


def test_app_home_opened_on_messages_tab_and_the_dm_is_postable(
    slack: SlackEmulator, client: WebClient
) -> None:
    driver = SlackDriver(bot_url="http://127.0.0.1:9/unused", signing_secret="s", slack=slack)

    event = driver.app_home_opened_event("U0AGENT02", tab="messages")
    client.chat_postMessage(channel=event["channel"], text="welcome")

    assert event["tab"] == "messages"
    assert "view" not in event
    assert [m["text"] for m in slack.messages(event["channel"])] == ["welcome"]
    assert slack.channel_name(event["channel"]) == "directmessage"
    with pytest.raises(SlackApiError) as error:  # a DM's details need im:read, which Earshot
        client.conversations_info(channel=event["channel"])  # does not ask for
    assert (error.value.response["error"], error.value.response["needed"]) == (
        "missing_scope",
        "im:read",
    )


# -- a real workspace's rules (https://api.slack.com/methods/<method>) ---------------------------


def test_the_token_holds_the_manifests_scopes_and_slack_says_which(
    slack: SlackEmulator, client: WebClient
) -> None:
    granted = AppManifest.load(DEFAULT_MANIFEST).scopes
    answer = client.auth_test()

    assert slack.scopes == granted
    assert set(answer.headers["x-oauth-scopes"].split(",")) == granted


def test_a_method_whose_scope_is_missing_answers_missing_scope_like_slack() -> None:
    scopes = ["chat:write", "commands"]  # the old manifest's gap: no files:write
    with SlackEmulator(bot_token=TOKEN, channels={"cases": "C0CASES01"}, scopes=scopes) as slack:
        client = WebClient(base_url=slack.url, token=TOKEN)
        with pytest.raises(SlackApiError) as error:
            client.files_upload_v2(channel="C0CASES01", file=PNG, filename="digest.png")

    answer = error.value.response
    assert (answer["error"], answer["needed"], answer["provided"]) == (
        "missing_scope",
        "files:write",
        "chat:write,commands",
    )
    assert answer.headers["x-accepted-oauth-scopes"] == "files:write"
    assert slack.files() == []


def test_conversation_methods_need_the_scope_of_the_conversations_type() -> None:
    with SlackEmulator(bot_token=TOKEN, scopes=["chat:write", "channels:history"]) as slack:
        public, private = slack.create_channel("cases"), slack.create_channel("vip", private=True)
        client = WebClient(base_url=slack.url, token=TOKEN)
        client.conversations_history(channel=public)
        with pytest.raises(SlackApiError) as error:
            client.conversations_history(channel=private)

    assert error.value.response["needed"] == "groups:history"


def test_an_unknown_channel_is_channel_not_found_and_never_created(
    slack: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="#care-nowhere", text="x")

    assert error.value.response["error"] == "channel_not_found"
    with pytest.raises(KeyError, match="create_channel"):
        slack.channel_id("#care-nowhere")
    assert [c["name"] for c in client.conversations_list()["channels"]] == ["cases"]


def test_a_private_channel_hides_from_a_bot_nobody_invited(
    slack: SlackEmulator, client: WebClient
) -> None:
    """Even with chat:write.public: that scope opens public channels only."""
    private = slack.create_channel("care-vip", private=True, member=False)
    for call in (
        lambda: client.chat_postMessage(channel=private, text="x"),
        lambda: client.chat_postMessage(channel="#care-vip", text="x"),
        lambda: client.conversations_info(channel=private),
        lambda: client.conversations_history(channel=private),
    ):
        with pytest.raises(SlackApiError) as error:
            call()
        assert error.value.response["error"] == "channel_not_found"
    listed = client.conversations_list(types="public_channel,private_channel")["channels"]
    assert "care-vip" not in {c["name"] for c in listed}

    slack.invite_bot("#care-vip")  # someone types /invite @Earshot there
    client.chat_postMessage(channel="#care-vip", text="now")
    info = client.conversations_info(channel=private)["channel"]
    assert (info["is_private"], info["is_member"]) == (True, True)


def test_a_public_channel_without_the_bot_takes_posts_only_with_chat_write_public(
    slack: SlackEmulator, client: WebClient
) -> None:
    public = slack.create_channel("care-press", member=False)
    client.chat_postMessage(channel=public, text="card")  # the manifest has chat:write.public
    for call in (
        lambda: client.chat_postEphemeral(channel=public, user="U0AGENT01", text="x"),
        lambda: client.conversations_history(channel=public),
    ):
        with pytest.raises(SlackApiError) as error:
            call()
        assert error.value.response["error"] == "not_in_channel"
    info = client.conversations_info(channel=public)["channel"]
    assert (info["is_private"], info["is_member"]) == (False, False)

    with SlackEmulator(bot_token=TOKEN, scopes=["chat:write"]) as strict:
        strict.create_channel("care-press", member=False)
        with pytest.raises(SlackApiError) as error:
            WebClient(base_url=strict.url, token=TOKEN).chat_postMessage(
                channel="#care-press", text="card"
            )
    assert error.value.response["error"] == "not_in_channel"


def test_an_archived_channel_refuses_posts_and_edits(
    slack: SlackEmulator, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="cases", text="card")
    slack.archive_channel("cases")

    with pytest.raises(SlackApiError) as post:
        client.chat_postMessage(channel="cases", text="again")
    with pytest.raises(SlackApiError) as update:
        client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")

    assert post.value.response["error"] == "is_archived"
    assert update.value.response["error"] == "is_inactive"
    assert client.conversations_list(exclude_archived=True)["channels"] == []
    assert client.conversations_list()["channels"][0]["is_archived"] is True
    slack.archive_channel("cases", archived=False)
    client.chat_postMessage(channel="cases", text="unarchived")


def test_a_rate_tier_answers_429_with_retry_after(slack: SlackEmulator, client: WebClient) -> None:
    """chat.update is Tier 3 (50 a minute); a test may lower any method's limit."""
    posted = client.chat_postMessage(channel="cases", text="v0")
    for n in range(50):
        client.chat_update(channel=posted["channel"], ts=posted["ts"], text=f"v{n + 1}")
    with pytest.raises(SlackApiError) as error:
        client.chat_update(channel=posted["channel"], ts=posted["ts"], text="one too many")

    assert error.value.response.status_code == 429
    assert error.value.response["error"] == "ratelimited"
    assert 1 <= int(error.value.response.headers["Retry-After"]) <= 60
    assert slack.message("cases", posted["ts"])["text"] == "v50"  # type: ignore[index]

    slack.set_rate_limit("conversations.history", 1)
    client.conversations_history(channel=posted["channel"])
    with pytest.raises(SlackApiError) as history:
        client.conversations_history(channel=posted["channel"])
    assert history.value.response.status_code == 429


def _manifest(**changes: Any) -> AppManifest:
    return dataclasses.replace(AppManifest.load(DEFAULT_MANIFEST), **changes)


def test_without_the_home_tab_views_publish_is_not_enabled() -> None:
    with SlackEmulator(bot_token=TOKEN, manifest=_manifest(home_tab=False)) as slack:
        client = WebClient(base_url=slack.url, token=TOKEN)
        with pytest.raises(SlackApiError) as error:
            client.views_publish(user_id="U0AGENT01", view=HOME)

    assert error.value.response["error"] == "not_enabled"


def test_without_the_messages_tab_a_direct_note_is_refused() -> None:
    users = {"U0AGENT01": "Dana Agent"}
    manifest = _manifest(messages_tab=False)
    with SlackEmulator(bot_token=TOKEN, users=users, manifest=manifest) as slack:
        client = WebClient(base_url=slack.url, token=TOKEN)
        with pytest.raises(SlackApiError) as error:
            client.chat_postMessage(channel="U0AGENT01", text="your reply did not go out")

    assert error.value.response["error"] == "messages_tab_disabled"


def test_a_direct_note_to_a_person_lands_in_the_apps_messages_tab(
    slack: SlackEmulator, client: WebClient
) -> None:
    slack.add_user("U0AGENT01", "Dana Agent")

    posted = client.chat_postMessage(channel="U0AGENT01", text="your reply did not go out")

    assert posted["channel"] == slack.dm_channel("U0AGENT01")


def test_slack_sends_no_event_the_manifest_does_not_subscribe_to() -> None:
    """Regression: app_home_opened was not subscribed, so the Home tab could never appear."""
    unsubscribed = _manifest(bot_events=frozenset({"message.channels", "message.groups"}))
    with SlackEmulator(bot_token=TOKEN, manifest=unsubscribed) as old:
        driver = SlackDriver(bot_url="http://127.0.0.1:9/unused", signing_secret="s", slack=old)
        with pytest.raises(NotDelivered, match="app_home_opened"):
            driver.app_home_opened("U0AGENT01")


def test_slack_sends_thread_messages_only_from_channels_the_bot_is_in(
    slack: SlackEmulator,
) -> None:
    slack.create_channel("care-press", member=False)
    driver = SlackDriver(bot_url="http://127.0.0.1:9/unused", signing_secret="s", slack=slack)

    with pytest.raises(NotDelivered, match="only for channels the app is in"):
        driver.say_in_thread(user="U0AGENT01", channel="#care-press", thread_ts="1.0", text="x")
    slack.create_channel("care-vip", private=True)
    said = slack.user_says(user="U0AGENT01", channel="#care-vip", text="x")
    assert said["channel_type"] == "group"  # delivered as message.groups


def test_slack_sends_only_the_manifests_slash_commands_and_interactions() -> None:
    manifest = _manifest(commands=frozenset(), interactivity=False)
    with SlackEmulator(bot_token=TOKEN, manifest=manifest, channels={"cases": "C1"}) as slack:
        driver = SlackDriver(bot_url="http://127.0.0.1:9/unused", signing_secret="s", slack=slack)
        with pytest.raises(NotDelivered, match="/mentions"):
            driver.command(user="U0AGENT01", channel="#cases")
        with pytest.raises(NotDelivered, match="interactivity"):
            driver.interactive({"type": "block_actions"})
