"""The MinIO (S3) backend: ``minio://HOST:PORT/BUCKET[/PREFIX]``, ``minios://`` for TLS.

Credentials come only from the environment (``MINIO_ACCESS_KEY``/``MINIO_SECRET_KEY``,
else ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``), read when a store is built and
never logged nor put in an error message. Every S3 PUT is atomic, so ``put_bytes`` is a
plain PUT; ``put_if_absent`` is a conditional PUT (``If-None-Match: *``) that the server
refuses with ``412 PreconditionFailed`` when the object exists, so two racing creators
get exactly one success.

Transient failures (connection refused or reset, timeouts, HTTP 5xx, ``SlowDown``) are
retried here with exponential backoff, a bounded number of times and within a bounded
time (urllib3's own retries are off); then a one-line :class:`StoreError` says whether
the endpoint is unreachable, the credentials are wrong, the bucket is unknown, or what
else failed.
"""

from __future__ import annotations

import io
import logging
import os
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from lifecycle.errors import InvalidInputError, KeyNotFoundError, StoreError
from lifecycle.store.base import Store, validate_key, validate_prefix
from lifecycle.store.ranged import RangedObject

_log = logging.getLogger(__name__)

T = TypeVar("T")

ACCESS_KEY_ENVS = ("MINIO_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
SECRET_KEY_ENVS = ("MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")
SECURE_ENV = "MINIO_SECURE"
RETRIES_ENV = "STORE_RETRIES"
RETRY_DELAY_ENV = "STORE_RETRY_DELAY"
RETRY_BUDGET_ENV = "STORE_RETRY_BUDGET"
CONNECT_TIMEOUT_ENV = "STORE_CONNECT_TIMEOUT"
READ_TIMEOUT_ENV = "STORE_READ_TIMEOUT"

# S3 error codes, grouped by what the user should do about them.
_CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"})
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "OperationAborted",
        "ConditionalRequestConflict",
        "XMinioServerNotInitialized",
        "XMinioStorageFull",
    }
)
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
_EXISTING_BUCKET_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})

_CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
}
_GET_MANY_WORKERS = 16
_DOWNLOAD_CHUNK = 1 << 20
_DELETE_BATCH = 1000
# A file above this size is uploaded as a multipart upload of parts this large (at most
# _UPLOAD_THREADS parts in memory at once); S3 makes the object visible only when the
# upload completes, so the write stays atomic.
PART_SIZE = 16 * 1024 * 1024
_UPLOAD_THREADS = 2
_DOWNLOAD_CHUNK = 1 << 20


def _env_number(name: str, default: float, cast: Callable[[str], float]) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise InvalidInputError(f"invalid ${name} {raw!r}: expected a number") from None
    if value < 0:
        raise InvalidInputError(f"invalid ${name} {raw!r}: must not be negative")
    return value


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: ``retries`` more attempts, exponential backoff.

    The delay before retry ``n`` (from 0) is ``base_delay * 2**n`` (with a little jitter);
    no retry starts once ``budget`` seconds have passed since the first attempt.
    """

    retries: int = 5
    base_delay: float = 0.2
    budget: float = 10.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Read ``$STORE_RETRIES``, ``$STORE_RETRY_DELAY`` and ``$STORE_RETRY_BUDGET``.

        Raises:
            InvalidInputError: a variable is not a non-negative number.
        """
        return cls(
            retries=int(_env_number(RETRIES_ENV, cls.retries, int)),
            base_delay=_env_number(RETRY_DELAY_ENV, cls.base_delay, float),
            budget=_env_number(RETRY_BUDGET_ENV, cls.budget, float),
        )

    def delay(self, attempt: int) -> float:
        return self.base_delay * (2**attempt) * (1 + random.random() / 4)  # noqa: S311


@dataclass(frozen=True)
class MinioSettings:
    """Where and how to reach the server; everything but the credentials."""

    endpoint: str
    bucket: str
    prefix: str = ""
    secure: bool = False
    connect_timeout: float = 2.0
    read_timeout: float = 20.0
    retry: RetryPolicy = RetryPolicy()

    @property
    def uri(self) -> str:
        scheme = "minios" if self.secure else "minio"
        tail = f"/{self.prefix}" if self.prefix else ""
        return f"{scheme}://{self.endpoint}/{self.bucket}{tail}"

    @classmethod
    def from_uri(cls, uri: str) -> MinioSettings:
        """Parse ``minio://HOST:PORT/BUCKET[/PREFIX]`` plus the ``$STORE_*`` tuning variables.

        Raises:
            InvalidInputError: malformed URI, credentials in the URI, bad bucket or prefix.
        """
        parts = urlsplit(uri)
        if parts.scheme not in ("minio", "minios"):
            raise InvalidInputError(f"not a MinIO store URI: scheme {parts.scheme!r}")
        if "@" in parts.netloc:
            # Do not echo the URI: it holds a secret.
            raise InvalidInputError(
                "MinIO store URI must not contain credentials: set MINIO_ACCESS_KEY and "
                "MINIO_SECRET_KEY in the environment instead"
            )
        shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
        if not parts.hostname or parts.query or parts.fragment:
            raise InvalidInputError(
                f"invalid MinIO store URI {shown!r}: use minio://HOST:PORT/BUCKET"
            )
        try:
            parts.port  # noqa: B018 - raises on a non-numeric port
        except ValueError:
            raise InvalidInputError(f"invalid MinIO store URI {shown!r}: bad port") from None
        bucket, _, prefix = parts.path.strip("/").partition("/")
        if not bucket:
            raise InvalidInputError(
                f"invalid MinIO store URI {shown!r}: no bucket after HOST:PORT/"
            )
        _check_bucket_name(bucket, shown)
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)
        secure = parts.scheme == "minios" or os.environ.get(SECURE_ENV, "").strip().lower() in (
            "1",
            "true",
            "yes",
        )
        return cls(
            endpoint=parts.netloc,
            bucket=bucket,
            prefix=prefix,
            secure=secure,
            connect_timeout=_env_number(CONNECT_TIMEOUT_ENV, cls.connect_timeout, float),
            read_timeout=_env_number(READ_TIMEOUT_ENV, cls.read_timeout, float),
            retry=RetryPolicy.from_env(),
        )


def _check_bucket_name(bucket: str, shown: str) -> None:
    ok = (
        3 <= len(bucket) <= 63
        and all(c.islower() or c.isdigit() or c in ".-" for c in bucket)
        and bucket[0].isalnum()
        and bucket[-1].isalnum()
        and ".." not in bucket
    )
    if not ok:
        raise InvalidInputError(
            f"invalid bucket {bucket!r} in {shown!r}: "
            "use 3-63 lowercase letters, digits, '.' or '-'"
        )


def _credentials() -> tuple[str, str]:
    for access_env, secret_env in zip(ACCESS_KEY_ENVS, SECRET_KEY_ENVS, strict=True):
        access, secret = os.environ.get(access_env), os.environ.get(secret_env)
        if access and secret:
            return access, secret
    raise StoreError(
        "no MinIO credentials: set MINIO_ACCESS_KEY and MINIO_SECRET_KEY "
        "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, S3Error):
        status = exc.response.status if exc.response is not None else 0
        return exc.code in _TRANSIENT_CODES or status >= 500
    if isinstance(exc, ServerError):
        return exc.status_code >= 500
    if isinstance(exc, InvalidResponseError):
        return "code: 5" in str(exc)  # non-XML 5xx, e.g. from a proxy in front of MinIO
    return False


def _not_s3(exc: BaseException) -> str | None:
    """What a non-S3 answer was (e.g. ``HTTP 200, text/html``), or None for an S3 answer."""
    if isinstance(exc, InvalidResponseError):
        status = getattr(exc, "_code", "?")
        kind = (getattr(exc, "_content_type", None) or "no content type").split(";")[0]
        return f"HTTP {status}, {kind}"
    if isinstance(exc, ET.ParseError):  # a 200 whose body is not XML, e.g. a web page
        return "a body that is not S3's XML"
    return None


def _connection_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("reset", "connection reset"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("ssl", "TLS handshake failed"),
    ):
        if needle in text:
            return reason
    return type(exc).__name__


class MinioStore(Store):
    """Objects in a MinIO bucket, optionally under a key prefix."""

    def __init__(self, settings: MinioSettings, create: bool = True):
        """Connect and create the bucket when absent (unless ``create`` is False).

        Raises:
            StoreError: no credentials in the environment, or the server cannot be used
                (unreachable, wrong credentials, bucket neither present nor creatable).
        """
        self.settings = settings
        self.uri = settings.uri
        self.bucket = settings.bucket
        self._root = f"{settings.prefix}/" if settings.prefix else ""
        access_key, secret_key = _credentials()
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            maxsize=_GET_MANY_WORKERS * 2,
            retries=False,  # our _call retries, with backoff and a clear final error
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        self._client = Minio(
            settings.endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=settings.secure,
            region="us-east-1",  # skips a GetBucketLocation round trip per bucket
            http_client=http,
        )
        self._ensure_bucket(create)

    @classmethod
    def from_uri(cls, uri: str, create: bool = True) -> MinioStore:
        """The store named by ``minio://HOST:PORT/BUCKET[/PREFIX]`` (``minios://``: TLS).

        Args:
            uri: the store URI.
            create: create the bucket when absent; False for commands that only read.

        Raises:
            InvalidInputError: malformed URI or tuning variable.
            StoreError: see :meth:`__init__`.
        """
        return cls(MinioSettings.from_uri(uri), create)

    # -- plumbing ---------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self._root + validate_key(key)

    def _fail(self, what: str, exc: BaseException, attempts: int, elapsed: float) -> StoreError:
        """One line saying which of endpoint, credentials, bucket or other is at fault."""
        where = f"MinIO store {self.uri}"
        tried = f" after {attempts} attempts in {elapsed:.1f}s" if attempts > 1 else ""
        answer = _not_s3(exc)
        if answer is not None:
            return StoreError(
                f"{where}: endpoint {self.settings.endpoint} does not answer as S3 ({answer}) "
                f"while trying to {what}{tried}; is it the MinIO API's host and port?"
            )
        if isinstance(exc, S3Error):
            code = exc.code or "error"
            if code in _CREDENTIAL_CODES:
                return StoreError(
                    f"{where}: wrong credentials ({code}) while trying to {what}; check "
                    "MINIO_ACCESS_KEY and MINIO_SECRET_KEY"
                )
            if code == "NoSuchBucket":
                return StoreError(f"{where}: unknown bucket {self.bucket!r} while trying to {what}")
            if code == "AccessDenied":
                return StoreError(
                    f"{where}: access denied while trying to {what}; the credentials may not "
                    f"use bucket {self.bucket!r}"
                )
            return StoreError(f"{where}: cannot {what}: {code}: {exc.message}{tried}")
        if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
            return StoreError(
                f"{where}: endpoint {self.settings.endpoint} unreachable "
                f"({_connection_reason(exc)}) while trying to {what}{tried}; is the server running?"
            )
        detail = " ".join(str(exc).split())  # one line, whatever the server sent
        return StoreError(f"{where}: cannot {what}: {type(exc).__name__}: {detail}{tried}")

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """Run ``action``, retrying transient failures per the retry policy."""
        policy = self.settings.retry
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return action()
            except (MinioException, urllib3.exceptions.HTTPError, OSError, ET.ParseError) as exc:
                if isinstance(exc, S3Error) and exc.code in _MISSING_KEY_CODES:
                    raise
                elapsed = time.monotonic() - started
                delay = policy.delay(attempt)
                if (
                    not _is_transient(exc)
                    or attempt >= policy.retries
                    or elapsed + delay > policy.budget
                ):
                    raise self._fail(what, exc, attempt + 1, elapsed) from None
                _log.warning(
                    "MinIO store %s: %s failed (%s), retry %d/%d in %.2fs",
                    self.uri,
                    what,
                    type(exc).__name__,
                    attempt + 1,
                    policy.retries,
                    delay,
                )
                time.sleep(delay)
                attempt += 1

    def _ensure_bucket(self, create: bool) -> None:
        def ensure() -> None:
            # A GET, not bucket_exists(): a HEAD's 403 has no body, so it cannot tell wrong
            # credentials (InvalidAccessKeyId, SignatureDoesNotMatch) from AccessDenied.
            try:
                listing = self._client.list_objects(self.bucket, prefix=self._root)
                next(iter(listing), None)
                return
            except S3Error as exc:
                if exc.code != "NoSuchBucket":
                    raise
            if not create:
                raise StoreError(
                    f"no store at {self.uri}: bucket {self.bucket!r} does not exist; check "
                    "--store or $STORE"
                )
            try:
                self._client.make_bucket(self.bucket)
            except S3Error as exc:
                if exc.code not in _EXISTING_BUCKET_CODES:
                    if exc.code == "AccessDenied":
                        raise StoreError(
                            f"MinIO store {self.uri}: unknown bucket {self.bucket!r} and these "
                            "credentials may not create it (AccessDenied)"
                        ) from None
                    raise

        self._call(f"open bucket {self.bucket!r}", ensure)

    # -- the Store interface ----------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> None:
        name = self._name(key)
        content_type = _CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        self._call(
            f"write {key!r}",
            lambda: self._client.put_object(
                self.bucket, name, io.BytesIO(data), len(data), content_type=content_type
            ),
        )

    def put_file(self, key: str, path: str | os.PathLike[str], move: bool = False) -> None:
        name = self._name(key)
        content_type = _CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        size = os.path.getsize(path)

        def upload() -> None:
            # Each attempt reads the file afresh; a failed multipart upload is aborted by the
            # client, and an interrupted one is never visible (only completion publishes it).
            with open(path, "rb") as handle:
                self._client.put_object(
                    self.bucket,
                    name,
                    handle,
                    size,
                    content_type=content_type,
                    part_size=PART_SIZE,
                    num_parallel_uploads=_UPLOAD_THREADS,
                )

        self._call(f"write {key!r}", upload)
        if move:
            Path(path).unlink(missing_ok=True)

    def get_file(self, key: str, path: str | os.PathLike[str]) -> None:
        name = self._name(key)

        def download() -> None:
            # A retry starts the file afresh: it never holds two attempts' bytes.
            response = self._client.get_object(self.bucket, name)
            try:
                with open(path, "wb") as handle:
                    for chunk in response.stream(_DOWNLOAD_CHUNK):
                        handle.write(chunk)
            finally:
                response.close()
                response.release_conn()

        try:
            self._call(f"read {key!r}", download)
        except S3Error:  # only the missing-key codes get here
            raise KeyNotFoundError(f"no object {key!r} in store {self.uri}") from None

    def open_ranged(self, key: str) -> RangedObject:
        name = self._name(key)
        try:
            size = self._call(
                f"read {key!r}", lambda: self._client.stat_object(self.bucket, name)
            ).size
        except S3Error:  # only the missing-key codes get here
            raise KeyNotFoundError(f"no object {key!r} in store {self.uri}") from None

        return RangedObject(
            key, size or 0, lambda offset, length: self._read_object(key, offset, length)
        )

    def put_if_absent(self, key: str, data: bytes) -> bool:
        name = self._name(key)

        def create() -> bool:
            try:
                # put_object() would turn If-None-Match into user metadata, so send the single
                # PUT with raw headers. A retry after a lost reply may report False for an
                # object this call created: exclusivity holds, at worst a claim is skipped.
                self._client._put_object(  # noqa: SLF001
                    self.bucket,
                    name,
                    data,
                    headers={"If-None-Match": "*", "Content-Type": "application/octet-stream"},
                )
            except S3Error as exc:
                if exc.code == "PreconditionFailed":
                    return False
                raise
            return True

        return self._call(f"create {key!r}", create)

    def get_bytes(self, key: str) -> bytes:
        return self._read_object(key)

    def _read_object(self, key: str, offset: int = 0, length: int = 0) -> bytes:
        """The object at ``key``, or its ``length`` bytes from ``offset`` (a ranged GET)."""
        name = self._name(key)

        def read() -> bytes:
            response = self._client.get_object(self.bucket, name, offset=offset, length=length)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        what = f"read {key!r}" + (f" (bytes {offset}-{offset + length - 1})" if length else "")
        try:
            return self._call(what, read)
        except S3Error:  # only the missing-key codes get here
            raise KeyNotFoundError(f"no object {key!r} in store {self.uri}") from None

    def exists(self, key: str) -> bool:
        name = self._name(key)

        def stat() -> bool:
            try:
                self._client.stat_object(self.bucket, name)
            except S3Error as exc:
                if exc.code in _MISSING_KEY_CODES:
                    return False
                raise
            return True

        return self._call(f"check {key!r}", stat)

    def _list_names(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        # Like the local store, a prefix names a folder: "a" and "a/" both list a/…, not ab/….
        folder = self._root + (prefix.rstrip("/") + "/" if prefix else "")
        return self._call(
            f"list {prefix or '/'!r}",
            lambda: [
                item.object_name
                for item in self._client.list_objects(self.bucket, prefix=folder, recursive=True)
                if not item.is_dir
            ],
        )

    def list_keys(self, prefix: str = "") -> list[str]:
        return sorted(name[len(self._root) :] for name in self._list_names(prefix))

    def list_modified(self, prefix: str = "") -> dict[str, float]:
        validate_prefix(prefix)
        folder = self._root + (prefix.rstrip("/") + "/" if prefix else "")
        return self._call(
            f"list {prefix or '/'!r}",
            lambda: {
                item.object_name[len(self._root) :]: item.last_modified.timestamp()
                for item in self._client.list_objects(self.bucket, prefix=folder, recursive=True)
                if not item.is_dir
            },
        )

    def temporary_objects(self) -> dict[str, float]:
        """Incomplete multipart uploads under the store's prefix, as ``KEY?uploadId=ID``."""

        def uploads() -> dict[str, float]:
            found: dict[str, float] = {}
            key_marker = upload_marker = None
            while True:
                page = self._client._list_multipart_uploads(  # noqa: SLF001 - no public API
                    self.bucket,
                    prefix=self._root or None,
                    key_marker=key_marker,
                    upload_id_marker=upload_marker,
                )
                for upload in page.uploads:
                    name = f"{upload.object_name[len(self._root) :]}?uploadId={upload.upload_id}"
                    started = upload.initiated_time
                    found[name] = started.timestamp() if started else 0.0
                if not page.is_truncated:
                    return found
                key_marker = page.next_key_marker
                upload_marker = page.uploads[-1].upload_id if page.uploads else None

        return self._call("list incomplete uploads", uploads)

    def remove_temporary(self, name: str) -> None:
        key, _, upload_id = name.partition("?uploadId=")
        object_name = self._name(key)
        self._call(
            f"abort the upload of {key!r}",
            lambda: self._client._abort_multipart_upload(  # noqa: SLF001 - no public API
                self.bucket, object_name, upload_id
            ),
        )

    def delete(self, key: str) -> None:
        name = self._name(key)
        self._call(f"delete {key!r}", lambda: self._client.remove_object(self.bucket, name))

    def get_many(self, keys: list[str]) -> list[bytes]:
        """Read ``keys`` in parallel (at most 16 requests in flight), in order."""
        if len(keys) <= 1:
            return [self.get_bytes(key) for key in keys]
        with ThreadPoolExecutor(max_workers=min(_GET_MANY_WORKERS, len(keys))) as pool:
            return list(pool.map(self.get_bytes, keys))

    def clear(self) -> None:
        """Delete every object under the store's prefix, 1000 per request."""
        names = self._list_names("")
        for start in range(0, len(names), _DELETE_BATCH):
            batch = names[start : start + _DELETE_BATCH]

            def remove(batch: list[str] = batch) -> None:
                errors = list(
                    self._client.remove_objects(self.bucket, (DeleteObject(n) for n in batch))
                )
                if errors:
                    first = errors[0]
                    raise StoreError(
                        f"MinIO store {self.uri}: cannot delete {len(errors)} objects, e.g. "
                        f"{first.name!r}: {first.code}"
                    )

            self._call("clear the store", remove)
