"""A message ready for chat.postMessage / chat.update: fallback text and blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block


# slack_sdk's own `Message` model is deprecated (it warns on construction), so we keep this one.
@dataclass(frozen=True)
class SlackMessage:
    """`text` is the notification and screen-reader fallback; it is always set."""

    text: str
    blocks: tuple[Block, ...]

    def to_dict(self) -> dict[str, Any]:
        """The `text=` and `blocks=` arguments; raises SlackObjectFormationError past a limit."""
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}
