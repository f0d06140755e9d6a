"""Least-privilege MinIO users: one per client, each allowed one bucket and nothing else.

MinIO's root user creates the buckets and, for each :class:`BucketGrant`, a user whose policy
allows only that bucket's objects (list, read, write, delete, multipart): no other bucket, no
bucket listing, no admin API. The stages get the ``lifecycle`` bucket's user; on the cluster,
KFP gets the ``mlpipeline`` bucket's user, and only MinIO itself and this provisioning hold the
root credentials. ``make minio`` runs it against the local server and the ``minio-setup`` Job
of ``manifests/base`` against the cluster's; both through :func:`main`, which reads every
credential from the environment, never from arguments.

Idempotent: buckets already there are kept; a policy and a user are (re)written, so a rerun
with a new secret key rotates it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import InvalidInputError, LifecycleError, StoreError

ROOT_USER_ENV = "MINIO_ROOT_USER"
ROOT_PASSWORD_ENV = "MINIO_ROOT_PASSWORD"
# Object actions a store client makes (lifecycle.store.minio and KFP's artifact client):
# conditional PUTs (If-None-Match / If-Match) are PutObject; leases and resets delete.
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")


@dataclass(frozen=True)
class BucketGrant:
    """A MinIO user allowed one bucket: created with these keys, given :func:`bucket_policy`."""

    bucket: str
    access_key: str
    secret_key: str = field(repr=False)

    @property
    def policy_name(self) -> str:
        return f"bucket-{self.bucket}-readwrite"


def bucket_policy(bucket: str) -> dict[str, Any]:
    """An IAM policy allowing the objects of ``bucket`` and nothing else.

    Returns:
        The policy document (``Version``, ``Statement``), as MinIO's admin API takes it.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(BUCKET_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }


def grants_from_env(specs: Sequence[str], environ: Mapping[str, str]) -> list[BucketGrant]:
    """Parse ``BUCKET=PREFIX`` specs; each user's keys are ``$PREFIX_ACCESS_KEY`` and
    ``$PREFIX_SECRET_KEY``.

    Raises:
        InvalidInputError: a malformed spec, a missing variable, or a bucket named twice.
    """
    grants = []
    for spec in specs:
        bucket, sep, prefix = spec.partition("=")
        if not sep or not bucket or not prefix:
            raise InvalidInputError(
                f"--grant {spec!r}: use BUCKET=ENV_PREFIX, e.g. lifecycle=STAGE"
            )
        names = (f"{prefix}_ACCESS_KEY", f"{prefix}_SECRET_KEY")
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise InvalidInputError(f"--grant {spec}: {' and '.join(missing)} not set")
        grants.append(BucketGrant(bucket, environ[names[0]], environ[names[1]]))
    buckets = [grant.bucket for grant in grants]
    if len(set(buckets)) != len(buckets):
        raise InvalidInputError(f"a bucket is granted twice: {', '.join(buckets)}")
    return grants


def provision(
    endpoint: str,
    root_user: str,
    root_password: str,
    grants: Sequence[BucketGrant],
    buckets: Sequence[str] = (),
    secure: bool = False,
) -> list[str]:
    """Create the buckets and one least-privilege user per grant.

    Args:
        endpoint: MinIO's ``HOST:PORT``.
        root_user: the root (admin) access key.
        root_password: the root secret key.
        grants: the users to create, one bucket each.
        buckets: further buckets to create, with no user of their own.
        secure: TLS.

    Returns:
        One line per action, for the log (no secret in them).

    Raises:
        InvalidInputError: a grant reuses the root's access key or another grant's.
        StoreError: MinIO refused or could not be reached.
    """
    from minio import Minio, MinioAdmin
    from minio.credentials import StaticProvider
    from minio.error import MinioAdminException, S3Error
    from urllib3.exceptions import HTTPError

    users = [grant.access_key for grant in grants]
    if root_user in users or len(set(users)) != len(users):
        raise InvalidInputError(
            "each granted user needs its own access key, distinct from the root user's"
        )
    credentials = StaticProvider(root_user, root_password)
    client = Minio(endpoint, credentials=credentials, secure=secure)
    admin = MinioAdmin(endpoint=endpoint, credentials=credentials, secure=secure)
    done = []
    try:
        for bucket in dict.fromkeys([*buckets, *(grant.bucket for grant in grants)]):
            if client.bucket_exists(bucket):
                done.append(f"bucket {bucket}: exists")
            else:
                client.make_bucket(bucket)
                done.append(f"bucket {bucket}: created")
        for grant in grants:
            admin.policy_add(grant.policy_name, policy=bucket_policy(grant.bucket))
            admin.user_add(grant.access_key, grant.secret_key)
            admin.policy_set(grant.policy_name, user=grant.access_key)
            done.append(
                f"user {grant.access_key}: policy {grant.policy_name} (bucket {grant.bucket} only)"
            )
    except (S3Error, MinioAdminException, HTTPError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"MinIO at {endpoint}: {reason}") from None
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lifecycle.store.provision``: provision from the environment's credentials."""
    parser = argparse.ArgumentParser(
        prog="python -m lifecycle.store.provision",
        description="Create MinIO buckets and one user per bucket, allowed only that bucket. "
        f"Root credentials: ${ROOT_USER_ENV}, ${ROOT_PASSWORD_ENV}.",
    )
    parser.add_argument("--endpoint", required=True, help="MinIO's HOST:PORT")
    parser.add_argument(
        "--grant",
        action="append",
        default=[],
        metavar="BUCKET=PREFIX",
        help="a user for BUCKET with keys $PREFIX_ACCESS_KEY / $PREFIX_SECRET_KEY",
    )
    parser.add_argument(
        "--bucket", action="append", default=[], help="a further bucket, with no user"
    )
    parser.add_argument("--secure", action="store_true", help="TLS")
    args = parser.parse_args(argv)
    try:
        root = [os.environ.get(name, "") for name in (ROOT_USER_ENV, ROOT_PASSWORD_ENV)]
        if not all(root):
            raise InvalidInputError(f"${ROOT_USER_ENV} and ${ROOT_PASSWORD_ENV} must be set")
        grants = grants_from_env(args.grant, os.environ)
        for line in provision(args.endpoint, *root, grants, args.bucket, args.secure):
            print(f"provision: {line}")
    except LifecycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
