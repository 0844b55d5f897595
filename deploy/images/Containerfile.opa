# Open Policy Agent (built from the Go module proxy by plutarc_access.opa_server.ensure_opa) serving
# plutarc's policy (deploy/policy) the deployment way: `opa run --server <dir>`.
ARG BASE
FROM ${BASE}
ARG EXTRA
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="plutarc-opa" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/plutarc/plutarc" \
      org.plutarc.service="opa"
COPY ${EXTRA}/ /opt/plutarc/extra/
ENV PATH=/opt/plutarc/extra/bin:/usr/bin:/bin OPA_ADDR=127.0.0.1:8181
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/${OPA_ADDR%:*}/${OPA_ADDR##*:}"]
CMD ["/bin/sh", "-c", "exec opa run --server --addr \"$OPA_ADDR\" --disable-telemetry --log-level error /opt/plutarc/extra/policy"]
