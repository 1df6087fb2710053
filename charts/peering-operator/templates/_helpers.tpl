{{/* Names and labels shared by every template. */}}

{{- define "peering-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "peering-operator.fullname" -}}
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

{{- define "peering-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "peering-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "peering-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "peering-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: peering-operator
{{- end }}

{{- define "peering-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "peering-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "peering-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "peering-operator.leaseName" -}}
{{- default (include "peering-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The mounted configuration: the values' config plus what only the chart can know. */}}
{{- define "peering-operator.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "listen" (printf "0.0.0.0:%d" (int .Values.ports.api)) }}
{{- $store := dict "dataDir" "/var/lib/peering-operator" }}
{{- if .Values.credentials.pageTokenKey.secretName }}
{{- $_ := set $store "pageTokenKeyEnv" "PEERING_PAGE_TOKEN_KEY" }}
{{- end }}
{{- $_ := set $config "store" $store }}
{{- if .Values.credentials.peeringdbApiKey.secretName }}
{{- $peeringdb := deepCopy (default (dict) $config.peeringdb) }}
{{- $_ := set $peeringdb "apiKeyEnv" "PEERINGDB_API_KEY" }}
{{- $_ := set $config "peeringdb" $peeringdb }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* The operator's RBAC rules, from the one file the operator's RBAC test reads too. */}}
{{- define "peering-operator.rbacRules" -}}
{{- $rules := .Files.Get "files/rbac-rules.yaml" | fromYaml }}
{{- if hasKey $rules "Error" }}
{{- fail (printf "files/rbac-rules.yaml is not valid YAML: %s" $rules.Error) }}
{{- end }}
{{- $rules | toYaml }}
{{- end }}

{{/* The operator's finalizers (controller/src/operator/resources/api-group.ts; chart.test.ts checks they agree). */}}
{{- define "peering-operator.sessionFinalizer" -}}
peering.autopeer.dev/de-peer
{{- end }}
{{- define "peering-operator.requestFinalizer" -}}
peering.autopeer.dev/remove-sessions
{{- end }}
