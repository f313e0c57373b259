"""The deployment files hold together: the compose file's services, their commands (real
`aggregator` commands), the environment each role needs, the order they start in, the
proxy's upstreams, and a package that carries its migrations. (No Docker engine runs
here: the files are checked as data.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from aggregator.cli import _parser

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))


def aggregator_services(spec: dict) -> dict[str, dict]:
    return {k: v for k, v in spec["services"].items() if v.get("image") == "aggregator:latest"}


def test_the_scaled_out_layout_has_every_role() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {
        "postgres",
        "migrate",
        "poller-1",
        "poller-2",
        "web-1",
        "web-2",
        "proxy",
    }
    ours = aggregator_services(spec)
    assert set(ours) == set(services) - {"postgres", "proxy"}
    commands = {name: svc["command"] for name, svc in ours.items()}
    assert commands == {
        "migrate": ["db", "upgrade"],
        "poller-1": ["poll"],
        "poller-2": ["poll"],
        "web-1": ["serve"],
        "web-2": ["serve"],
    }
    for command in commands.values():  # each one a command the CLI takes
        assert _parser().parse_args(command).command == command[0]
    for svc in ours.values():
        assert svc["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert (DEPLOY / svc["build"]["context"] / "Dockerfile").is_file()
        mount = svc["volumes"][0].split(":")
        assert (DEPLOY / mount[0]).is_file() and mount[1] == svc["environment"]["AGGREGATOR_CONFIG"]


def test_each_role_gets_the_database_and_what_it_needs() -> None:
    spec = compose()
    pg = spec["services"]["postgres"]["environment"]
    for name, svc in aggregator_services(spec).items():
        env = svc["environment"]
        url = env["AGGREGATOR_DATABASE_URL"]
        assert re.fullmatch(
            r"postgresql://aggregator:\$\{POSTGRES_PASSWORD:-aggregator\}@postgres:5432/aggregator",
            url,
        ), name
        assert pg["POSTGRES_USER"] == "aggregator" and pg["POSTGRES_DB"] == "aggregator"
        if name.startswith("web"):
            assert env["AGGREGATOR_HOST"] == "0.0.0.0" and env["AGGREGATOR_PORT"] == "8080"
            assert "healthz" in " ".join(svc["healthcheck"]["test"])
        if name.startswith("poller"):
            assert {"AGGREGATOR_WORKERS", "AGGREGATOR_CONCURRENCY"} <= set(env)


def test_roles_start_after_the_schema_upgrade_and_the_proxy_after_the_servers() -> None:
    services = compose()["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"  # one shot
    for name in ("poller-1", "poller-2", "web-1", "web-2"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    proxy = services["proxy"]
    assert proxy["depends_on"] == {
        "web-1": {"condition": "service_healthy"},
        "web-2": {"condition": "service_healthy"},
    }
    conf_path = DEPLOY / proxy["volumes"][0].split(":")[0]
    conf = conf_path.read_text("utf-8")
    assert re.findall(r"server (web-\d):(\d+)", conf) == [("web-1", "8080"), ("web-2", "8080")]
    assert "proxy_pass http://aggregator;" in conf


def test_the_image_runs_any_role_and_the_package_carries_its_migrations() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert 'ENTRYPOINT ["aggregator"]' in dockerfile and 'CMD ["run"]' in dockerfile
    # setuptools packages every folder of aggregator/ with an __init__.py
    migrations = ROOT / "aggregator" / "store" / "migrations"
    assert (migrations / "__init__.py").is_file() and (migrations / "env.py").is_file()
    assert (migrations / "versions" / "__init__.py").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert "store/migrations/script.py.mako" in pyproject
