#!/usr/bin/env python3
"""boto3 against a running Berth: the ECR calls an SDK user makes, and the
errors an SDK user catches.

Run by scripts/e2e-cli.sh with the machine's python3 and boto3. It reads
AWS_ENDPOINT_URL (Berth's base URL), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION from the environment, and
E2E_REGISTRY (the registry host, 127.0.0.1:PORT) and E2E_ACCOUNT.

It prints one line per check, "ok <what>" or "FAIL <what>" followed by
indented details, and exits 1 if any check failed; e2e-cli.sh counts the
lines.
"""

import base64
import datetime
import os
import sys
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
REGISTRY = os.environ["E2E_REGISTRY"]
ACCOUNT = os.environ.get("E2E_ACCOUNT", "000000000000")

results = {"ok": 0, "fail": 0}


class Mismatch(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Mismatch(msg)


def check(desc):
    """Decorator: run the function now as one named check."""

    def run(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            results["fail"] += 1
            print("FAIL boto3: " + desc, flush=True)
            if isinstance(e, Mismatch):
                detail = str(e)
            elif isinstance(e, ClientError):
                detail = "%s: %s" % (type(e).__name__, e)
            else:
                detail = traceback.format_exc()
            for line in detail.rstrip().splitlines():
                print("     | " + line, flush=True)
        else:
            results["ok"] += 1
            print("ok   boto3: " + desc, flush=True)
        return fn

    return run


def error_code(fn, *args, **kwargs):
    """Calls fn and returns the error code of the ClientError it raises."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response.get("Error", {}).get("Code")
    raise Mismatch("%s succeeded, expected an error" % getattr(fn, "__name__", fn))


ecr = boto3.client(
    "ecr",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60),
)

REPO = "boto3-repo"
PAGED = ["boto3-paged-%d" % i for i in range(5)]


@check("create_repository returns the repository with its URI and ARN")
def _():
    repo = ecr.create_repository(repositoryName=REPO)["repository"]
    expect(repo["repositoryName"] == REPO, "repositoryName %r" % repo["repositoryName"])
    want_uri = "%s/%s" % (REGISTRY, REPO)
    expect(repo["repositoryUri"] == want_uri, "repositoryUri %r, want %r" % (repo["repositoryUri"], want_uri))
    want_arn = "arn:aws:ecr:%s:%s:repository/%s" % (REGION, ACCOUNT, REPO)
    expect(repo["repositoryArn"] == want_arn, "repositoryArn %r, want %r" % (repo["repositoryArn"], want_arn))
    expect(repo["registryId"] == ACCOUNT, "registryId %r" % repo["registryId"])
    expect(repo.get("imageTagMutability") == "MUTABLE", "imageTagMutability %r, want MUTABLE" % repo.get("imageTagMutability"))
    expect(isinstance(repo.get("createdAt"), datetime.datetime), "createdAt %r" % repo.get("createdAt"))


@check("get_authorization_token: AWS:<password>, expires in ~12h, proxyEndpoint is Berth")
def _():
    data = ecr.get_authorization_token()["authorizationData"]
    expect(len(data) == 1, "%d authorizationData entries, want 1" % len(data))
    d = data[0]
    user, sep, password = base64.b64decode(d["authorizationToken"]).decode().partition(":")
    expect(sep == ":" and user == "AWS", "token decodes to user %r, want AWS" % user)
    expect(len(password) > 20, "password %r is too short" % password)
    now = datetime.datetime.now(datetime.timezone.utc)
    left = d["expiresAt"] - now
    expect(
        datetime.timedelta(hours=11, minutes=55) < left <= datetime.timedelta(hours=12, minutes=1),
        "expiresAt %s is %s from now, want about 12h" % (d["expiresAt"], left),
    )
    expect(d["proxyEndpoint"] == ENDPOINT.rstrip("/"), "proxyEndpoint %r, want %r" % (d["proxyEndpoint"], ENDPOINT))


@check("describe_repositories paginator walks every repository, 2 a page")
def _():
    for name in PAGED:
        ecr.create_repository(repositoryName=name)
    pages = list(ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}))
    names = [r["repositoryName"] for p in pages for r in p["repositories"]]
    expect(len(names) == len(set(names)), "a repository came twice: %r" % names)
    missing = set(PAGED + [REPO]) - set(names)
    expect(not missing, "missing from the pages: %r (got %r)" % (sorted(missing), names))
    expect(all(len(p["repositories"]) <= 2 for p in pages), "a page has more than 2: %r" % [len(p["repositories"]) for p in pages])
    expect(len(pages) >= 3, "%d pages for %d repositories at 2 a page" % (len(pages), len(names)))


@check("put_image_tag_mutability IMMUTABLE, and describe_repositories shows it")
def _():
    out = ecr.put_image_tag_mutability(repositoryName=REPO, imageTagMutability="IMMUTABLE")
    expect(out.get("imageTagMutability") == "IMMUTABLE", "response %r" % out)
    expect(out.get("repositoryName") == REPO, "response repositoryName %r" % out.get("repositoryName"))
    expect(out.get("registryId") == ACCOUNT, "response registryId %r" % out.get("registryId"))
    repo = ecr.describe_repositories(repositoryNames=[REPO])["repositories"][0]
    expect(repo["imageTagMutability"] == "IMMUTABLE", "describe says %r" % repo["imageTagMutability"])


@check("create_repository twice -> RepositoryAlreadyExistsException")
def _():
    code = error_code(ecr.create_repository, repositoryName=REPO)
    expect(code == "RepositoryAlreadyExistsException", "error code %r" % code)
    # and the modeled exception class matches, as SDK users catch it
    try:
        ecr.create_repository(repositoryName=REPO)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass


@check("describe_repositories of a missing repository -> RepositoryNotFoundException")
def _():
    code = error_code(ecr.describe_repositories, repositoryNames=["boto3-does-not-exist"])
    expect(code == "RepositoryNotFoundException", "error code %r" % code)
    try:
        ecr.describe_repositories(repositoryNames=["boto3-does-not-exist"])
    except ecr.exceptions.RepositoryNotFoundException as e:
        msg = e.response["Error"]["Message"]
        want = "The repository with name 'boto3-does-not-exist' does not exist in the registry with id '%s'" % ACCOUNT
        expect(want in msg, "message %r, want it to contain %r" % (msg, want))


@check("delete_repository, then it is gone")
def _():
    for name in [REPO] + PAGED:
        out = ecr.delete_repository(repositoryName=name)
        expect(out["repository"]["repositoryName"] == name, "delete answered %r" % out)
    code = error_code(ecr.describe_repositories, repositoryNames=[REPO])
    expect(code == "RepositoryNotFoundException", "after delete, describe answers %r" % code)
    code = error_code(ecr.delete_repository, repositoryName=REPO)
    expect(code == "RepositoryNotFoundException", "deleting twice answers %r" % code)


# BEGIN Secrets Manager (issue 14: the pull-through cache's credentials)
sm = boto3.client(
    "secretsmanager",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60),
)
SM_NAME = "ecr-pullthroughcache/boto3-%d" % os.getpid()


@check("secretsmanager create_secret / get_secret_value / put_secret_value with boto3")
def _():
    out = sm.create_secret(Name=SM_NAME, SecretBinary=b"\x00\x01binary", Tags=[{"Key": "by", "Value": "boto3"}])
    arn = out["ARN"]
    expect(arn.startswith("arn:aws:secretsmanager:") and arn.rsplit("-", 1)[0].endswith(":secret:" + SM_NAME), "ARN %r" % arn)
    got = sm.get_secret_value(SecretId=arn)
    expect(got["SecretBinary"] == b"\x00\x01binary" and "SecretString" not in got, "binary value %r" % got)
    sm.put_secret_value(SecretId=SM_NAME, SecretString="two")
    expect(sm.get_secret_value(SecretId=SM_NAME)["SecretString"] == "two", "AWSCURRENT after put_secret_value")
    prev = sm.get_secret_value(SecretId=SM_NAME, VersionStage="AWSPREVIOUS")
    expect(prev["SecretBinary"] == b"\x00\x01binary", "AWSPREVIOUS %r" % prev)
    names = [s["Name"] for page in sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "tag-value", "Values": ["boto3"]}], PaginationConfig={"PageSize": 1}) for s in page["SecretList"]]
    expect(names == [SM_NAME], "list_secrets by tag value: %r" % names)


@check("secretsmanager: a secret marked for deletion -> InvalidRequestException; a missing one -> ResourceNotFoundException")
def _():
    sm.delete_secret(SecretId=SM_NAME, RecoveryWindowInDays=7)
    try:
        sm.get_secret_value(SecretId=SM_NAME)
        expect(False, "get_secret_value of a deleted secret succeeded")
    except sm.exceptions.InvalidRequestException as e:
        msg = e.response["Error"]["Message"]
        expect("marked for deletion" in msg, "message %r" % msg)
    sm.delete_secret(SecretId=SM_NAME, ForceDeleteWithoutRecovery=True)
    code = error_code(sm.describe_secret, SecretId=SM_NAME)
    expect(code == "ResourceNotFoundException", "describe_secret after a forced deletion answers %r" % code)
# END Secrets Manager


# BEGIN replication (issue 14: put_replication_configuration, describe_registry,
# describe_image_replication_status after a push through the ECR API)
import hashlib  # noqa: E402 - the block stands alone
import json  # noqa: E402
import time  # noqa: E402

REPL_REPO = "boto3-repl/app"
REPL_REGION = "us-west-2" if REGION != "us-west-2" else "us-east-2"
ecr_dest = boto3.client(
    "ecr",
    endpoint_url=ENDPOINT,
    region_name=REPL_REGION,
    config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60),
)
repl = {}


def push_blob(repo, data):
    """Uploads data as a layer through the ECR API and returns its descriptor."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    up = ecr.initiate_layer_upload(repositoryName=repo)
    ecr.upload_layer_part(repositoryName=repo, uploadId=up["uploadId"], partFirstByte=0,
                          partLastByte=len(data) - 1, layerPartBlob=data)
    done = ecr.complete_layer_upload(repositoryName=repo, uploadId=up["uploadId"], layerDigests=[digest])
    expect(done["layerDigest"] == digest, "complete_layer_upload answered %r, want %s" % (done["layerDigest"], digest))
    return digest, len(data)


@check("put_replication_configuration to another region; describe_registry shows the rule")
def _():
    cfg = {"rules": [{
        "destinations": [{"region": REPL_REGION, "registryId": ACCOUNT}],
        "repositoryFilters": [{"filter": "boto3-repl/", "filterType": "PREFIX_MATCH"}],
    }]}
    out = ecr.put_replication_configuration(replicationConfiguration=cfg)
    expect(out["replicationConfiguration"] == cfg, "put answered %r" % out["replicationConfiguration"])
    reg = ecr.describe_registry()
    expect(reg["registryId"] == ACCOUNT, "registryId %r" % reg["registryId"])
    expect(reg["replicationConfiguration"] == cfg, "describe_registry: %r" % reg["replicationConfiguration"])


@check("a push through the ECR API replicates: describe_image_replication_status COMPLETE, describe_images in the destination")
def _():
    ecr.create_repository(repositoryName=REPL_REPO)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cd, cs = push_blob(REPL_REPO, config)
    ld, ls = push_blob(REPL_REPO, ("boto3 replication layer %d" % os.getpid()).encode())
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}],
    })
    img = ecr.put_image(repositoryName=REPL_REPO, imageManifest=manifest, imageTag="v1",
                        imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")["image"]
    digest = img["imageId"]["imageDigest"]
    repl["digest"] = digest
    deadline, statuses = time.time() + 60, []
    while time.time() < deadline:
        out = ecr.describe_image_replication_status(repositoryName=REPL_REPO, imageId={"imageTag": "v1"})
        expect(out["imageId"]["imageDigest"] == digest, "imageId %r" % out["imageId"])
        statuses = out["replicationStatuses"]
        if statuses and statuses[0]["status"] == "COMPLETE":
            break
        time.sleep(0.5)
    expect(statuses == [{"region": REPL_REGION, "registryId": ACCOUNT, "status": "COMPLETE"}],
           "replicationStatuses %r, want COMPLETE in %s" % (statuses, REPL_REGION))
    details = ecr_dest.describe_images(repositoryName=REPL_REPO)["imageDetails"]
    expect([(d["imageDigest"], d.get("imageTags")) for d in details] == [(digest, ["v1"])],
           "describe_images in %s: %r" % (REPL_REGION, details))


@check("put_replication_configuration with no rules stops replication")
def _():
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})
    rules = ecr.describe_registry()["replicationConfiguration"]["rules"]
    expect(rules == [], "rules after clearing: %r" % rules)
    code = error_code(ecr.describe_image_replication_status, repositoryName=REPL_REPO, imageId={"imageTag": "nope"})
    expect(code == "ImageNotFoundException", "status of a missing image answers %r" % code)
    for client in (ecr, ecr_dest):
        client.delete_repository(repositoryName=REPL_REPO, force=True)
# END replication


# BEGIN ECR Public (issue 15)
# ECR Public's API is served in us-east-1 only; boto3 pushes an image with
# its layer API and reads it back, as the ecr-public SDK users do.
pub = boto3.client(
    "ecr-public",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60),
)
PUB_REPO = "boto3-public"
pub_state = {}


def pub_push_blob(data):
    """Uploads data as a layer through ECR Public's API, in two parts."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    up = pub.initiate_layer_upload(repositoryName=PUB_REPO)
    half = len(data) // 2
    for first, last in ((0, half), (half, len(data))):
        out = pub.upload_layer_part(repositoryName=PUB_REPO, uploadId=up["uploadId"], partFirstByte=first,
                                    partLastByte=last - 1, layerPartBlob=data[first:last])
        expect(out["lastByteReceived"] == last - 1, "upload_layer_part answered %r" % out)
    done = pub.complete_layer_upload(repositoryName=PUB_REPO, uploadId=up["uploadId"], layerDigests=[digest])
    expect(done["layerDigest"] == digest, "complete_layer_upload answered %r" % done)
    return digest, len(data)


@check("ecr-public: create_repository, layer uploads, put_image; describe_images and describe_image_tags")
def _():
    pub.create_repository(repositoryName=PUB_REPO, catalogData={"description": "from boto3"})
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cd, cs = pub_push_blob(config)
    ld, ls = pub_push_blob(b"a public layer " * 64)
    avail = pub.batch_check_layer_availability(repositoryName=PUB_REPO, layerDigests=[ld])["layers"]
    expect([l["layerAvailability"] for l in avail] == ["AVAILABLE"], "batch_check_layer_availability: %r" % avail)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]})
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    out = pub.put_image(repositoryName=PUB_REPO, imageManifest=manifest, imageTag="v1")
    expect(out["image"]["imageId"]["imageDigest"] == digest, "put_image answered %r" % out["image"]["imageId"])
    details = pub.describe_images(repositoryName=PUB_REPO)["imageDetails"]
    expect([(d["imageDigest"], d.get("imageTags")) for d in details] == [(digest, ["v1"])], "describe_images: %r" % details)
    tags = pub.describe_image_tags(repositoryName=PUB_REPO)["imageTagDetails"]
    expect([(t["imageTag"], t["imageDetail"]["imageDigest"]) for t in tags] == [("v1", digest)], "describe_image_tags: %r" % tags)
    pub_state["digest"] = digest


@check("ecr-public: put_repository_catalog_data / get_repository_catalog_data, with a logo served at its logoUrl")
def _():
    import struct
    import urllib.request
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))
    data = {"description": "new words", "aboutText": "# About", "usageText": "docker pull it",
            "architectures": ["ARM 64"], "operatingSystems": ["Linux"], "logoImageBlob": png}
    put = pub.put_repository_catalog_data(repositoryName=PUB_REPO, catalogData=data)["catalogData"]
    got = pub.get_repository_catalog_data(repositoryName=PUB_REPO)["catalogData"]
    for k in ("description", "aboutText", "usageText", "architectures", "operatingSystems"):
        expect(got.get(k) == data[k], "%s: %r, want %r" % (k, got.get(k), data[k]))
    expect(got.get("logoUrl") and got.get("logoUrl") == put.get("logoUrl"), "logoUrl %r (put answered %r)" % (got.get("logoUrl"), put.get("logoUrl")))
    with urllib.request.urlopen(got["logoUrl"], timeout=10) as resp:
        expect(resp.headers["Content-Type"] == "image/png" and resp.read() == png, "GET logoUrl: %s" % resp.headers["Content-Type"])
    code = error_code(pub.put_repository_catalog_data, repositoryName=PUB_REPO, catalogData={"logoImageBlob": b"not an image"})
    expect(code == "InvalidParameterException", "a logo that is no image answers %r" % code)
    code = error_code(pub.put_repository_catalog_data, repositoryName=PUB_REPO, catalogData={"description": "d" * 1025})
    expect(code == "InvalidParameterException", "a 1025-character description answers %r" % code)


@check("ecr-public: describe_registries, put_registry_catalog_data / get_registry_catalog_data")
def _():
    regs = pub.describe_registries()["registries"]
    expect(len(regs) == 1 and regs[0]["registryId"] == ACCOUNT, "describe_registries: %r" % regs)
    aliases = [(a["name"], a["status"], a["defaultRegistryAlias"]) for a in regs[0]["aliases"]]
    expect(("b" + ACCOUNT, "ACTIVE", True) in aliases, "aliases %r lack the default b%s" % (aliases, ACCOUNT))
    out = pub.put_registry_catalog_data(displayName="Berth boto3")
    expect(out["registryCatalogData"].get("displayName") == "Berth boto3", "put_registry_catalog_data: %r" % out)
    got = pub.get_registry_catalog_data()["registryCatalogData"]
    expect(got.get("displayName") == "Berth boto3", "get_registry_catalog_data: %r" % got)


@check("ecr-public: bad input answers ECR Public's exceptions; the public repository is not a private one")
def _():
    # boto3 checks minimum lengths itself; the server must too.
    unchecked = boto3.client("ecr-public", endpoint_url=ENDPOINT, region_name="us-east-1",
                             config=Config(retries={"max_attempts": 1}, parameter_validation=False))
    code = error_code(unchecked.create_repository, repositoryName="a")
    expect(code == "InvalidParameterException", "a one-character name answers %r" % code)
    code = error_code(pub.describe_images, repositoryName="nope")
    expect(code == "RepositoryNotFoundException", "a missing repository answers %r" % code)
    west = boto3.client("ecr-public", endpoint_url=ENDPOINT, region_name="us-west-2",
                        config=Config(retries={"max_attempts": 1}))
    code = error_code(west.describe_repositories)
    expect(code == "UnsupportedCommandException", "us-west-2 answers %r" % code)
    code = error_code(ecr.describe_images, repositoryName=PUB_REPO)
    expect(code == "RepositoryNotFoundException", "ECR's describe_images of the public repository answers %r" % code)
    pub.delete_repository(repositoryName=PUB_REPO, force=True)
# END ECR Public


print("boto3 %s (botocore %s): %d ok, %d failed" % (boto3.__version__, __import__("botocore").__version__, results["ok"], results["fail"]), flush=True)
sys.exit(1 if results["fail"] else 0)
