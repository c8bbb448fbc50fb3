#!/usr/bin/env python3
"""Checks an OCI image archive written by build_oci.py, reading only the archive (no code shared with the builder).

    check_oci.py IMAGE.tar --user 1654:1654 --entrypoint /app/Orleans.Licensing.Server --workdir /app \
        --port 8080/tcp --port 11111/tcp --port 30000/tcp [--env NAME=VALUE ...] [--extract ROOTFS] [--env-out FILE]

Verifies: the oci-layout file; index.json -> manifest -> config by digest and size; every blob's sha256 equals its
name; every layer's digest and size (compressed) and its diff_id (sha256 of the uncompressed tar, in config order);
the media types; the config's User, Entrypoint, WorkingDir, ExposedPorts (exactly these) and the given Env entries.
With --extract, applies the layers in order into ROOTFS (refusing absolute or `..` paths, writes through symlinks and
whiteouts) and checks that the entrypoint is an executable file there. --env-out writes the config's Env, one a line.
Exits 1 with every mismatch listed.
"""
import argparse
import gzip
import hashlib
import json
import os
import stat
import sys
import tarfile
import zlib

errors = []


def expect(condition, message):
    if not condition:
        errors.append(message)
    return condition


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--user", required=True)
    parser.add_argument("--entrypoint", required=True, action="append")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--port", required=True, action="append")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--extract")
    parser.add_argument("--env-out")
    args = parser.parse_args()

    with tarfile.open(args.archive) as outer:
        members = {m.name: m for m in outer.getmembers()}

        def read(name):
            if name not in members or not members[name].isfile():
                raise SystemExit(f"check_oci: {name} missing from {args.archive}")
            return outer.extractfile(members[name]).read()

        def read_blob(descriptor, media_type):
            expect(descriptor.get("mediaType") == media_type,
                   f"{descriptor.get('digest')}: media type {descriptor.get('mediaType')}, expected {media_type}")
            algorithm, hexdigest = descriptor["digest"].split(":", 1)
            expect(algorithm == "sha256", f"{descriptor['digest']}: not sha256")
            data = read(f"blobs/sha256/{hexdigest}")
            expect(sha256(data) == descriptor["digest"], f"blob {hexdigest}: content has digest {sha256(data)}")
            expect(len(data) == descriptor["size"], f"blob {hexdigest}: {len(data)} bytes, descriptor says {descriptor['size']}")
            return data

        layout = json.loads(read("oci-layout"))
        expect(layout.get("imageLayoutVersion") == "1.0.0", f"oci-layout: {layout}")
        index = json.loads(read("index.json"))
        expect(index.get("schemaVersion") == 2, "index.json: schemaVersion is not 2")
        expect(len(index.get("manifests", [])) == 1, f"index.json: {len(index.get('manifests', []))} manifests, expected 1")
        descriptor = index["manifests"][0]
        expect("org.opencontainers.image.ref.name" in descriptor.get("annotations", {}), "index.json: no ref.name (tag)")
        manifest = json.loads(read_blob(descriptor, "application/vnd.oci.image.manifest.v1+json"))
        expect(manifest.get("schemaVersion") == 2, "manifest: schemaVersion is not 2")
        config = json.loads(read_blob(manifest["config"], "application/vnd.oci.image.config.v1+json"))

        # The `docker save` manifest, for docker load and crane's tarball reader: the same config and layers.
        if "manifest.json" in members:
            docker = json.loads(read("manifest.json"))
            blob_path = lambda digest: "blobs/sha256/" + digest.split(":", 1)[1]  # noqa: E731
            expect(len(docker) == 1 and docker[0].get("Config") == blob_path(manifest["config"]["digest"])
                   and docker[0].get("Layers") == [blob_path(layer["digest"]) for layer in manifest["layers"]],
                   "manifest.json (docker) names other blobs than the OCI manifest")

        # Every blob in the archive: its name is its digest (also the ones no descriptor reaches).
        for name, member in members.items():
            if name.startswith("blobs/sha256/") and member.isfile():
                data = outer.extractfile(member).read()
                expect(sha256(data) == "sha256:" + name.rsplit("/", 1)[1], f"{name}: content has digest {sha256(data)}")

        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        expect(config.get("rootfs", {}).get("type") == "layers", "config: rootfs.type is not layers")
        expect(len(diff_ids) == len(manifest["layers"]),
               f"config has {len(diff_ids)} diff_ids, manifest {len(manifest['layers'])} layers")
        layers = []
        for position, layer in enumerate(manifest["layers"]):
            compressed = read_blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip")
            try:
                uncompressed = gzip.decompress(compressed)
            except (OSError, EOFError, zlib.error) as error:
                expect(False, f"layer {position}: not a valid gzip stream ({error})")
                continue
            diff_id = sha256(uncompressed)
            expect(position < len(diff_ids) and diff_ids[position] == diff_id,
                   f"layer {position}: uncompressed digest {diff_id}, config says {diff_ids[position:position + 1]}")
            layers.append(layer["digest"])
            print(f"layer {position}: {layer['digest']} {len(compressed)} bytes, diff_id {diff_id} "
                  f"{len(uncompressed)} bytes uncompressed")

        settings = config.get("config", {})
        expect(config.get("os") == "linux" and config.get("architecture") == "amd64",
               f"config: {config.get('os')}/{config.get('architecture')}, expected linux/amd64")
        expect(settings.get("User") == args.user, f"User {settings.get('User')!r}, expected {args.user!r}")
        expect(settings.get("Entrypoint") == args.entrypoint,
               f"Entrypoint {settings.get('Entrypoint')}, expected {args.entrypoint}")
        expect(not settings.get("Cmd"), f"Cmd {settings.get('Cmd')}, expected none")
        expect(settings.get("WorkingDir") == args.workdir, f"WorkingDir {settings.get('WorkingDir')!r}, expected {args.workdir!r}")
        expect(sorted(settings.get("ExposedPorts", {})) == sorted(args.port),
               f"ExposedPorts {sorted(settings.get('ExposedPorts', {}))}, expected {sorted(args.port)}")
        env = settings.get("Env", [])
        for wanted in args.env:
            expect(wanted in env, f"Env has no {wanted} (it has {env})")

        if args.env_out:
            with open(args.env_out, "w") as f:
                f.writelines(line + "\n" for line in env)

        if args.extract and not errors:
            extract(outer, manifest, args.extract)
            target = os.path.join(args.extract, args.entrypoint[0].lstrip("/"))
            expect(os.path.isfile(target) and os.stat(target).st_mode & stat.S_IXUSR,
                   f"entrypoint {args.entrypoint[0]} is not an executable file in the image")

    if errors:
        print("check_oci: the image does not match:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    print(f"check_oci: {args.archive}: {len(layers)} layers, user {args.user}, entrypoint {args.entrypoint}, "
          f"ports {sorted(args.port)}: ok")
    return 0


def extract(outer, manifest, root):
    """Applies the layers like a container runtime would, refusing anything that could land outside root."""
    symlinks = set()
    for layer in manifest["layers"]:
        blob = outer.extractfile(f"blobs/sha256/{layer['digest'].split(':', 1)[1]}")
        with tarfile.open(fileobj=blob, mode="r|gz") as tar:
            for member in tar:
                name = member.name
                parts = name.split("/")
                if name.startswith("/") or ".." in parts or any(p.startswith(".wh.") for p in parts):
                    raise SystemExit(f"check_oci: layer entry {name!r} refused (absolute, .. or whiteout)")
                if any("/".join(parts[:i]) in symlinks for i in range(1, len(parts))):
                    raise SystemExit(f"check_oci: layer entry {name!r} goes through a symlink")
                if member.issym():
                    symlinks.add(name)
                if member.islnk():
                    raise SystemExit(f"check_oci: hard link {name!r} not expected")
                # fully_trusted: keep the sticky bit of /tmp and the owners; the checks above keep it inside root.
                tar.extract(member, root, numeric_owner=True, filter="fully_trusted")


if __name__ == "__main__":
    sys.exit(main())
