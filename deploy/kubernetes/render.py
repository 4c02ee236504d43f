"""Render a kustomization offline, without kubectl: the subset of kustomize that deploy/kubernetes uses.

`kubectl apply -k deploy/kubernetes/overlays/prod` is how a cluster gets Strata; this script produces
the same objects where no kubectl is installed (CI, `make deploy-check`), so the manifests are
validated exactly as they will be applied. tests/deploy checks the output against `kubectl kustomize`
when kubectl is present. Supported (anything else in a kustomization.yaml is an error, never ignored):
`resources` (files and folders with a kustomization.yaml), `namespace`, `images` (newName, newTag,
digest), `replicas`, `patches` (JSON 6902, inline or by path, targeted by kind and name regex),
`configMapGenerator` (files, literals, options.labels) with `generatorOptions.disableNameSuffixHash`.

Usage: python render.py KUSTOMIZATION_DIR [-o FILE]
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
KNOWN_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "images",
    "replicas",
    "patches",
    "configMapGenerator",
    "generatorOptions",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
}
# kustomize's "legacy" output order: these kinds first, in this order; the rest after, by kind and name.
ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class RenderError(ValueError):
    """A kustomization this renderer cannot reproduce faithfully."""


def load_documents(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(folder: Path) -> list[Obj]:
    """The objects the kustomization in `folder` produces, in kustomize's legacy order."""
    return sorted(_build(folder), key=_order_key)


def _build(folder: Path) -> list[Obj]:
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        raise RenderError(f"{folder}/kustomization.yaml: unsupported fields {sorted(unknown)}")
    objects: list[Obj] = []
    for entry in spec.get("resources", []):
        target = folder / entry
        objects += _build(target) if target.is_dir() else load_documents(target)
    objects += _generate_config_maps(folder, spec)
    for patch in spec.get("patches", []):
        _apply_patch(folder, objects, patch)
    for image in spec.get("images", []):
        _set_image(objects, image)
    for replica in spec.get("replicas", []):
        _set_replicas(objects, replica)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return objects


def _generate_config_maps(folder: Path, spec: Obj) -> list[Obj]:
    generated = spec.get("configMapGenerator", [])
    if generated and not spec.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise RenderError("configMapGenerator needs generatorOptions.disableNameSuffixHash: true here")
    out = []
    for gen in generated:
        if set(gen) - {"name", "files", "literals", "options"}:
            raise RenderError(f"unsupported configMapGenerator fields in {gen['name']}")
        data: dict[str, str] = {}
        for entry in gen.get("files", []):
            key, _, rel = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
            data[key] = (folder / rel).read_text()
        for literal in gen.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        metadata: Obj = {"name": gen["name"]}
        labels = gen.get("options", {}).get("labels")
        if labels:
            metadata["labels"] = dict(labels)
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    return out


def _matches(obj: Obj, target: Obj) -> bool:
    if set(target) - {"kind", "name"}:
        raise RenderError(f"patch targets may name only kind and name: {target}")
    kind_ok = re.fullmatch(target.get("kind", ".*"), obj["kind"]) is not None
    return kind_ok and re.fullmatch(target.get("name", ".*"), obj["metadata"]["name"]) is not None


def _apply_patch(folder: Path, objects: list[Obj], patch: Obj) -> None:
    text = patch["patch"] if "patch" in patch else (folder / patch["path"]).read_text()
    operations = yaml.safe_load(text)
    if not isinstance(operations, list) or "target" not in patch:
        raise RenderError("only targeted JSON 6902 patches (a list of operations) are supported")
    hits = [obj for obj in objects if _matches(obj, patch["target"])]
    if not hits:
        raise RenderError(f"patch target matches nothing: {patch['target']}")
    for obj in hits:
        for op in operations:
            _json_patch(obj, op)


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]


def _json_patch(obj: Obj, op: Obj) -> None:
    *parents, last = _pointer(op["path"])
    node: Any = obj
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    kind = op["op"]
    if kind not in {"add", "replace", "remove"}:
        raise RenderError(f"unsupported JSON patch operation {kind!r}")
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if kind == "add":
            node.insert(index, copy.deepcopy(op["value"]))
        elif kind == "replace":
            node[index] = copy.deepcopy(op["value"])
        else:
            del node[index]
        return
    if kind in {"replace", "remove"} and last not in node:
        raise RenderError(f"{kind} of a missing path {op['path']}")
    if kind == "remove":
        del node[last]
    else:
        node[last] = copy.deepcopy(op["value"])


def _containers(obj: Obj) -> list[Obj]:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if obj["kind"] != "Pod" else spec
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _split_image(ref: str) -> tuple[str, str]:
    """("registry/name", "tag") of "registry/name:tag@digest"; a port in the registry is not a tag."""
    name = ref.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
        return name, tag
    return name, ""


def _set_image(objects: list[Obj], image: Obj) -> None:
    for obj in objects:
        for container in _containers(obj):
            name, tag = _split_image(container.get("image", ""))
            if name != image["name"]:
                continue
            new = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new}@{image['digest']}"
            else:
                new_tag = image.get("newTag", tag)
                container["image"] = f"{new}:{new_tag}" if new_tag else new


def _set_replicas(objects: list[Obj], replica: Obj) -> None:
    hits = [
        o for o in objects if o["kind"] in WORKLOADS - {"Job"} and o["metadata"]["name"] == replica["name"]
    ]
    if not hits:
        raise RenderError(f"replicas: no workload named {replica['name']}")
    for obj in hits:
        obj["spec"]["replicas"] = replica["count"]


def _order_key(obj: Obj) -> tuple[int, str, str]:
    kind = obj["kind"]
    rank = ORDER_FIRST.index(kind) if kind in ORDER_FIRST else len(ORDER_FIRST)
    return rank, kind, obj["metadata"]["name"]


def dump(objects: list[Obj]) -> str:
    return "---\n".join(yaml.safe_dump(obj, sort_keys=False, width=120) for obj in objects)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="a folder with a kustomization.yaml")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = dump(render(args.folder))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
