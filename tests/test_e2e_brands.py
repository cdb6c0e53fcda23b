"""Several brands in one install, end to end: each brand's mentions are read with its own X
account, its cards say which brand they are for and go to its own channel, and replies go out
through the brand's own account, signed in the brand's own format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support import card_for, card_text, open_modal, post, reply_through_slack, type_and_read_meter

from bot.sandbox.harness import JANE, Sandbox, open_sandbox
from bot.slack.views import ids

NIMBUS_ID = "1500000000000000002"
NIMBUS = f"""
[[brands]]
name = "Nimbus Rail"
handle = "NimbusRail"
timezone = "Europe/London"
business_hours = "Mon-Sun 06:00-23:00"
fallback_channel = "#nimbus-care"

[brands.voice]
signature = "-{{first_name}}"

[brands.x]
user_id = "{NIMBUS_ID}"
consumer_key_env = "NIMBUS_KEY"
consumer_secret_env = "NIMBUS_SECRET"
access_token_env = "NIMBUS_TOKEN"
access_token_secret_env = "NIMBUS_TOKEN_SECRET"
"""
ENV = {
    "NIMBUS_KEY": "nimbus-key",
    "NIMBUS_SECRET": "nimbus-secret",
    "NIMBUS_TOKEN": "nimbus-at",
    "NIMBUS_TOKEN_SECRET": "nimbus-at-secret",
}


def test_each_brand_listens_and_answers_through_its_own_account(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, extra_config=NIMBUS, extra_env=ENV) as sandbox:
        sandbox.x.add_brand(
            user_id=NIMBUS_ID, username="NimbusRail", name="Nimbus Rail", access_token="nimbus-at"
        )
        sandbox.start_bot()
        post(sandbox, "@NimbusRail is the cafe car open on the 10:05 to Leeds?", handle="gil")
        post(sandbox, "@SkylarkAir what time does check-in open for my flight?", handle="hal")
        nimbus, skylark = card_for(sandbox, "gil"), card_for(sandbox, "hal")
        assert "*Nimbus Rail*" in card_text(nimbus) and "*Skylark Air*" in card_text(skylark)
        assert sandbox.slack.channel_name(str(nimbus["channel"])) == "nimbus-care"
        _meter_counts_the_brands_signature(sandbox, nimbus)

        for card in (nimbus, skylark):
            reply_through_slack(
                sandbox,
                user=JANE,
                card=card,
                body="Thanks, we are on it.",
                action_id=ids.WRITE_ACTION,
            )
        sandbox.x.wait_for(lambda: len(sandbox.x.replies()) == 2 or None, timeout=10)
        by_brand = {r["username"]: r for r in sandbox.x.replies()}
        assert by_brand["NimbusRail"]["text"].endswith("-Jane")  # the brand's own format
        assert by_brand["SkylarkAir"]["text"].endswith("^JK")


def _meter_counts_the_brands_signature(sandbox: Sandbox, card: dict[str, Any]) -> None:
    """While Jane types on a Nimbus case, the meter counts Nimbus's "-Jane", not "^JK"."""
    modal = open_modal(sandbox, user=JANE, card=card, action_id=ids.WRITE_ACTION)
    meter = type_and_read_meter(sandbox, user=JANE, view_id=modal["id"], text="x" * 300)
    assert "-Jane" in meter and "26 characters over" in meter  # 300 + space + -Jane
