{{/* Names, labels and the database wiring shared by the templates. */}}

{{- define "user-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name when it already contains the chart's name. */}}
{{- define "user-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "user-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "user-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The service's pods only: Jobs and test pods of the release carry another component. */}}
{{- define "user-service.apiSelectorLabels" -}}
{{ include "user-service.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "user-service.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "user-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: user-service
{{- end }}

{{- define "user-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "user-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "user-service.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The label the NetworkPolicy lets through: the chart's own test pod. */}}
{{- define "user-service.smokeTestLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: smoke-test
{{- end }}

{{- define "user-service.clusterName" -}}
{{- default (printf "%s-db" (include "user-service.fullname" .)) .Values.database.cloudnativepg.clusterName | trunc 50 | trimSuffix "-" }}
{{- end }}

{{/* CloudNativePG's application secret: keys uri (to <cluster>-rw), username, password, dbname. */}}
{{- define "user-service.appSecretName" -}}
{{- default (printf "%s-app" (include "user-service.clusterName" .)) .Values.database.cloudnativepg.secretName }}
{{- end }}

{{/* The Pooler's name is the name of its Service. */}}
{{- define "user-service.poolerName" -}}
{{- printf "%s-pooler-rw" (include "user-service.clusterName" .) }}
{{- end }}

{{- define "user-service.usesPooler" -}}
{{- if and (eq .Values.database.source "cloudnativepg") .Values.database.cloudnativepg.pooler.enabled }}true{{ end }}
{{- end }}

{{/* Secret holding an external URL given inline: one for the pods, one hook copy for the Job. */}}
{{- define "user-service.externalSecretName" -}}
{{- if .Values.database.external.existingSecret }}
{{- .Values.database.external.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "user-service.fullname" .) }}
{{- end }}
{{- end }}

{{- define "user-service.externalSecretKey" -}}
{{- if .Values.database.external.existingSecret }}
{{- .Values.database.external.existingSecretKey }}
{{- else -}}
url
{{- end }}
{{- end }}

{{/*
The migration Job's hook phases. Before install the database must exist, which it does not when
this chart creates the Cluster: the first migration then runs right after install.
*/}}
{{- define "user-service.migrationHooks" -}}
{{- if and (eq .Values.database.source "cloudnativepg") .Values.database.cloudnativepg.cluster.create -}}
post-install,pre-upgrade
{{- else -}}
pre-install,pre-upgrade
{{- end }}
{{- end }}

{{/*
USER_SERVICE_DATABASE_URL (and, through the Pooler, the libpq variables asyncpg falls back on) for
the service's pods. The Pooler's URL carries no credentials: PGUSER, PGPASSWORD and PGDATABASE
come from the secret as they are, so no character of the password needs URL-escaping.
*/}}
{{- define "user-service.databaseEnv" -}}
{{- if eq .Values.database.source "external" -}}
- name: USER_SERVICE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "user-service.externalSecretName" . }}
      key: {{ include "user-service.externalSecretKey" . }}
{{- else if include "user-service.usesPooler" . -}}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ include "user-service.appSecretName" . }}
      key: username
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "user-service.appSecretName" . }}
      key: password
- name: PGDATABASE
  valueFrom:
    secretKeyRef:
      name: {{ include "user-service.appSecretName" . }}
      key: dbname
- name: USER_SERVICE_DATABASE_URL
  value: {{ printf "postgresql://%s.%s.svc:5432" (include "user-service.poolerName" .) .Release.Namespace | quote }}
- name: USER_SERVICE_PGBOUNCER_TRANSACTION_MODE
  value: "true"
{{- else -}}
- name: USER_SERVICE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "user-service.appSecretName" . }}
      key: uri
{{- end }}
{{- end }}

{{/* The migration Job's URL: always the primary's read-write Service, never the Pooler. */}}
{{- define "user-service.migrationDatabaseEnv" -}}
- name: USER_SERVICE_DATABASE_URL
  valueFrom:
    secretKeyRef:
{{- if eq .Values.database.source "external" }}
      name: {{ ternary (include "user-service.externalSecretName" .) (printf "%s-migrations" (include "user-service.fullname" .)) (ne .Values.database.external.existingSecret "") }}
      key: {{ include "user-service.externalSecretKey" . }}
{{- else }}
      name: {{ include "user-service.appSecretName" . }}
      key: uri
{{- end }}
{{- end }}

{{/* The pod-level settings both the service and its Jobs run with. */}}
{{- define "user-service.podSpecCommon" -}}
automountServiceAccountToken: false
{{- /* Service links would set USER_SERVICE_PORT=tcp://... for the Service named user-service. */}}
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "user-service.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* Rules values.schema.json cannot state: they compare two values. */}}
{{- define "user-service.validate" -}}
{{- $shutdown := .Values.config.shutdownGraceSeconds | float64 }}
{{- $preStop := .Values.lifecycle.preStopSleepSeconds | float64 }}
{{- $grace := .Values.terminationGracePeriodSeconds | float64 }}
{{- if le $grace (addf $shutdown $preStop) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed lifecycle.preStopSleepSeconds + config.shutdownGraceSeconds (%v + %v): the kubelet kills the container when the period ends" .Values.terminationGracePeriodSeconds .Values.lifecycle.preStopSleepSeconds .Values.config.shutdownGraceSeconds) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%v) must not exceed autoscaling.maxReplicas (%v)" .Values.autoscaling.minReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- end }}
