{{/* The release's full name: <release>-plutarc, or the release name when it already says plutarc. */}}
{{- define "plutarc.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A service's objects' name. Expects (dict "root" $ "name" <service>). */}}
{{- define "plutarc.serviceName" -}}
{{- printf "%s-%s" (include "plutarc.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "plutarc.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "plutarc.labels" -}}
{{ include "plutarc.selectorLabels" . }}
app.kubernetes.io/version: {{ include "plutarc.tag" .root | quote }}
app.kubernetes.io/part-of: plutarc
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of the release's shared objects (Secret, ServiceAccount). */}}
{{- define "plutarc.commonLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "plutarc.tag" . | quote }}
app.kubernetes.io/part-of: plutarc
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "plutarc.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* <registry>/<prefix>/<service>:<tag>, the tag the service's own imageTag or else image.tag or else
the appVersion. Expects (dict "root" $ "name" <service>). */}}
{{- define "plutarc.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s" $img.repositoryPrefix .name -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo -}}{{- end -}}
{{- $own := (index .root.Values.services .name).imageTag | default "" -}}
{{- printf "%s:%s" $repo ($own | default (include "plutarc.tag" .root)) -}}
{{- end -}}

{{- define "plutarc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "plutarc.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the secret settings: the user's, else the chart's. */}}
{{- define "plutarc.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "plutarc.fullname" .) -}}
{{- end -}}

{{/* A service's settings: the defaults with the service's own entry over them. */}}
{{- define "plutarc.config" -}}
{{- $cfg := mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy (index .root.Values.services .name)) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Every environment variable of one service. Expects (dict "root" $ "name" <service> "cfg" <config>). */}}
{{- define "plutarc.env" -}}
{{- $v := .root.Values -}}
{{- $cfg := .cfg -}}
{{- $keys := $v.secrets.keys -}}
{{- $plain := dict
    "PLUTARC_KAFKA_BOOTSTRAP" $v.kafka.bootstrap
    "PLUTARC_DATA_DIR" "/var/lib/plutarc/data"
    "PLUTARC_HTTP_HOST" "0.0.0.0"
    "PLUTARC_LOG_JSON" "true"
    "HOME" "/tmp"
    "TMPDIR" "/tmp"
    "PYTHONDONTWRITEBYTECODE" "1"
-}}
{{- if $cfg.ports.http -}}
{{- $_ := set $plain "PLUTARC_HTTP_PORT" $cfg.ports.http -}}
{{- $_ := set $plain "PLUTARC_OPS_HOST" "0.0.0.0" -}}
{{- $_ := set $plain "PLUTARC_OPS_PORT" $cfg.ports.metrics -}}
{{- else -}}
{{- $_ := set $plain "PLUTARC_HTTP_PORT" $cfg.ports.metrics -}}
{{- end -}}
{{- if gt (int $cfg.replicas) 1 -}}
{{- if not (or $v.postgresql.url $v.postgresql.existingSecret) -}}
{{- fail (printf "services.%s.replicas is %v: replicas share their store, so they need PostgreSQL (postgresql.url or postgresql.existingSecret)" .name $cfg.replicas) -}}
{{- end -}}
{{- $_ := set $plain "PLUTARC_SINGLE_WRITER" "false" -}}
{{- end -}}
{{- if $v.opa.url -}}{{- $_ := set $plain "PLUTARC_OPA_URL" $v.opa.url -}}{{- end -}}
{{- if and (eq .name "api") $v.publicUrl -}}{{- $_ := set $plain "PLUTARC_PUBLIC_URL" $v.publicUrl -}}{{- end -}}
{{- $mails := or (eq .name "identity") (eq .name "support") -}}
{{- if and $mails $v.smtp.host -}}
{{- $_ := set $plain "PLUTARC_SMTP_HOST" $v.smtp.host -}}
{{- $_ := set $plain "PLUTARC_SMTP_PORT" $v.smtp.port -}}
{{- $_ := set $plain "PLUTARC_SMTP_STARTTLS" $v.smtp.starttls -}}
{{- $_ := set $plain "PLUTARC_SMTP_TLS" $v.smtp.tls -}}
{{- if $v.smtp.mailFrom -}}{{- $_ := set $plain "PLUTARC_MAIL_FROM" $v.smtp.mailFrom -}}{{- end -}}
{{- end -}}
{{- if and (eq .name "support") $v.telegram.chatId -}}
{{- $_ := set $plain "PLUTARC_SUPPORT_TELEGRAM_CHAT_ID" $v.telegram.chatId -}}
{{- if $v.telegram.apiUrl -}}{{- $_ := set $plain "PLUTARC_SUPPORT_TELEGRAM_API_URL" $v.telegram.apiUrl -}}{{- end -}}
{{- if $v.telegram.operators -}}{{- $_ := set $plain "PLUTARC_SUPPORT_TELEGRAM_OPERATORS" ($v.telegram.operators | toJson) -}}{{- end -}}
{{- end -}}
{{- if and (eq .name "support") $v.publicUrl -}}
{{- $_ := set $plain "PLUTARC_SUPPORT_LINK_BASE_URL" (printf "%s/support/tickets" (trimSuffix "/" $v.publicUrl)) -}}
{{- end -}}
{{- $plain = mergeOverwrite $plain ($v.env | default dict) ($cfg.env | default dict) -}}
{{- /* The secret settings this service reads: (env, key in the secret settings' Secret, optional). */ -}}
{{- $secret := list -}}
{{- if eq .name "exchange-gateway" -}}
{{- $secret = append $secret (list "PLUTARC_EXCHANGE_KEK" $keys.exchangeKek false) -}}
{{- $secret = append $secret (list "PLUTARC_EXCHANGE_SEALING_KEY" $keys.exchangeSealingKey false) -}}
{{- end -}}
{{- if eq .name "api" -}}
{{- $secret = append $secret (list "PLUTARC_SECRET_KEY" $keys.secretKey false) -}}
{{- end -}}
{{- if eq .name "compute" -}}
{{- $secret = append $secret (list "PLUTARC_COMPUTE_PULUMI_PASSPHRASE" $keys.pulumiPassphrase false) -}}
{{- end -}}
{{- if and $mails $v.smtp.host -}}
{{- $secret = append $secret (list "PLUTARC_SMTP_USERNAME" $keys.smtpUsername true) -}}
{{- $secret = append $secret (list "PLUTARC_SMTP_PASSWORD" $keys.smtpPassword true) -}}
{{- end -}}
{{- if and (eq .name "support") $v.telegram.chatId -}}
{{- $secret = append $secret (list "PLUTARC_SUPPORT_TELEGRAM_BOT_TOKEN" $keys.telegramBotToken true) -}}
{{- end -}}
{{- $fromSecrets := list "PLUTARC_DATABASE_URL" -}}
{{- range $secret }}{{ $fromSecrets = append $fromSecrets (index . 0) }}{{ end -}}
{{- range $fromSecrets -}}
{{- if hasKey $plain . -}}
{{- fail (printf "%s comes from a Secret (postgresql.* and secrets.*, docs/deployment.md): set it there, not in env" .) -}}
{{- end -}}
{{- end -}}
{{- range $name := keys $plain | sortAlpha }}
- name: {{ $name }}
  value: {{ index $plain $name | toString | quote }}
{{- end }}
{{- if or $v.postgresql.url $v.postgresql.existingSecret }}
- name: PLUTARC_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.postgresql.existingSecret | default (include "plutarc.fullname" .root) }}
      key: {{ ternary $v.postgresql.existingSecretKey "database-url" (ne $v.postgresql.existingSecret "") }}
{{- end }}
{{- range $secret }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "plutarc.secretName" $.root }}
      key: {{ index . 1 }}
      {{- if index . 2 }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* The one Deployment shape of every service. Expects (dict "root" $ "name" <service>). */}}
{{- define "plutarc.deployment" -}}
{{- $cfg := include "plutarc.config" . | fromYaml -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "plutarc.serviceName" . }}
  labels:
    {{- include "plutarc.labels" . | nindent 4 }}
spec:
  replicas: {{ $cfg.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "plutarc.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "plutarc.labels" . | nindent 8 }}
        {{- with $cfg.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $cfg.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "plutarc.serviceAccountName" .root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with .root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $cfg.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: 40
      containers:
        - name: {{ .name }}
          image: {{ include "plutarc.image" . }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          command:
            {{- toYaml $cfg.command | nindent 12 }}
          ports:
            {{- if $cfg.ports.http }}
            - name: http
              containerPort: {{ $cfg.ports.http }}
              protocol: TCP
            {{- end }}
            - name: metrics
              containerPort: {{ $cfg.ports.metrics }}
              protocol: TCP
          env:
            {{- include "plutarc.env" (dict "root" .root "name" .name "cfg" $cfg) | trim | nindent 12 }}
          {{- with $cfg.extraEnvFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          livenessProbe:
            httpGet: {path: /health, port: metrics}
            {{- toYaml $cfg.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet: {path: /ready, port: metrics}
            {{- toYaml $cfg.probes.readiness | nindent 12 }}
          resources:
            {{- toYaml $cfg.resources | nindent 12 }}
          securityContext:
            {{- toYaml $cfg.securityContext | nindent 12 }}
          volumeMounts:
            - name: scratch
              mountPath: /var/lib/plutarc
              subPath: data
            - name: scratch
              mountPath: /tmp
              subPath: tmp
      volumes:
        - name: scratch
          emptyDir:
            sizeLimit: {{ $cfg.scratchSizeLimit }}
      {{- with $cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* The Service in front of one service's ports. Expects (dict "root" $ "name" <service>). */}}
{{- define "plutarc.service" -}}
{{- $cfg := include "plutarc.config" . | fromYaml -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "plutarc.serviceName" . }}
  labels:
    {{- include "plutarc.labels" . | nindent 4 }}
spec:
  type: {{ .root.Values.service.type }}
  selector:
    {{- include "plutarc.selectorLabels" . | nindent 4 }}
  ports:
    {{- if $cfg.ports.http }}
    - name: http
      port: {{ $cfg.ports.http }}
      targetPort: http
      protocol: TCP
    {{- end }}
    - name: metrics
      port: {{ $cfg.ports.metrics }}
      targetPort: metrics
      protocol: TCP
{{- end -}}
