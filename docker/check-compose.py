#!/usr/bin/env python3
"""Checks docker/ without a Docker engine (CI has none): the structure Compose needs, references between
services, volumes and build targets, and the stack's security properties: pinned image versions, downloads
verified by checksum or signature, non-root users, Spark's RPC authentication with a generated secret, and
no password file in the repository. `docker compose config` does more where the Compose plugin is installed.

Usage: check-compose.py [DIR]  (default: the directory of this script)"""
import os
import re
import sys

import yaml

HERE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
problems = []
# A pinned tag names a full version (x.y.z, optionally with a suffix) or a digest; never latest or a bare major.
# PostgreSQL numbers its releases major.minor (15.10), so x.y is its full version.
# Prometheus tags its releases with a leading v (v2.53.0).
PINNED = re.compile(r"^[^:@\s]+(:v?[0-9]+\.[0-9]+\.[0-9]+[\w.+-]*|@sha256:[0-9a-f]{64})$")
PINNED_POSTGRES = re.compile(r"^postgres:[0-9]+\.[0-9]+([-.][\w.-]+)?$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Images that start as root and drop to their own user themselves (documented in README).
DROPS_PRIVILEGES = {"postgres"}


def need(cond, msg):
    if not cond:
        problems.append(msg)


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


doc = yaml.safe_load(read("compose.yaml"))
need(isinstance(doc, dict), "compose.yaml is not a mapping")
services = doc.get("services", {})
need(services, "no services")
secrets = doc.get("secrets", {}) or {}
volumes = doc.get("volumes", {}) or {}
dockerfile = read("Dockerfile")
targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, re.M | re.I))
built_images = {s.get("image") for s in services.values() if "build" in s}

# --- structure and references
for name, svc in services.items():
    need(isinstance(svc, dict), f"service {name} is not a mapping")
    need("image" in svc or "build" in svc, f"service {name}: neither image nor build")
    build = svc.get("build")
    if build:
        ctx = os.path.normpath(os.path.join(HERE, build.get("context", ".")))
        df = os.path.join(ctx, build.get("dockerfile", "Dockerfile"))
        need(os.path.isfile(df), f"service {name}: {df} missing")
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
for f in ("submit.sh", "compose.properties"):
    need(os.path.isfile(os.path.join(HERE, f)), f"{f} missing")

# --- pinned versions
for name, svc in services.items():
    image = svc.get("image", "")
    if "build" not in svc and not image.startswith("eventproc/"):
        need(PINNED.match(image) or PINNED_POSTGRES.match(image), f"service {name}: image {image} is not pinned to a full "
             "version or digest")
args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))
for ref in re.findall(r"^FROM\s+(\S+)", dockerfile, re.M | re.I):
    image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), ref)
    if image in targets:
        continue
    need(PINNED.match(image), f"Dockerfile: FROM {image} is not pinned to a full version or digest")

# --- every download verified: jars through fetch-verified.sh with a SHA-256, Spark by its pinned release key
for line in re.findall(r"^.*\b(?:curl|wget)\b.*https?:.*$", dockerfile, re.M):
    ok = "spark.tgz" in line and re.search(r"gpg --batch --verify spark\.tgz\.asc spark\.tgz", dockerfile)
    need(ok, f"Dockerfile: a download is not verified: {line.strip()}")
need(re.search(r"^\s*ARG SPARK_GPG_KEY=[0-9A-F]{40}\s*$", dockerfile, re.M),
     "Dockerfile: SPARK_GPG_KEY is not a pinned 40-digit key fingerprint")
fetches = re.findall(r"^\s*eventproc-fetch-verified\s+(\S+)\s+(\S+?);?\s*\\?$", dockerfile, re.M)
need(fetches, "Dockerfile: no jar is fetched through eventproc-fetch-verified (fetch-verified.sh)")
for url, sha in fetches:
    value = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), sha)
    need(SHA256.match(value), f"Dockerfile: {url} has no pinned SHA-256 ({sha})")
if os.path.isfile(os.path.join(HERE, "fetch-verified.sh")):
    need("sha256sum -c" in read("fetch-verified.sh"), "fetch-verified.sh does not check the SHA-256")
else:
    need(False, "fetch-verified.sh missing")
need(re.search(r"mvn .*(-C|--strict-checksums)", dockerfile), "Dockerfile: Maven does not fail on a checksum mismatch (-C)")

# --- non-root users: each runtime stage ends as a user other than root
stages = re.split(r"^FROM\s+", dockerfile, flags=re.M | re.I)[1:]
for stage in stages:
    name = re.match(r"\S+(?:\s+AS\s+(\S+))?", stage, re.I).group(1)
    if name in (None, "build"):
        continue
    users = re.findall(r"^USER\s+(\S+)", stage, re.M)
    need(users and users[-1] not in ("root", "0", "0:0"), f"Dockerfile: stage {name} runs as root (no USER)")
for name, svc in services.items():
    user = str(svc.get("user", ""))
    need(user.split(":")[0] not in ("root", "0"), f"service {name}: runs as root (user: {user})")
    image = svc.get("image", "")
    if "build" not in svc and not image.startswith("eventproc/"):
        base = image.split(":")[0].split("@")[0].split("/")[-1]
        need(user or base in DROPS_PRIVILEGES or base == "kafka",
             f"service {name}: image {image} may run as root; set user:")

# --- secrets: generated on first start into a volume, none committed
need(not os.path.exists(os.path.join(HERE, "pg_password.txt")), "pg_password.txt is committed: generate it on first start")
for s, spec in secrets.items():
    need("file" not in spec, f"secret {s}: read from the committed file {spec.get('file')}; generate it on first start")
init = services.get("secrets-init", {})
need(init, "no secrets-init service generates the stack's secrets")
need("eventproc-init-secrets" in " ".join(map(str, init.get("command", []) + init.get("entrypoint", []))),
     "secrets-init does not run eventproc-init-secrets")
for name, svc in services.items():
    env = svc.get("environment", {}) or {}
    env = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
    need("POSTGRES_PASSWORD" not in env, f"service {name}: a literal POSTGRES_PASSWORD; use POSTGRES_PASSWORD_FILE")
    if name != "secrets-init" and ("secrets:/secrets:ro" in svc.get("volumes", []) or env.get("POSTGRES_PASSWORD_FILE")):
        deps = svc.get("depends_on", {})
        need(isinstance(deps, dict) and deps.get("secrets-init", {}).get("condition") == "service_completed_successfully",
             f"service {name}: does not wait for secrets-init")
    if name != "secrets-init" and (svc.get("image", "").startswith("eventproc/") or "build" in svc):
        need("secrets:/secrets:ro" in svc.get("volumes", []), f"service {name}: no read-only secrets volume for Spark's auth secret")

# --- Spark's RPC authentication with the generated secret
auth = read("spark-auth.sh") if os.path.isfile(os.path.join(HERE, "spark-auth.sh")) else ""
need("spark.authenticate true" in auth and "spark.authenticate.secret" in auth,
     "spark-auth.sh does not turn on spark.authenticate with the generated secret")
need(re.search(r"ENTRYPOINT \[.*eventproc-spark-auth", dockerfile), "Dockerfile: the Spark images do not start through eventproc-spark-auth")
gen = read("init-secrets.sh") if os.path.isfile(os.path.join(HERE, "init-secrets.sh")) else ""
need("spark_secret" in gen and "pg_password" in gen and "/dev/urandom" in gen,
     "init-secrets.sh does not generate pg_password and spark_secret from /dev/urandom")
need("${file:/secrets/pg_password}" in read("compose.properties"), "compose.properties does not read the generated password")

# --- monitoring: Prometheus scrapes the job by its alias; every dashboard query uses a series the relabeling makes
if "prometheus" in services:
    prom = yaml.safe_load(read("prometheus.yml"))
    scrape = prom["scrape_configs"][0]
    aliases = services.get("job", {}).get("networks", {}).get("default", {}).get("aliases", [])
    for target in scrape["static_configs"][0]["targets"]:
        need(target.split(":")[0] in aliases, f"prometheus.yml scrapes {target}, which is no alias of the job service")
    made = set()
    for rule in scrape.get("metric_relabel_configs", []):
        if rule.get("target_label") == "__name__":
            names = re.search(r"_\((\w+(?:\|\w+)*)\)_\((\w+(?:\|\w+)*)\)$", rule["regex"])
            for figure in names.group(1).split("|"):
                if "_$3" in rule["replacement"]:
                    made.update(f"eventproc_{figure}_{s}" for s in names.group(2).split("|"))
                else:
                    made.add(f"eventproc_{figure}")
    board = os.path.join(HERE, "grafana", "dashboards", "eventproc.json")
    need(os.path.isfile(board), "grafana/dashboards/eventproc.json missing")
    dashboard = __import__("json").load(open(board)) if os.path.isfile(board) else {"panels": []}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for used in re.findall(r"\beventproc_\w+", target["expr"]):
                need(used in made, f"dashboard panel {panel['title']!r} queries {used}, which prometheus.yml does not produce")
    need(services.get("grafana"), "no grafana service for the dashboard")

if problems:
    print("docker/: " + "\n  ".join([""] + problems), file=sys.stderr)
    sys.exit(1)
print(f"docker/compose.yaml: {len(services)} services, build targets {sorted(targets)}: OK")
