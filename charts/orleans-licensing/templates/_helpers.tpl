{{/* Names, labels and the shared pieces of the server pods. */}}

{{- define "ol.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ol.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "ol.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "ol.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ol.serviceId" -}}
{{- default .Release.Name .Values.orleans.serviceId -}}
{{- end -}}

{{- define "ol.clusterId" -}}
{{- default .Release.Name .Values.orleans.clusterId -}}
{{- end -}}

{{- define "ol.labels" -}}
app.kubernetes.io/name: {{ include "ol.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "ol.extraLabels" . }}
{{- end -}}

{{/* The labels beyond name and instance (pod templates add them to their selector labels). */}}
{{- define "ol.extraLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orleans-licensing
{{- end -}}

{{/* Selector of the license server pods (never changes after install: StatefulSet selectors are immutable). */}}
{{- define "ol.serverSelector" -}}
app.kubernetes.io/name: {{ include "ol.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "ol.frontendSelector" -}}
app.kubernetes.io/name: {{ include "ol.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: frontend
{{- end -}}

{{- define "ol.orleansLabels" -}}
orleans/serviceId: {{ include "ol.serviceId" . | quote }}
orleans/clusterId: {{ include "ol.clusterId" . | quote }}
{{- end -}}

{{- define "ol.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ol.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ol.postgresSecretName" -}}
{{- default (printf "%s-postgresql" (include "ol.fullname" .)) .Values.postgresql.existingSecret -}}
{{- end -}}

{{- define "ol.postgresSecretKey" -}}
{{- if .Values.postgresql.existingSecret -}}{{ .Values.postgresql.existingSecretKey }}{{- else -}}connectionString{{- end -}}
{{- end -}}

{{- define "ol.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* The connection string as an env var (ConnectionStrings__Licensing: the server's PostgreSQL mode). */}}
{{- define "ol.postgresEnv" -}}
- name: ConnectionStrings__Licensing
  valueFrom:
    secretKeyRef:
      name: {{ include "ol.postgresSecretName" . }}
      key: {{ include "ol.postgresSecretKey" . }}
{{- end -}}
