"""The sandbox's v2 operator (wandb/operator `main`): what its reconciler and the Application
controller do with the WeightsAndBiases resource at apps.wandb.com/v2, played on a
FakeKubeAPI through its Python store API, as operator.py plays the chart's operator.

For every Deployment the operator made (named after a manifest app, selecting
`app.kubernetes.io/instance=<namespace>`):

- autoscaling: sizing's bounds overridden by `spec.wandb.applications.<app>.autoscaling`
  (kube/objects/operator_v2.py `bounds`, after `sizing.go` ResolveAutoscaling) make the HPA
  named after the app: created, updated, or deleted when no bounds are left;
- replicas: with an HPA, what the HPA controller wants (`desired_replicas`, from the queue
  model) or the current count, clamped to its bounds, with its status (operator.py's); without,
  left as they are (`Spec.Replicas` unset in the Application). So a direct `kubectl scale` of
  an autoscaled app is undone, and a v1 write of `spec.values` changes nothing;
- pods follow the Deployment (operator_pods.py).

Time is the caller's `now`; nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.autoscalers import hpa_status
from wbctl.sandbox.kube.objects.basics import Obj, stable_uid, timestamp
from wbctl.sandbox.kube.objects.operator_v2 import API_V2, MANIFEST_APPS, bounds
from wbctl.sandbox.sim import operator as v1
from wbctl.sandbox.sim.operator_pods import Store, pods_of, schedulable, sync_deployment_status, sync_pods

INSTANCE_LABEL = "app.kubernetes.io/instance"
APPS = {app.name: app for app in MANIFEST_APPS}


def reconcile(
    api: Store,
    *,
    namespace: str,
    instance: str,
    now: datetime,
    desired_replicas: Mapping[str, int] | None = None,
    ready_after: timedelta = timedelta(seconds=30),
) -> list[str]:
    """Bring the apps' HPAs, replicas and pods in line with the v2 resource at `now`; one line
    per change. Idempotent. `desired_replicas` is keyed by app (`flat-run-fields-updater`)."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    wanted = {key.removeprefix("wandb-"): int(count) for key, count in (desired_replicas or {}).items()}
    with v1._LOCK:
        cr = api.get("weightsandbiases", namespace, instance)
        applications = (((cr or {}).get("spec") or {}).get("wandb") or {}).get("applications") or {}
        state = v1._Namespace(
            namespace,
            instance,
            cr,
            {},
            True,
            "",
            None,
            api.objects("horizontalpodautoscalers", namespace),
            [],
            api.objects("pods", namespace),
            schedulable(api.objects("nodes")),
        )
        lines: list[str] = []
        for deployment in api.objects("deployments", namespace):
            selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            app = APPS.get(deployment["metadata"]["name"])
            if app is None or selector.get(INSTANCE_LABEL) != namespace:
                continue
            autoscaler = _hpa(api, state, deployment, bounds(app, applications) if cr else None, now, lines)
            lines += _replicas(api, state, deployment, autoscaler, wanted.get(app.name), now)
            mine, pod_lines = sync_pods(
                api, deployment, pods_of(deployment, state.pods), state.pods, state.nodes, now, ready_after, None
            )
            sync_deployment_status(api, deployment, mine, now)
            lines += pod_lines
        return lines


def _hpa(
    api: Store, state: Any, deployment: Obj, wanted: tuple[int, int] | None, now: datetime, lines: list[str]
) -> Obj | None:
    """The HPA named after the app, as the Application controller keeps it (reconcileHPA)."""
    name = deployment["metadata"]["name"]
    existing = next((h for h in state.hpas if h["metadata"]["name"] == name), None)
    if wanted is None:
        if existing is not None:
            api.remove("horizontalpodautoscalers", state.namespace, name)
            v1._replace(state.hpas, existing, None)
            lines.append(f"deleted horizontalpodautoscaler/{name} (no autoscaling bounds for {name})")
        return None
    if existing is None:
        current = int(deployment["spec"].get("replicas", 1))
        created = timestamp(now)
        owner = {"apiVersion": API_V2, "kind": "Application", "name": name, "controller": True}
        made = api.add(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {
                    "name": name,
                    "namespace": state.namespace,
                    "uid": stable_uid("HorizontalPodAutoscaler", state.namespace, name, created),
                    "creationTimestamp": created,
                    "ownerReferences": [{**owner, "uid": stable_uid("Application", state.namespace, name)}],
                },
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": wanted[0],
                    "maxReplicas": wanted[1],
                    "metrics": v1._with_cpu([], v1.DEFAULT_CPU),  # the API server's default for no metrics
                },
                "status": {
                    "currentReplicas": current,
                    "desiredReplicas": current,
                    "conditions": hpa_status(current, created)["conditions"],
                },
            }
        )
        state.hpas.append(made)
        lines.append(f"created horizontalpodautoscaler/{name} ({wanted[0]}-{wanted[1]})")
        return made
    before = v1._bounds(existing["spec"])
    if before == wanted:
        return existing
    updated = v1._update(
        api, "horizontalpodautoscalers", existing, {"spec": {"minReplicas": wanted[0], "maxReplicas": wanted[1]}}
    )
    v1._replace(state.hpas, existing, updated)
    lines.append(f"horizontalpodautoscaler/{name}: {before[0]}-{before[1]} -> {wanted[0]}-{wanted[1]}")
    return updated


def _replicas(api: Store, state: Any, deployment: Obj, hpa: Obj | None, wanted: int | None, now: datetime) -> list[str]:
    """With an HPA, the HPA controller's count within its bounds (and its status); without, the
    Deployment's own count stands (the Application sets none)."""
    if hpa is None:
        return []
    current = int(deployment["spec"].get("replicas", 1))
    low, high = v1._bounds(hpa["spec"])
    target = min(max(current if wanted is None else wanted, low), high)
    lines: list[str] = []
    if target != current:
        updated = v1._update(api, "deployments", deployment, {"spec": {"replicas": target}})
        deployment.clear()
        deployment.update(updated)
        lines.append(
            f"deployment/{deployment['metadata']['name']}: {current} -> {target} replicas "
            f"(horizontalpodautoscaler/{hpa['metadata']['name']}, {low}-{high})"
        )
    return lines + v1._hpa_status(api, state, hpa, current, target, wanted, now)
