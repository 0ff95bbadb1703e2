"""A presigned download URL stops working at the bucket when it expires. moto does not check
expiry, so this runs against s3rver (npm, pinned in tests/content/s3rver/package.json; Node from
Debian's nodejs), which refuses an expired URL as S3 does: 403 AccessDenied "Request has expired"."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import api_client, make_key
from tests.processes import free_port

from .test_s3 import s3_storages

HERE = Path(__file__).with_name("s3rver")


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.fail("node is missing: apt-get install -y nodejs npm")
    if not (HERE / "node_modules" / "s3rver").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(
        ["node", str(HERE / "node_modules" / ".bin" / "s3rver"), "-d", str(tmp_path_factory.mktemp("s3rver")),
         "-a", "127.0.0.1", "-p", str(port), "-s", "--configure-bucket", "hub"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"{endpoint}/", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("s3rver did not start")
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def test_a_one_second_download_url_is_refused_by_the_bucket_once_expired(tenant_a, settings, s3rver):
    settings.STORAGES = s3_storages(settings, endpoint=s3rver, bucket="hub", key="S3RVER")  # s3rver's own key
    settings.HUB_CONTENT_SERVE, settings.HUB_CONTENT_URL_SECONDS = "redirect", 1
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    created = api.post("/api/v1/content/documents/", {"file": SimpleUploadedFile("logo.svg", svg)})
    assert created.status_code == 201, created.content
    response = api.get(f"/api/v1/content/documents/{created.json()['id']}/download/", {"inline": "1"})
    assert response.status_code == 302
    url = response["Location"]

    fresh = requests.get(url, timeout=5)
    assert fresh.status_code == 200 and fresh.content == svg
    assert fresh.headers["Content-Type"] == "application/octet-stream"  # SVG is never shown, even asked inline
    assert fresh.headers["Content-Disposition"] == 'attachment; filename="logo.svg"'

    deadline = time.monotonic() + 5  # X-Amz-Date counts whole seconds: expired within 2 s
    while (late := requests.get(url, timeout=5)).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert late.status_code == 403 and b"Request has expired" in late.content
