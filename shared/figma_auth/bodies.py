"""Bodies too large for Lambda's response, and the read-once cache's bodies, in the stack's S3
bucket (``BODIES_BUCKET``): streamed in as they arrive (multipart: the function never holds more
than one part), encrypted with the stack's KMS key, handed out as presigned URLs that live at most
URL_SECONDS. The bucket's lifecycle deletes ``answers/`` after a day and ``files/`` after
FILE_CACHE_DAYS (template.yaml)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_BYTES = 8 * 1024 * 1024  # S3's parts are 5 MB at least (but the last)
URL_SECONDS = 300  # a presigned URL's life: long enough to follow the redirect, no longer
ANSWERS = "answers/"  # one proxied answer each, followed once; the lifecycle deletes them after a day
FILES = "files/"  # the read-once cache: files/<file key>/<version>/<request hash>


class Bodies:
    def __init__(self, *, bucket: str, kms_key_id: str, s3: Callable[[], S3Client]) -> None:
        self.bucket, self.kms_key_id, self._s3 = bucket, kms_key_id, s3

    @staticmethod
    def answer_key() -> str:
        """Where one proxied answer goes: unguessable (the URL to it is the capability anyway)."""
        return f"{ANSWERS}{uuid.uuid4().hex}"

    def stream(self, key: str, chunks: Iterator[bytes], content_type: str, encoding: str | None) -> int:
        """``chunks`` stored at ``key`` as they come, in parts of PART_BYTES; the upload is
        aborted (nothing stored) if anything fails. The bytes stored."""
        s3 = self._s3()
        upload = s3.create_multipart_upload(Bucket=self.bucket, Key=key, **self._object(content_type, encoding))
        parts: list[CompletedPartTypeDef] = []
        size = 0
        try:
            for part in _parts(chunks, PART_BYTES):
                number = len(parts) + 1
                sent = s3.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=part
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                size += len(part)
            s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
            )
        except BaseException:
            s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
            raise
        return size

    def put(self, key: str, body: bytes, content_type: str, encoding: str | None) -> None:
        self._s3().put_object(Bucket=self.bucket, Key=key, Body=body, **self._object(content_type, encoding))

    def read(self, key: str) -> bytes:
        return self._s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes, a part at a time."""
        body = self._s3().get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(PART_BYTES)
        finally:
            body.close()

    def url(self, key: str) -> str:
        """A presigned GET of ``key``, valid URL_SECONDS; never stored by a cache on the way."""
        return self._s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseCacheControl": "no-store"},
            ExpiresIn=URL_SECONDS,
        )

    def delete(self, keys: list[str]) -> None:
        s3 = self._s3()
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at most
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})  # type: ignore[typeddict-item]

    def _object(self, content_type: str, encoding: str | None) -> dict[str, Any]:
        """How an object is stored: encrypted with the stack's key, served as Figma served it."""
        described = {
            "ContentType": content_type,
            "CacheControl": "private, no-store",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": self.kms_key_id,
        }
        return {**described, **({"ContentEncoding": encoding} if encoding else {})}


def _parts(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """``chunks`` regrouped into pieces of ``size`` bytes (the last may be shorter; never empty
    unless nothing came at all, so an empty body is one empty part)."""
    pending = bytearray()
    sent = False
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
            sent = True
    if pending or not sent:
        yield bytes(pending)
