"""What a running GKE cluster adds to a chart's manifests: Nodes spread over three zones,
Deployments settled at their replica count with the status a finished rollout reports, their
ready Pods spread over the Nodes (from the pod template, named as a ReplicaSet names them),
and other things a cluster holds (another app's Pods, the CSIDrivers). Separate from the chart
builders so both chart generations stand on the same cluster, and a test can build one piece
alone.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.basics import (
    Obj,
    hex_digest,
    name_label,
    of_kind,
    stable_uid,
    timestamp,
)

ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what ReplicaSet/Pod name suffixes are drawn from


def _safe_suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in digest[:length])


def _pod_suffix(seed: str, index: int) -> str:
    """A 5-character pod name suffix that looks random but is unique per index within a seed."""
    space = len(_SAFE_ALPHABET) ** 5
    value = (int(hex_digest(seed, 16), 16) + index * 7919) % space  # 7919 is prime to 27**5: a bijection
    chars = []
    for _ in range(5):
        value, digit = divmod(value, len(_SAFE_ALPHABET))
        chars.append(_SAFE_ALPHABET[digit])
    return "".join(chars)


_NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def _node_quantities(cpu: str, memory: str, ephemeral_storage: str) -> Obj:
    return {
        "cpu": cpu,
        "memory": memory,
        "pods": "110",
        "ephemeral-storage": ephemeral_storage,
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }


def _node_status(index: int, name: str, created: str, now: datetime) -> Obj:
    """An n2-standard-8 node's capacity, healthy conditions, addresses and node info."""
    return {
        "capacity": _node_quantities("8", "32863252Ki", "98831908Ki"),
        "allocatable": _node_quantities("7910m", "29094932Ki", "47060071478"),
        "conditions": [
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": timestamp(now),
                "lastTransitionTime": created,
            }
            for kind, status, reason, message in _NODE_CONDITIONS
        ],
        "addresses": [
            {"type": "InternalIP", "address": f"10.128.0.{10 + index}"},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": stable_uid("boot", name),
            "containerRuntimeVersion": "containerd://1.7.24",
            "kernelVersion": "6.6.72+",
            "kubeProxyVersion": "v1.31.6-gke.1020000",
            "kubeletVersion": "v1.31.6-gke.1020000",
            "machineID": hex_digest("machine" + name, 32),
            "operatingSystem": "linux",
            "osImage": "Container-Optimized OS from Google",
            "systemUUID": stable_uid("system", name),
        },
    }


def _node(index: int, created: str, now: datetime) -> Obj:
    name, zone = f"gke-wandb-pool-{index}", ZONES[(index - 1) % len(ZONES)]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": stable_uid("Node", name),
            "creationTimestamp": created,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": "us-central1",
                "node.kubernetes.io/instance-type": "n2-standard-8",
                "cloud.google.com/gke-nodepool": "wandb-pool",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {
            "podCIDR": f"10.52.{index}.0/24",
            "podCIDRs": [f"10.52.{index}.0/24"],
            "providerID": f"gce://my-project/{zone}/{name}",
        },
        "status": _node_status(index, name, created, now),
    }


def gke_nodes(count: int, *, now: datetime | None = None) -> list[Obj]:
    """GKE nodes `gke-wandb-pool-1..count`, spread over three zones, with string quantities."""
    now = now or datetime.now(UTC)
    created = timestamp(now - timedelta(days=60))
    return [_node(index, created, now) for index in range(1, count + 1)]


def _deployment_status(replicas: int, generation: int, hash_: str, name: str, now: datetime) -> Obj:
    transition = timestamp(now - timedelta(days=2))
    status: Obj = {
        "observedGeneration": generation,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastUpdateTime": transition,
                "lastTransitionTime": transition,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{name}-{hash_}" has successfully progressed.',
                "lastUpdateTime": transition,
                "lastTransitionTime": timestamp(now - timedelta(days=30)),
            },
        ],
    }
    if replicas:  # the API server omits zero counts
        status.update(replicas=replicas, readyReplicas=replicas, updatedReplicas=replicas, availableReplicas=replicas)
    return status


def _qos_class(containers: Sequence[Mapping[str, Any]]) -> str:
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(k)
        and (r.get("requests") or {}).get(k, (r.get("limits") or {}).get(k)) == (r.get("limits") or {}).get(k)
        for r in resources
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _image_id(image: str) -> str:
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repository}@sha256:{hex_digest(image)}"


def _container_status(pod_name: str, container: Mapping[str, Any], started: datetime, *, init: bool) -> Obj:
    """A ready app container running since 20 s after the Pod started, or an init container
    that completed in its first 10 s."""
    state: Obj
    if init:
        state = {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": timestamp(started),
                "finishedAt": timestamp(started + timedelta(seconds=10)),
            }
        }
    else:
        state = {"running": {"startedAt": timestamp(started + timedelta(seconds=20))}}
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": _image_id(container.get("image", "")),
        "containerID": f"containerd://{hex_digest(pod_name + container['name'])}",
        "ready": True,
        "started": not init,
        "restartCount": 0,
        "state": state,
    }


_POD_CONDITIONS = (
    ("PodReadyToStartContainers", 5),
    ("Initialized", 15),
    ("Ready", 30),
    ("ContainersReady", 30),
    ("PodScheduled", 0),
)


def _running_pod_status(pod_name: str, spec: Obj, started: datetime, host_ip: str, pod_ip: str) -> Obj:
    containers = spec.get("containers") or []
    status: Obj = {
        "phase": "Running",
        "conditions": [
            {"type": condition, "status": "True", "lastTransitionTime": timestamp(started + timedelta(seconds=delay))}
            for condition, delay in _POD_CONDITIONS
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": timestamp(started),
        "qosClass": _qos_class(containers),
        "containerStatuses": [_container_status(pod_name, c, started, init=False) for c in containers],
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            _container_status(pod_name, c, started, init=True) for c in spec["initContainers"]
        ]
    return status


def _pod_spec(template: Mapping[str, Any], node: str | None) -> Obj:
    """The template's pod spec with the API server's defaults, bound to `node`."""
    spec = copy.deepcopy(template.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if node:
        spec["nodeName"] = node
    return spec


def _pod_metadata(
    template: Mapping[str, Any], pod_name: str, namespace: str, replicaset: str, hash_: str, started: datetime
) -> Obj:
    """A ReplicaSet's Pod's metadata: the template's labels plus pod-template-hash, and its owner."""
    return {
        "name": pod_name,
        "generateName": f"{replicaset}-",
        "namespace": namespace,
        "uid": stable_uid("Pod", namespace, pod_name),
        "creationTimestamp": timestamp(started),
        "labels": {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": hash_},
        "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": replicaset,
                "uid": stable_uid("ReplicaSet", namespace, replicaset),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }


def pods_for(
    deployment: Mapping[str, Any], node_names: Sequence[str], *, offset: int = 0, now: datetime | None = None
) -> list[Obj]:
    """The running Pods of a Deployment: spec.replicas of them, from its pod template (plus
    pod-template-hash), spread round-robin over node_names starting at `offset`, all ready."""
    now = now or datetime.now(UTC)
    metadata = deployment["metadata"]
    name, namespace = metadata["name"], metadata["namespace"]
    template = deployment["spec"]["template"]
    replicas = int(deployment["spec"].get("replicas", 1))
    hash_ = _safe_suffix(f"{namespace}/{name}/template", 10)
    replicaset = f"{name}-{hash_}"
    started = now - timedelta(days=2)
    out = []
    for index in range(replicas):
        pod_name = f"{replicaset}-{_pod_suffix(replicaset, index)}"
        node_index = (offset + index) % len(node_names) if node_names else 0
        spec = _pod_spec(template, node_names[node_index] if node_names else None)
        host_ip = f"10.128.0.{10 + node_index + 1}"
        pod_ip = f"10.52.{node_index + 1}.{(offset * 7 + index) % 250 + 2}"
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _pod_metadata(template, pod_name, namespace, replicaset, hash_, started),
                "spec": spec,
                "status": _running_pod_status(pod_name, spec, started, host_ip, pod_ip),
            }
        )
    return out


def _settle_deployment(deployment: Obj, replicas: int, now: datetime) -> None:
    """Set replicas and the status a finished rollout reports."""
    metadata = deployment["metadata"]
    metadata.setdefault("uid", stable_uid("Deployment", metadata["namespace"], metadata["name"]))
    metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=30)))
    metadata.setdefault("generation", 1)
    metadata.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "1"
    deployment["spec"]["replicas"] = replicas
    hash_ = _safe_suffix(f"{metadata['namespace']}/{metadata['name']}/template", 10)
    deployment["status"] = _deployment_status(replicas, metadata["generation"], hash_, metadata["name"], now)


def running_cluster(
    workloads: list[Obj], *, pods_per_service: int, node_count: int, replicas: Mapping[str, int] | None, now: datetime
) -> list[Obj]:
    """Deployments settled at their replica count, their Pods, the Nodes they run on."""
    node_objs = gke_nodes(node_count, now=now)
    node_names = [n["metadata"]["name"] for n in node_objs]
    pods: list[Obj] = []
    for offset, deployment in enumerate(of_kind(workloads, "Deployment")):
        service = name_label(deployment) or deployment["metadata"]["name"]  # the v2 operator's carry no labels
        count = (replicas or {}).get(service, pods_per_service)
        _settle_deployment(deployment, count, now)
        pods.extend(pods_for(deployment, node_names, offset=offset, now=now))
    for cronjob in of_kind(workloads, "CronJob"):
        metadata = cronjob["metadata"]
        metadata.setdefault("uid", stable_uid("CronJob", metadata["namespace"], metadata["name"]))
        metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=30)))
        metadata.setdefault("generation", 1)
        cronjob.setdefault("status", {})
    return [*node_objs, *workloads, *pods]


def unrelated_pods(n: int, namespace: str = "default", *, now: datetime | None = None) -> list[Obj]:
    """n running Pods of another app (`app.kubernetes.io/instance: other`), the size of a real
    pod (env, probes, resources), so a list that fails to filter server-side is visibly slow."""
    now = now or datetime.now(UTC)
    started = timestamp(now - timedelta(days=1))
    out = []
    for index in range(n):
        name = f"other-web-{_safe_suffix('other-web', 10)}-{_pod_suffix('other-web', index)}"
        node = f"gke-other-pool-{index % 5 + 1}"
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": stable_uid("Pod", namespace, name),
                    "creationTimestamp": started,
                    "labels": {
                        "app.kubernetes.io/instance": "other",
                        "app.kubernetes.io/name": "web",
                        "pod-template-hash": _safe_suffix("other-web", 10),
                    },
                },
                "spec": {
                    "nodeName": node,
                    "restartPolicy": "Always",
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "env": [{"name": f"SETTING_{i}", "value": f"value-{i}"} for i in range(20)],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": started}],
                    "hostIP": "10.128.1.1",
                    "podIP": f"10.60.{index // 250}.{index % 250 + 2}",
                    "startTime": started,
                    "qosClass": "Burstable",
                    "containerStatuses": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "imageID": _image_id("nginx:1.27"),
                            "ready": True,
                            "started": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": started}},
                        }
                    ],
                },
            }
        )
    return out


def csi_drivers(gcsfuse: bool = True, *, now: datetime | None = None) -> list[Obj]:
    """The CSIDrivers of a GKE cluster: the persistent-disk driver always, and with `gcsfuse`
    the Cloud Storage FUSE driver that `enable_gcs_fuse_csi_driver` installs."""
    now = now or datetime.now(UTC)
    created = timestamp(now - timedelta(days=60))
    drivers = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {
                "name": "pd.csi.storage.gke.io",
                "uid": stable_uid("CSIDriver", "pd"),
                "creationTimestamp": created,
                "labels": {
                    "addonmanager.kubernetes.io/mode": "Reconcile",
                    "k8s-app": "gcp-compute-persistent-disk-csi-driver",
                },
            },
            "spec": {
                "attachRequired": True,
                "podInfoOnMount": False,
                "fsGroupPolicy": "ReadWriteOnceWithFSType",
                "requiresRepublish": False,
                "storageCapacity": False,
                "volumeLifecycleModes": ["Persistent"],
            },
        }
    ]
    if gcsfuse:
        drivers.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "CSIDriver",
                "metadata": {
                    "name": "gcsfuse.csi.storage.gke.io",
                    "uid": stable_uid("CSIDriver", "gcsfuse"),
                    "creationTimestamp": created,
                    "labels": {"addonmanager.kubernetes.io/mode": "Reconcile", "k8s-app": "gcs-fuse-csi-driver"},
                },
                "spec": {
                    "attachRequired": False,
                    "podInfoOnMount": True,
                    "fsGroupPolicy": "ReadWriteOnceWithFSType",
                    "requiresRepublish": True,
                    "storageCapacity": False,
                    "tokenRequests": [{"audience": "my-project.svc.id.goog"}],
                    "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                },
            }
        )
    return drivers
