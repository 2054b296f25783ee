"""The presigned S3 POST that uploads one import's bundle, and where that POST goes.

The policy names the exact key (bundle.object_key), the bundle's content type, and a size range of 1 byte to
bundle.MAX_UPLOAD_BYTES; it expires after bundle.UPLOAD_SECONDS. AWS enforces all of it (an oversize POST is
refused and sends no event); moto enforces none, so the importer checks the size again.

Where it goes (`upload_url`), one answer for the POST and for the page's CSP (`upload_origin`):
- on AWS, the bucket's regional virtual-hosted URL, https://BUCKET.s3.REGION.amazonaws.com/: the browser's
  POST and its CORS preflight reach the bucket's own region at once (the global name answers a bucket in
  another region with a redirect, which a CORS request does not follow);
- with AWS_ENDPOINT_URL (moto, `make dev`), path style under that endpoint: ENDPOINT/BUCKET.

boto3 is imported on the first presign, not with this module: the page and the picks never pay for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from shared.bundle import CONTENT_TYPE, MAX_UPLOAD_BYTES, UPLOAD_SECONDS
from shared.imports import PresignedUpload


def upload_url(bucket: str, region: str, endpoint_url: str | None = None) -> str:
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/"


def upload_origin(bucket: str | None, region: str, endpoint_url: str | None = None) -> str | None:
    """scheme://host[:port] of the uploads' POST (what the page's connect-src allows), None without a bucket."""
    if not bucket:
        return None
    parts = urlsplit(upload_url(bucket, region, endpoint_url))
    return f"{parts.scheme}://{parts.netloc}"


class S3Presigner:
    """Signs with the caller's credentials (the api's role, or the operator's): the POST can do exactly what
    they may, here s3:PutObject on uploads/*."""

    def __init__(self, bucket: str, region: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url

    @property
    def url(self) -> str:
        return upload_url(self.bucket, self.region, self.endpoint_url)

    @cached_property
    def _s3(self) -> Any:
        import boto3  # noqa: PLC0415 - on first use (see the module's docstring)
        from botocore.config import Config  # noqa: PLC0415

        config = Config(signature_version="s3v4", s3={"addressing_style": "path" if self.endpoint_url else "virtual"})
        factory: Any = boto3.client  # boto3-stubs types one overload per service
        return factory("s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config)

    def presign(self, key: str, *, now: datetime) -> PresignedUpload:
        signed = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,  # botocore adds the exact-key and bucket conditions itself
            Fields={"Content-Type": CONTENT_TYPE},
            Conditions=[
                {"Content-Type": CONTENT_TYPE},
                ["content-length-range", 1, MAX_UPLOAD_BYTES],
            ],
            ExpiresIn=UPLOAD_SECONDS,
        )
        # The signature covers the policy, not the URL: the URL is ours, the same one the page's CSP allows.
        return PresignedUpload(
            url=self.url,
            fields={str(k): str(v) for k, v in signed["fields"].items()},
            expires_at=now + timedelta(seconds=UPLOAD_SECONDS),
        )
