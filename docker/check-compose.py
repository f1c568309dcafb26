#!/usr/bin/env python3
"""Checks docker/compose.yaml without a Docker engine (CI has none): the structure Compose needs,
references between services, secrets and volumes, and that every file and build target it names
exists. `docker compose config` does more where the Compose plugin is installed."""
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
problems = []


def need(cond, msg):
    if not cond:
        problems.append(msg)


with open(os.path.join(HERE, "compose.yaml")) as f:
    doc = yaml.safe_load(f)

need(isinstance(doc, dict), "compose.yaml is not a mapping")
services = doc.get("services", {})
need(services, "no services")
secrets = doc.get("secrets", {}) or {}
volumes = doc.get("volumes", {}) or {}
with open(os.path.join(HERE, "Dockerfile")) as f:
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", f.read(), re.M | re.I))
built_images = {s.get("image") for s in services.values() if "build" in s}

for name, svc in services.items():
    need(isinstance(svc, dict), f"service {name} is not a mapping")
    need("image" in svc or "build" in svc, f"service {name}: neither image nor build")
    build = svc.get("build")
    if build:
        ctx = os.path.normpath(os.path.join(HERE, build.get("context", ".")))
        dockerfile = os.path.join(ctx, build.get("dockerfile", "Dockerfile"))
        need(os.path.isfile(dockerfile), f"service {name}: {dockerfile} missing")
        need(build.get("target") in targets, f"service {name}: build target {build.get('target')} not in Dockerfile {sorted(targets)}")
    elif svc.get("image", "").startswith("eventproc/"):
        need(svc["image"] in built_images, f"service {name}: image {svc['image']} is built by no service")
    deps = svc.get("depends_on", [])
    for d in (deps if isinstance(deps, list) else deps.keys()):
        need(d in services, f"service {name}: depends_on unknown service {d}")
    for s in svc.get("secrets", []):
        need(s in secrets, f"service {name}: unknown secret {s}")
    for v in svc.get("volumes", []):
        src = v.split(":")[0]
        need(src in volumes or src.startswith(("/", ".")), f"service {name}: unknown volume {src}")
    cmd = svc.get("command", [])
    need(isinstance(cmd, list), f"service {name}: command should be a list (no shell parsing)")

for s, spec in secrets.items():
    need(os.path.isfile(os.path.join(HERE, spec.get("file", ""))), f"secret {s}: file {spec.get('file')} missing")
for f in ("submit.sh", "compose.properties"):
    need(os.path.isfile(os.path.join(HERE, f)), f"{f} missing")

if problems:
    print("docker/compose.yaml: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"docker/compose.yaml: {len(services)} services, build targets {sorted(targets)}: OK")
