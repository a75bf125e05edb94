"""Block Kit limits, checked the way Slack checks them before it accepts a surface.

Each number is cited from Slack's reference where it is checked. Problems are worded like
Slack's own answers (``"must be less than 3001 characters [json-pointer:/blocks/1/text/text]"``,
as seen in real ``invalid_blocks`` responses), so a failing test reads like the production log
it prevents.

These are pure functions: the fake server calls them on every surface it receives, and builder
unit tests may call them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

# https://docs.slack.dev/reference/block-kit/blocks: "up to 50 blocks in each message, and 100
# blocks in modals or Home tabs".
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
# https://docs.slack.dev/reference/methods/chat.postMessage (and the 2018 changelog "truncating
# really long messages"): Slack cuts `text` past 40,000 characters. The fake refuses it with the
# method's documented `msg_too_long` so that no alert silently loses its end.
MESSAGE_TEXT_MAX = 40_000
# https://docs.slack.dev/reference/block-kit/composition-objects/text-object: 1 to 3,000.
TEXT_OBJECT_MAX = 3_000
# https://docs.slack.dev/reference/block-kit/blocks/section-block
SECTION_TEXT_MAX = 3_000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2_000
# https://docs.slack.dev/reference/block-kit/blocks/header-block (plain_text only)
HEADER_TEXT_MAX = 150
# https://docs.slack.dev/reference/block-kit/blocks/context-block
CONTEXT_ELEMENTS_MAX = 10
# https://docs.slack.dev/reference/block-kit/blocks/actions-block
ACTIONS_ELEMENTS_MAX = 25
# https://docs.slack.dev/reference/block-kit/blocks/input-block (label and hint, plain_text)
INPUT_LABEL_MAX = 2_000
# https://docs.slack.dev/reference/block-kit/blocks/image-block
IMAGE_ALT_TEXT_MAX = 2_000
IMAGE_URL_MAX = 3_000
# Every block's `block_id` and every element's `action_id` (block and element reference pages).
ID_MAX = 255
# https://docs.slack.dev/reference/block-kit/block-elements/button-element (text is plain_text)
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2_000
BUTTON_URL_MAX = 3_000
# https://docs.slack.dev/reference/block-kit/composition-objects/option-object
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTION_DESCRIPTION_MAX = 75
# https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element: up to 100
# options or option groups; https://docs.slack.dev/reference/block-kit/block-elements/
# overflow-menu-element: 2 to 5 options; radio buttons and checkboxes: up to 10.
SELECT_OPTIONS_MAX = 100
OVERFLOW_OPTIONS_MAX = 5
CHOICE_OPTIONS_MAX = 10
# Placeholders of selects and inputs (element reference pages), plain_text.
PLACEHOLDER_MAX = 150
# https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
# https://docs.slack.dev/reference/views/modal-views (title, submit, close are plain_text)
MODAL_TITLE_MAX = 24
MODAL_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3_000
CALLBACK_ID_MAX = 255
EXTERNAL_ID_MAX = 255

_SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}
_CHOICES = {"radio_buttons", "checkboxes"}
_PLACEHOLDER_ELEMENTS = {
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a JSON pointer, as Slack reports it), what, and Slack's error."""

    problem: str
    pointer: str
    error: str = "invalid_blocks"

    def __str__(self) -> str:
        return f"{self.problem} [json-pointer:{self.pointer}]"


def check_message(payload: Mapping[str, Any]) -> list[str]:
    """Problems Slack would reject in a message (`chat.postMessage`, `chat.update`, a response_url
    post): empty when the message is acceptable."""
    return [str(v) for v in find_message_violations(payload)]


def check_view(view: Mapping[str, Any]) -> list[str]:
    """Problems Slack would reject in a modal or Home tab view: empty when acceptable."""
    return [str(v) for v in find_view_violations(view)]


def find_message_violations(payload: Mapping[str, Any]) -> list[Violation]:
    """Like `check_message`, with the error code Slack answers each problem with."""
    checker = _Checker()
    text = payload.get("text")
    blocks = payload.get("blocks")
    if not text and not blocks and not payload.get("attachments"):
        # chat.postMessage: "One of these arguments is required" (text, blocks, attachments).
        checker.add("", "must provide either `text` or `blocks`", error="no_text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        checker.add("/text", _too_long(MESSAGE_TEXT_MAX), error="msg_too_long")
    if blocks is not None:
        checker.blocks(blocks, "/blocks", max_blocks=MESSAGE_MAX_BLOCKS)
    return checker.found


def find_view_violations(view: Mapping[str, Any]) -> list[Violation]:
    """Like `check_view`; views.* answer every problem with `invalid_arguments`."""
    checker = _Checker(error="invalid_arguments")
    root = "/view"
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        checker.add(f"{root}/type", "must be one of `modal`, `home`")
    blocks = view.get("blocks")
    if blocks is None:
        checker.add(root, "missing required field: blocks")
    else:
        checker.blocks(blocks, f"{root}/blocks", max_blocks=VIEW_MAX_BLOCKS)
    if view_type == "modal":
        checker.text_object(view.get("title"), f"{root}/title", MODAL_TITLE_MAX, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text_object(view[key], f"{root}/{key}", MODAL_BUTTON_MAX, plain_only=True)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            # modal-views reference: "submit is required when an input block is within the
            # blocks array".
            checker.add(f"{root}/submit", "missing required field: submit (the view has inputs)")
    checker.max_len(view.get("private_metadata"), PRIVATE_METADATA_MAX, f"{root}/private_metadata")
    checker.max_len(view.get("callback_id"), CALLBACK_ID_MAX, f"{root}/callback_id")
    checker.max_len(view.get("external_id"), EXTERNAL_ID_MAX, f"{root}/external_id")
    return checker.found


def _too_long(limit: int) -> str:
    return f"must be less than {limit + 1} characters"


@dataclass
class _Checker:
    error: str = "invalid_blocks"
    found: list[Violation] = field(default_factory=list)
    _block_ids: set[str] = field(default_factory=set)

    def add(self, pointer: str, problem: str, *, error: str | None = None) -> None:
        self.found.append(Violation(problem, pointer or "/", error or self.error))

    def max_len(self, value: object, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(pointer, _too_long(limit))

    def text_object(
        self, obj: object, pointer: str, limit: int, *, plain_only: bool = False
    ) -> None:
        if obj is None:
            self.add(pointer, "missing required field")
            return
        if not isinstance(obj, Mapping):
            self.add(pointer, "must be a text object")
            return
        if obj.get("type") not in ("plain_text", "mrkdwn"):
            self.add(f"{pointer}/type", "must be one of `plain_text`, `mrkdwn`")
        elif plain_only and obj["type"] != "plain_text":
            self.add(f"{pointer}/type", "must be `plain_text` here, not `mrkdwn`")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add(f"{pointer}/text", "missing required field: text")
        elif not text:
            self.add(f"{pointer}/text", "must be more than 0 characters")
        else:
            self.max_len(text, limit, f"{pointer}/text")

    def blocks(self, blocks: object, pointer: str, *, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.add(pointer, "must be an array of blocks", error="invalid_blocks_format")
            return
        if len(blocks) > max_blocks:
            self.add(pointer, f"no more than {max_blocks} items allowed")
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: object, pointer: str) -> None:
        if not isinstance(block, Mapping):
            self.add(pointer, "must be a block object")
            return
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            self.max_len(block_id, ID_MAX, f"{pointer}/block_id")
            if block_id in self._block_ids:
                # Blocks reference: block_id "should be unique for each message".
                self.add(f"{pointer}/block_id", f"duplicate block_id `{block_id}`")
            self._block_ids.add(block_id)
        block_type = block.get("type")
        if block_type == "section":
            self.section(block, pointer)
        elif block_type == "header":
            self.text_object(block.get("text"), f"{pointer}/text", HEADER_TEXT_MAX, plain_only=True)
        elif block_type == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add(f"{pointer}/elements", "must contain at least 1 item")
            else:
                if len(elements) > CONTEXT_ELEMENTS_MAX:
                    self.add(
                        f"{pointer}/elements", f"no more than {CONTEXT_ELEMENTS_MAX} items allowed"
                    )
                for index, element in enumerate(elements):
                    if isinstance(element, Mapping) and element.get("type") != "image":
                        self.text_object(element, f"{pointer}/elements/{index}", TEXT_OBJECT_MAX)
        elif block_type == "actions":
            self.actions(block, pointer)
        elif block_type == "input":
            self.text_object(
                block.get("label"), f"{pointer}/label", INPUT_LABEL_MAX, plain_only=True
            )
            if block.get("hint") is not None:
                self.text_object(block["hint"], f"{pointer}/hint", INPUT_LABEL_MAX, plain_only=True)
            self.element(block.get("element"), f"{pointer}/element")
        elif block_type == "image":
            self.max_len(block.get("alt_text"), IMAGE_ALT_TEXT_MAX, f"{pointer}/alt_text")
            self.max_len(block.get("image_url"), IMAGE_URL_MAX, f"{pointer}/image_url")
        elif block_type is None:
            self.add(pointer, "missing required field: type")

    def section(self, block: Mapping[str, Any], pointer: str) -> None:
        fields = block.get("fields")
        if block.get("text") is None and not fields:
            self.add(pointer, "must provide either `text` or `fields`")
        if block.get("text") is not None:
            self.text_object(block["text"], f"{pointer}/text", SECTION_TEXT_MAX)
        if fields is not None:
            if not isinstance(fields, list):
                self.add(f"{pointer}/fields", "must be an array of text objects")
            else:
                if len(fields) > SECTION_FIELDS_MAX:
                    self.add(
                        f"{pointer}/fields", f"no more than {SECTION_FIELDS_MAX} items allowed"
                    )
                for index, item in enumerate(fields):
                    self.text_object(item, f"{pointer}/fields/{index}", SECTION_FIELD_TEXT_MAX)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory")

    def actions(self, block: Mapping[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{pointer}/elements", "must contain at least 1 item")
            return
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            self.add(f"{pointer}/elements", f"no more than {ACTIONS_ELEMENTS_MAX} items allowed")
        seen: set[str] = set()
        for index, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{index}")
            action_id = element.get("action_id") if isinstance(element, Mapping) else None
            if isinstance(action_id, str):
                # action_id "should be unique among all other action_ids in the containing block".
                if action_id in seen:
                    self.add(
                        f"{pointer}/elements/{index}/action_id",
                        f"duplicate action_id `{action_id}` in one block",
                    )
                seen.add(action_id)

    def element(self, element: object, pointer: str) -> None:
        if not isinstance(element, Mapping):
            self.add(pointer, "must be an element object")
            return
        element_type = element.get("type")
        self.max_len(element.get("action_id"), ID_MAX, f"{pointer}/action_id")
        if element_type == "button":
            self.text_object(
                element.get("text"), f"{pointer}/text", BUTTON_TEXT_MAX, plain_only=True
            )
            self.max_len(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value")
            self.max_len(element.get("url"), BUTTON_URL_MAX, f"{pointer}/url")
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.add(f"{pointer}/style", "must be one of `primary`, `danger`")
        if element_type in _PLACEHOLDER_ELEMENTS and element.get("placeholder") is not None:
            self.text_object(
                element["placeholder"], f"{pointer}/placeholder", PLACEHOLDER_MAX, plain_only=True
            )
        if element_type in _SELECTS_WITH_OPTIONS:
            self.options(element.get("options"), f"{pointer}/options", SELECT_OPTIONS_MAX, True)
            groups = element.get("option_groups")
            if isinstance(groups, list):
                for index, group in enumerate(groups):
                    if isinstance(group, Mapping):
                        self.options(
                            group.get("options"),
                            f"{pointer}/option_groups/{index}/options",
                            SELECT_OPTIONS_MAX,
                            True,
                        )
        elif element_type == "overflow":
            self.options(element.get("options"), f"{pointer}/options", OVERFLOW_OPTIONS_MAX, True)
        elif element_type in _CHOICES:
            self.options(element.get("options"), f"{pointer}/options", CHOICE_OPTIONS_MAX, False)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{pointer}/confirm")

    def options(self, options: object, pointer: str, max_items: int, plain_only: bool) -> None:
        if options is None:
            return
        if not isinstance(options, list):
            self.add(pointer, "must be an array of options")
            return
        if len(options) > max_items:
            self.add(pointer, f"no more than {max_items} items allowed")
        for index, option in enumerate(options):
            here = f"{pointer}/{index}"
            if not isinstance(option, Mapping):
                self.add(here, "must be an option object")
                continue
            self.text_object(
                option.get("text"), f"{here}/text", OPTION_TEXT_MAX, plain_only=plain_only
            )
            self.max_len(option.get("value"), OPTION_VALUE_MAX, f"{here}/value")
            if option.get("description") is not None:
                self.text_object(
                    option["description"],
                    f"{here}/description",
                    OPTION_DESCRIPTION_MAX,
                    plain_only=True,
                )

    def confirm(self, confirm: object, pointer: str) -> None:
        if not isinstance(confirm, Mapping):
            self.add(pointer, "must be a confirmation dialog object")
            return
        self.text_object(
            confirm.get("title"), f"{pointer}/title", CONFIRM_TITLE_MAX, plain_only=True
        )
        self.text_object(confirm.get("text"), f"{pointer}/text", CONFIRM_TEXT_MAX)
        for key in ("confirm", "deny"):
            self.text_object(
                confirm.get(key), f"{pointer}/{key}", CONFIRM_BUTTON_MAX, plain_only=True
            )
