"""The import queue, for the import function's own continuation messages (an import longer than an invocation)."""

from __future__ import annotations

from typing import Any

from shared.archive_import import ImportRequest


class SqsContinuations:
    """SendMessage to the import queue, through a botocore client made on first use (or the one given)."""

    def __init__(self, queue_url: str, region: str, endpoint_url: str | None = None, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._region = region
        self._endpoint_url = endpoint_url
        self._client: Any = client

    def send(self, request: ImportRequest) -> None:
        self.client().send_message(QueueUrl=self.queue_url, MessageBody=request.continuation_body())

    def client(self) -> Any:
        if self._client is None:
            import botocore.session  # noqa: PLC0415 (made on first use: most imports never continue)

            self._client = botocore.session.get_session().create_client(
                "sqs", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client
