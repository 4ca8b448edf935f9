"""Stand-ins for outside services the tests must not call."""

from __future__ import annotations

from typing import Any

from wagtail.embeds.finders.base import EmbedFinder


class FakeVideoFinder(EmbedFinder):
    """Answers for any https video address without going to the network."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def accept(self, url: str) -> bool:
        return url.startswith("https://")

    def find_embed(self, url: str, max_width: int | None = None, max_height: int | None = None):  # noqa: ANN201
        return {
            "title": "Training video",
            "author_name": "Pathways",
            "provider_name": "Test",
            "type": "video",
            "thumbnail_url": "",
            "width": 640,
            "height": 360,
            "html": '<iframe title="Training video" src="https://www.youtube-nocookie.com/embed/x"></iframe>',
        }
