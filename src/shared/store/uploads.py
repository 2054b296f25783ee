"""The imports bucket, as the import function sees it: an upload's size, its bytes as a stream, its deletion.

A botocore S3 client is made on first use (boto3 adds nothing the importer needs). A missing object is None
(size) or UploadMissing (open): on AWS that needs the 404 S3 gives with s3:ListBucket; without it S3 answers
403, which is left to fail the record (it may as well be a permission fault of ours).
"""

from __future__ import annotations

from typing import Any

from shared.archive import Readable
from shared.archive_import import UploadMissing


class S3Uploads:
    def __init__(self, bucket: str, region: str, endpoint_url: str | None = None, *, client: Any = None) -> None:
        self.bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url
        self._client: Any = client

    def size(self, key: str) -> int | None:
        """The object's size in bytes (HeadObject), None if there is none."""
        try:
            head = self.client().head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _not_found(exc):
                return None
            raise
        return int(head["ContentLength"])

    def open(self, key: str) -> Readable:
        """The object's bytes, streamed as they are read (GetObject's body)."""
        try:
            response = self.client().get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _not_found(exc):
                raise UploadMissing(key) from None
            raise
        body: Readable = response["Body"]
        return body

    def delete(self, key: str) -> None:
        """Delete the object (nothing happens if it is gone already)."""
        self.client().delete_object(Bucket=self.bucket, Key=key)

    def client(self) -> Any:
        if self._client is None:
            import botocore.session  # noqa: PLC0415 (made on first use, as the queue's)

            self._client = botocore.session.get_session().create_client(
                "s3", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")
