#!/usr/bin/env python3
"""Writes an OCI image archive (an OCI image layout packed as a plain tar) from two directories, no daemon, no registry.

    build_oci.py --base ROOTFS --app PUBLISH_DIR --out IMAGE.tar [--tag 0.1.0] [--repository NAME] [--created EPOCH]

Layers (gzip tars, reproducible: entries in name order, mtime 0, no user names, gzip header without name/time):
  1. the base: every file under ROOTFS (Debian packages extracted by .ci/image.sh), owned by 0:0, plus /etc/passwd and
     /etc/group with the non-root user `app` (1654:1654), /tmp (1777) and /var/lib/orleans-licensing (1654);
  2. the app: PUBLISH_DIR as /app; the folder /app belongs to 1654, its files to root (the server cannot rewrite its
     own binaries; the chart mounts the root filesystem read-only anyway).
Blobs: the layers, the image config (user, entrypoint, ports, env), the manifest; index.json names the manifest with
the tag (org.opencontainers.image.ref.name); manifest.json as `docker load` reads it is added too.
Prints one JSON line with the digests and sizes.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import tempfile
from datetime import datetime, timezone

UID = GID = 1654
PORTS = ("8080/tcp", "11111/tcp", "30000/tcp")  # HTTP API, silo, gateway: the chart's http.port, siloPort, gatewayPort
ENV = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ASPNETCORE_URLS=http://+:8080",
    "DOTNET_RUNNING_IN_CONTAINER=true",
    # No libicu in the base (about 36 MB): the server formats and parses with the invariant culture only.
    "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true",
    "APP_UID=1654",
]
ENTRYPOINT = ["/app/Orleans.Licensing.Server"]
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:1654:1654:app:/home/app:/usr/sbin/nologin\n"
GROUP = "root:x:0:\napp:x:1654:\n"


class HashingWriter(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to `target` (None: hash only)."""

    def __init__(self, target):
        super().__init__()
        self.target, self.sha, self.size = target, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)


def entry(name, kind=tarfile.DIRTYPE, mode=0o755, uid=0, gid=0, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.size, info.linkname = kind, mode, uid, gid, size, linkname
    info.mtime, info.uname, info.gname = 0, "", ""
    return info


def tree_entries(root, prefix):
    """(TarInfo, path or None) for every entry under root (os.walk: symlinks to folders are not followed)."""
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            arcname = os.path.normpath(os.path.join(prefix, rel, name)).lstrip("/")
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                yield entry(arcname, tarfile.SYMTYPE, 0o777, linkname=os.readlink(path)), None
            elif stat.S_ISDIR(st.st_mode):
                yield entry(arcname, tarfile.DIRTYPE, mode), None
            elif stat.S_ISREG(st.st_mode):
                yield entry(arcname, tarfile.REGTYPE, mode, size=st.st_size), path
            else:
                raise SystemExit(f"build_oci: unsupported file type: {path}")


def write_layer(blobdir, items):
    """Writes a gzip tar layer of (TarInfo, path or bytes) in the given order; returns (digest, diff_id, size)."""
    tmp = tempfile.NamedTemporaryFile(dir=blobdir, delete=False)
    with tmp:
        compressed = HashingWriter(tmp)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6) as gz:
            uncompressed = HashingWriter(gz)
            with tarfile.open(fileobj=uncompressed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for info, content in items:
                    if content is None:
                        tar.addfile(info)
                    elif isinstance(content, bytes):
                        tar.addfile(info, io.BytesIO(content))
                    else:
                        with open(content, "rb") as f:
                            tar.addfile(info, f)
    digest = "sha256:" + compressed.sha.hexdigest()
    os.replace(tmp.name, os.path.join(blobdir, compressed.sha.hexdigest()))
    return digest, "sha256:" + uncompressed.sha.hexdigest(), compressed.size


def by_path(item):
    """Name order by path components: a folder comes right before its own entries."""
    return item[0].name.split("/")


def base_items(rootfs):
    extra = {
        "etc/passwd": (PASSWD.encode(), 0o644),
        "etc/group": (GROUP.encode(), 0o644),
    }
    dirs = {"tmp": (0o1777, 0, 0), "var/lib/orleans-licensing": (0o755, UID, GID), "home/app": (0o755, UID, GID)}
    items = []
    for info, path in tree_entries(rootfs, ""):
        if info.name in extra or info.name in dirs:
            continue
        items.append((info, path))
    for name, (content, mode) in extra.items():
        items.append((entry(name, tarfile.REGTYPE, mode, size=len(content)), content))
    for name, (mode, uid, gid) in dirs.items():
        items.append((entry(name, tarfile.DIRTYPE, mode, uid, gid), None))
    present = {i.name for i, _ in items}
    # Parents of the added entries (etc, var, var/lib, home) when the packages did not bring them.
    for name in sorted({os.path.dirname(n) for n in list(extra) + list(dirs)} | {"var", "var/lib", "home", "etc"}):
        if name and name not in present:
            items.append((entry(name), None))
    return sorted(items, key=by_path)


def app_items(publish):
    items = [(entry("app", tarfile.DIRTYPE, 0o755, UID, GID), None)]
    items += list(tree_entries(publish, "app"))
    return sorted(items, key=by_path)


def blob(blobdir, data):
    hexdigest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobdir, hexdigest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexdigest, "size": len(data)}


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--repository", default="orleans-licensing/server")
    parser.add_argument("--created", type=int, default=0, help="seconds since 1970 for the config's `created`")
    parser.add_argument("--base-description", default="debian bookworm packages")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.app, "Orleans.Licensing.Server")):
        raise SystemExit(f"build_oci: no Orleans.Licensing.Server in {args.app}")

    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.out))) as work:
        blobdir = os.path.join(work, "blobs", "sha256")
        os.makedirs(blobdir)
        layers = [write_layer(blobdir, base_items(args.base)), write_layer(blobdir, app_items(args.app))]
        created = datetime.fromtimestamp(args.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = {
            "created": created,
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "User": f"{UID}:{GID}",
                "Env": ENV,
                "Entrypoint": ENTRYPOINT,
                "WorkingDir": "/app",
                "ExposedPorts": {port: {} for port in PORTS},
                "Labels": {
                    "org.opencontainers.image.title": "Orleans.Licensing server",
                    "org.opencontainers.image.version": args.tag,
                    "org.opencontainers.image.description": "Orleans.Licensing license server; base: " + args.base_description,
                },
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id, _ in layers]},
            "history": [
                {"created": created, "created_by": f"base: {args.base_description} (.ci/image.sh)"},
                {"created": created, "created_by": "app: dotnet publish -r linux-x64 --self-contained (.ci/image.sh)"},
            ],
        }
        config_ref = blob(blobdir, canonical(config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, **config_ref},
            "layers": [{"mediaType": MEDIA_LAYER, "digest": d, "size": s} for d, _, s in layers],
        }
        manifest_ref = blob(blobdir, canonical(manifest))
        reference = f"{args.repository}:{args.tag}"
        index = {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [{
                "mediaType": MEDIA_MANIFEST,
                **manifest_ref,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"org.opencontainers.image.ref.name": args.tag, "io.containerd.image.name": reference},
            }],
        }
        docker_manifest = [{
            "Config": "blobs/sha256/" + config_ref["digest"].split(":")[1],
            "RepoTags": [reference],
            "Layers": ["blobs/sha256/" + d.split(":")[1] for d, _, _ in layers],
        }]

        tmp_out = args.out + ".tmp"
        with tarfile.open(tmp_out, "w", format=tarfile.PAX_FORMAT) as tar:
            def add_bytes(name, data):
                tar.addfile(entry(name, tarfile.REGTYPE, 0o644, size=len(data)), io.BytesIO(data))

            add_bytes("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
            add_bytes("index.json", canonical(index))
            add_bytes("manifest.json", canonical(docker_manifest))
            tar.addfile(entry("blobs"))
            tar.addfile(entry("blobs/sha256"))
            for name in sorted(os.listdir(blobdir)):
                path = os.path.join(blobdir, name)
                with open(path, "rb") as f:
                    tar.addfile(entry(f"blobs/sha256/{name}", tarfile.REGTYPE, 0o644, size=os.path.getsize(path)), f)
        os.replace(tmp_out, args.out)

    print(json.dumps({
        "reference": reference,
        "manifest": manifest_ref["digest"],
        "config": config_ref["digest"],
        "layers": [{"digest": d, "diff_id": i, "size": s} for d, i, s in layers],
        "archive_bytes": os.path.getsize(args.out),
    }))


if __name__ == "__main__":
    sys.exit(main())
