#!/usr/bin/env python3
"""Checks deploy/k8s as rendered by `kubectl kustomize` (RENDERED) against what ncap needs, offline:
a schema check of every object (its apiVersion and kind known, the fields its kind requires present
and of the right type) and the deployment's own rules: a Deployment per stage, non-root and
read-only with no privilege, memory requests and limits, probes on the metrics port; each Secret it
names made by deploy/k8s/new-secrets (SECRETS, its --print output) with the keys it reads; a
PodDisruptionBudget per stage; the web server (read-only, its own role, the releases read-only, a
Service); the autoscalers of linkage and validation; PostgreSQL by the
CloudNativePG operator with a synchronous standby; the migrations as a Job; and the network: each
stage reachable only from its upstream (ingest from anywhere on its submissions port), reaching only
its downstream and PostgreSQL. Prints one line per problem; exits 1 if any."""
import sys
import yaml

import ncap_pg_settings

STAGES = ["ingest", "linkage", "validation", "metric", "publish"]

# kind -> (apiVersion, required paths with their types)
SCHEMA = {
    "Namespace": ("v1", {"metadata.name": str}),
    "Deployment": ("apps/v1", {"metadata.name": str, "spec.selector.matchLabels": dict,
                               "spec.template.metadata.labels": dict,
                               "spec.template.spec.containers": list}),
    "Job": ("batch/v1", {"metadata.name": str, "spec.template.spec.containers": list,
                         "spec.template.spec.restartPolicy": str}),
    "Service": ("v1", {"metadata.name": str, "spec.selector": dict, "spec.ports": list}),
    "PersistentVolumeClaim": ("v1", {"metadata.name": str, "spec.accessModes": list,
                                     "spec.resources.requests.storage": str}),
    "PodDisruptionBudget": ("policy/v1", {"metadata.name": str, "spec.selector.matchLabels": dict}),
    "HorizontalPodAutoscaler": ("autoscaling/v2", {"metadata.name": str, "spec.scaleTargetRef.name": str,
                                                   "spec.maxReplicas": int, "spec.metrics": list}),
    "NetworkPolicy": ("networking.k8s.io/v1", {"metadata.name": str, "spec.podSelector": dict,
                                               "spec.policyTypes": list}),
    "Cluster": ("postgresql.cnpg.io/v1", {"metadata.name": str, "spec.instances": int,
                                          "spec.storage.size": str}),
}
CONTAINER = {"name": str, "image": str}

problems = []


def problem(msg):
    problems.append(msg)


def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def check_schema(doc):
    kind = doc.get("kind")
    if kind not in SCHEMA:
        problem(f"unexpected kind {kind!r} ({doc.get('metadata', {}).get('name')})")
        return False
    api, fields = SCHEMA[kind]
    name = get(doc, "metadata.name")
    if doc.get("apiVersion") != api:
        problem(f"{kind} {name}: apiVersion {doc.get('apiVersion')!r}, expected {api!r}")
    for path, typ in fields.items():
        v = get(doc, path)
        if not isinstance(v, typ) or isinstance(v, bool) and typ is int:
            problem(f"{kind} {name}: {path} missing or not a {typ.__name__}")
    if kind != "Namespace" and get(doc, "metadata.namespace") != "ncap":
        problem(f"{kind} {name}: not in namespace ncap")
    for c in (get(doc, "spec.template.spec.containers") or []) + \
            (get(doc, "spec.template.spec.initContainers") or []):
        for k, typ in CONTAINER.items():
            if not isinstance(c.get(k), typ):
                problem(f"{kind} {name}: a container without {k}")
    return True


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def main(rendered, secrets_file):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    secrets = {d["metadata"]["name"]: set((d.get("data") or {}).keys())
               for d in yaml.safe_load_all(open(secrets_file)) if d and d.get("kind") == "Secret"}
    by_kind = {}
    for d in docs:
        if check_schema(d):
            by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    if "Secret" in {d.get("kind") for d in docs}:
        problem("a Secret is in the tree: secrets are made by deploy/k8s/new-secrets, never kept in git")

    deps = by_kind.get("Deployment", {})
    pods = {}  # name -> pod labels, for the network check
    for stage in STAGES:
        d = deps.get(f"ncap-{stage}")
        if not d:
            problem(f"no Deployment ncap-{stage}")
            continue
        spec = d["spec"]["template"]["spec"]
        pods[stage] = d["spec"]["template"]["metadata"]["labels"]
        if not labels_match(d["spec"]["selector"]["matchLabels"], pods[stage]):
            problem(f"ncap-{stage}: its selector does not select its own pods")
        sc = spec.get("securityContext", {})
        if not sc.get("runAsNonRoot") or not sc.get("runAsUser"):
            problem(f"ncap-{stage}: does not run as a non-root user")
        for c in spec["containers"] + spec.get("initContainers", []):
            csc = c.get("securityContext", {})
            if csc.get("allowPrivilegeEscalation") is not False or not csc.get("readOnlyRootFilesystem") \
                    or "ALL" not in csc.get("capabilities", {}).get("drop", []):
                problem(f"ncap-{stage}/{c['name']}: may escalate, write its root or keep capabilities")
            res = c.get("resources", {})
            if not get(res, "requests.memory") or not get(res, "limits.memory"):
                problem(f"ncap-{stage}/{c['name']}: no memory request and limit")
            if c["image"].split(":")[0].split("/")[-1] != "ncap":
                problem(f"ncap-{stage}/{c['name']}: image {c['image']} is not ncap's")
        main_c = spec["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in main_c.get("ports", [])}
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            if get(main_c, f"{probe}.httpGet.path") != path or \
                    get(main_c, f"{probe}.httpGet.port") not in ("metrics", ports.get("metrics")):
                problem(f"ncap-{stage}: {probe} is not GET {path} on the metrics port")
        env = {e["name"]: e.get("value") for e in main_c.get("env", [])}
        if (env.get("NCAP_METRICS_LISTEN") or "").rsplit(":", 1)[-1] != str(ports.get("metrics")):
            problem(f"ncap-{stage}: NCAP_METRICS_LISTEN {env.get('NCAP_METRICS_LISTEN')} is not on "
                    f"its metrics port {ports.get('metrics')}")
        if f"user=ncap_{stage}" not in (env.get("NCAP_PG") or "") or "host=ncap-pg-rw" not in env["NCAP_PG"]:
            problem(f"ncap-{stage}: NCAP_PG is not its own role on the read-write service")
        for v in spec.get("volumes", []):
            refs = []
            if "secret" in v:
                refs.append(v["secret"])
            for src in get(v, "projected.sources") or []:
                if "secret" in src:
                    refs.append(src["secret"])
            for r in refs:
                name = r.get("secretName") or r.get("name")
                if name not in secrets:
                    problem(f"ncap-{stage}: Secret {name} is not made by deploy/k8s/new-secrets")
                    continue
                for item in r.get("items", []):
                    if item["key"] not in secrets[name]:
                        problem(f"ncap-{stage}: Secret {name} has no key {item['key']}")
        if f"ncap-keys-{stage}" in secrets:
            want = {f"{stage}.key"} | {f"{s}.pub" for s in neighbours(stage)}
            if stage == "ingest":  # the web daemon's key, admitted as the trusts' HTTP gateway
                want.add("web.pub")
            if secrets[f"ncap-keys-{stage}"] != want:
                problem(f"Secret ncap-keys-{stage} holds {sorted(secrets[f'ncap-keys-{stage}'])}, "
                        f"expected {sorted(want)}")
    for stage in STAGES:
        if stage not in pods:
            continue
        if not any(labels_match(p["spec"]["selector"]["matchLabels"], pods[stage])
                   for p in by_kind.get("PodDisruptionBudget", {}).values()):
            problem(f"no PodDisruptionBudget for ncap-{stage}")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind.get("HorizontalPodAutoscaler", {}).values()}
    for stage in ["linkage", "validation"]:
        h = hpas.get(f"ncap-{stage}")
        if not h:
            problem(f"no HorizontalPodAutoscaler for ncap-{stage}")
        else:
            names = [get(m, "external.metric.name") or get(m, "pods.metric.name") for m in h["spec"]["metrics"]]
            if "ncap_backlog_records" not in names:
                problem(f"ncap-{stage}'s autoscaler does not follow its backlog (ncap_backlog_records)")
    for name in hpas:
        if name not in deps:
            problem(f"an autoscaler targets {name}, which is not a Deployment")

    clusters = by_kind.get("Cluster", {})
    if len(clusters) != 1:
        problem(f"expected one CloudNativePG Cluster, found {len(clusters)}")
    for c in clusters.values():
        if c["spec"]["instances"] < 2 or (c["spec"].get("minSyncReplicas") or 0) < 1:
            problem("PostgreSQL has no synchronous standby (instances >= 2, minSyncReplicas >= 1)")
        if get(c, "spec.bootstrap.initdb.secret.name") not in secrets:
            problem("PostgreSQL's owner Secret is not made by deploy/k8s/new-secrets")
        params = get(c, "spec.postgresql.parameters") or {}
        for key, value in ncap_pg_settings.settings().items():
            if str(params.get(key)) != value:
                problem(f"PostgreSQL's {key} is {params.get(key)}, deploy/local/postgresql.ncap.conf's {value}")
        if get(c, "spec.bootstrap.initdb.localeCollate") != "C":
            problem("PostgreSQL's collation is not C (localeCollate): text would not compare byte by byte")
    jobs = by_kind.get("Job", {})
    if not any("ncap migrate" in " ".join(map(str, j["spec"]["template"]["spec"]["containers"][0]["command"]))
               for j in jobs.values()):
        problem("no Job runs ncap migrate")

    check_web(deps.get("ncap-web"), by_kind, secrets)
    check_network(by_kind.get("NetworkPolicy", {}).values(), pods)
    for p in problems:
        print(p)
    return 1 if problems else 0


def check_web(d, by_kind, secrets):
    """The web server: non-root and read-only, PostgreSQL as ncap_web, the releases PVC mounted
    read-only, a Service and a PodDisruptionBudget, its Secret made by new-secrets."""
    if not d:
        problem("no Deployment ncap-web")
        return
    spec = d["spec"]["template"]["spec"]
    labels = d["spec"]["template"]["metadata"]["labels"]
    if not spec.get("securityContext", {}).get("runAsNonRoot"):
        problem("ncap-web: does not run as a non-root user")
    c = spec["containers"][0]
    csc = c.get("securityContext", {})
    if csc.get("allowPrivilegeEscalation") is not False or not csc.get("readOnlyRootFilesystem"):
        problem("ncap-web: may escalate or write its root")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    if "user=ncap_web" not in (env.get("NCAP_PG") or ""):
        problem("ncap-web: NCAP_PG is not role ncap_web")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        claim = get(vols.get(m["name"], {}), "persistentVolumeClaim")
        if claim and (not m.get("readOnly") or not claim.get("readOnly")):
            problem(f"ncap-web: the volume {m['name']} is not mounted read-only")
    if "ncap-pg-web" not in secrets:
        problem("Secret ncap-pg-web is not made by deploy/k8s/new-secrets")
    for kind in ("Service", "PodDisruptionBudget"):
        sel = lambda o: o["spec"]["selector"] if kind == "Service" else o["spec"]["selector"]["matchLabels"]
        if not any(labels_match(sel(o), labels) for o in by_kind.get(kind, {}).values()):
            problem(f"no {kind} for ncap-web")


def neighbours(stage):
    i = STAGES.index(stage)
    return [s for s in (STAGES[i - 1] if i > 0 else None, STAGES[i + 1] if i + 1 < len(STAGES) else None) if s]


def peer_allowed(rules_key, policies, labels, peer_labels, port):
    """Whether the policies selecting `labels` allow traffic with a peer of `peer_labels` on `port`
    (None: any port), in direction rules_key ('ingress' or 'egress'). No policy: allowed."""
    direction = "Ingress" if rules_key == "ingress" else "Egress"
    selecting = [p for p in policies if direction in p["spec"]["policyTypes"]
                 and labels_match(p["spec"]["podSelector"].get("matchLabels"), labels)]
    if not selecting:
        return True
    side = "from" if rules_key == "ingress" else "to"
    for p in selecting:
        for rule in p["spec"].get(rules_key) or []:
            ports = rule.get("ports")
            if ports and port not in [x.get("port") for x in ports]:
                continue
            peers = rule.get(side)
            if peers is None:
                return True
            for peer in peers:
                if "namespaceSelector" in peer and peer["namespaceSelector"]:
                    continue  # another namespace
                if "podSelector" in peer and labels_match(peer["podSelector"].get("matchLabels"), peer_labels):
                    return True
    return False


def check_network(policies, pods):
    policies = list(policies)
    pg = {"cnpg.io/cluster": "ncap-pg"}
    stranger = {"app": "something-else"}
    for a in STAGES:
        for b in STAGES:
            if a == b or a not in pods or b not in pods:
                continue
            ok = peer_allowed("egress", policies, pods[a], pods[b], None) and \
                peer_allowed("ingress", policies, pods[b], pods[a], None)
            want = STAGES.index(b) == STAGES.index(a) + 1
            if ok != want:
                problem(f"network: {a} -> {b} is {'allowed' if ok else 'refused'}, expected "
                        f"{'allowed' if want else 'refused'}")
        if a in pods:
            if not (peer_allowed("egress", policies, pods[a], pg, 5432)
                    and peer_allowed("ingress", policies, pg, pods[a], 5432)):
                problem(f"network: {a} cannot reach PostgreSQL")
            if peer_allowed("ingress", policies, pods[a], stranger, 1234):
                problem(f"network: any pod may reach {a}")
    if "ingest" in pods and not peer_allowed("ingress", policies, pods["ingest"], stranger, 5555):
        problem("network: the trusts cannot reach ingest's submissions port")
    if peer_allowed("ingress", policies, pg, stranger, 5432):
        problem("network: any pod may reach PostgreSQL")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
