"""What a person reads and can click in a message or view, without looking at Block Kit JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .models import Ephemeral, JsonDict, Message, View

Surface = Message | Ephemeral | View | Mapping[str, Any]


@dataclass(frozen=True)
class Button:
    text: str
    action_id: str
    value: str | None
    block_id: str
    style: str | None = None
    url: str | None = None


def _blocks(surface: Surface) -> list[JsonDict]:
    if isinstance(surface, Message | Ephemeral | View):
        return surface.blocks
    return list(surface.get("blocks") or [])


def _fallback_text(surface: Surface) -> str:
    if isinstance(surface, Message | Ephemeral):
        return surface.text
    if isinstance(surface, View):
        return ""
    return str(surface.get("text") or "")


def _texts(block: Mapping[str, Any]) -> Iterable[str]:
    kind = block.get("type")
    if kind in ("section", "header"):
        if isinstance(block.get("text"), Mapping):
            yield str(block["text"].get("text", ""))
        for item in block.get("fields") or []:
            yield str(item.get("text", ""))
    elif kind == "context":
        for element in block.get("elements") or []:
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield str(element.get("text", ""))
    elif kind == "input" and isinstance(block.get("label"), Mapping):
        yield str(block["label"].get("text", ""))
    elif kind == "rich_text":
        yield "".join(_rich_text(block.get("elements") or []))


def _rich_text(elements: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for element in elements:
        if "elements" in element:
            yield from _rich_text(element["elements"])
        elif element.get("type") == "text":
            yield str(element.get("text", ""))


def rendered_text(surface: Surface) -> str:
    """The text a person reads, block by block (the fallback `text` when there are no blocks)."""
    blocks = _blocks(surface)
    if not blocks:
        return _fallback_text(surface)
    return "\n".join(text for block in blocks for text in _texts(block) if text)


def buttons(surface: Surface) -> list[Button]:
    """Every button a person can click, in reading order."""
    found: list[Button] = []
    for block in _blocks(surface):
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("type") == "section" and block.get("accessory"):
            elements = [block["accessory"]]
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    Button(
                        text=str(element.get("text", {}).get("text", "")),
                        action_id=str(element.get("action_id", "")),
                        value=element.get("value"),
                        block_id=str(block.get("block_id", "")),
                        style=element.get("style"),
                        url=element.get("url"),
                    )
                )
    return found
