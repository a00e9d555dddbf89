# The Jarvis image's base (its PYTHON_IMAGE) when no registry is reachable: Debian's own Python 3.11
# on the debootstrapped Debian base. `python` and `python -m venv` work as in python:3.11-slim.
# ca/ holds the building machine's extra trusted CAs (often none); pip is told to use the system
# bundle that includes them.
ARG BASE=jarvis-base/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
