"""The ids of every button, field and form Earshot puts in Slack: listeners match on them,
builders set them. One place, so a listener and its button never disagree."""

from __future__ import annotations

SUGGEST_ACTION = "earshot_suggest"  # suffixed _1.._n: action ids must be unique in a message
WRITE_ACTION = "earshot_write"
CLAIM_ACTION = "earshot_claim"
DISMISS_ACTION = "earshot_dismiss"
REOPEN_ACTION = "earshot_reopen"
RETRY_ACTION = "earshot_retry"
RELEASE_ACTION = "earshot_release"
TAKE_OVER_ACTION = "earshot_take_over"
MOVE_ACTION = "earshot_move"
MOVE_TO_GUESS_ACTION = "earshot_move_to_guess"  # the fallback card's best guess, one click
STORM_ANSWER_ACTION = "earshot_storm_answer"
EDIT_ACTION = "earshot_edit"
MARK_ANSWERED_ACTION = "earshot_mark_answered"
REPLY_ON_X_ACTION = "earshot_reply_on_x"  # link buttons: Slack still sends the click
DM_ON_X_ACTION = "earshot_dm_on_x"
REPLY_BLOCK = "reply"
REPLY_INPUT = "earshot_reply_text"
COMPOSE_VIEW = "earshot_compose"
CONFIRM_VIEW = "earshot_confirm"
STORM_ANSWER_VIEW = "earshot_storm_answer_view"
STORM_TEMPLATE_BLOCK = "template"
STORM_TEMPLATE_INPUT = "earshot_storm_template"
SLOT_BLOCK = "slot_"  # + slot name
SLOT_INPUT = "earshot_slot"  # + _<slot name>: action ids are unique within a view
METER_BLOCK = "meter"
APPROVE_ACTION = "earshot_approve"
APPROVE_EDIT_ACTION = "earshot_approve_edit"
REJECT_ACTION = "earshot_reject"
APPROVE_EDIT_VIEW = "earshot_approve_edit_view"
REJECT_VIEW = "earshot_reject_view"
NOTE_BLOCK = "note"
NOTE_INPUT = "earshot_note"
OPEN_CARD_ACTION = "earshot_open_card"  # suffixed _<case id>: unique in the message
