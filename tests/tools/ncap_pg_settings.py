"""The settings every ncap PostgreSQL cluster adds to PostgreSQL's defaults, as
deploy/local/postgresql.ncap.conf states them (why each: that file): deploy/local appends the file
to a new cluster's postgresql.conf, and docker-compose.yml and deploy/k8s/postgres.yaml must set
the same (test_compose.sh, k8s_check.py)."""
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "local",
                    "postgresql.ncap.conf")


def settings(path=PATH):
    """{name: value} of each `name = value` line, comments left out."""
    conf = {}
    with open(path) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                key, value = (x.strip() for x in line.split("=", 1))
                conf[key] = value
    return conf
