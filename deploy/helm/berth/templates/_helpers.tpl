{{/* Names, labels and the settings several templates share. */}}

{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "berth.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "berth.scheme" -}}
{{- if .Values.tls.existingSecret }}https{{ else }}http{{ end -}}
{{- end -}}

{{/*
The URL clients reach Berth at: publicURL, else the first Ingress host,
else the Service's in-cluster address.
*/}}
{{- define "berth.publicURL" -}}
{{- if .Values.publicURL -}}
{{- .Values.publicURL | trimSuffix "/" -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) (first .Values.ingress.hosts) -}}
{{- else -}}
{{- printf "%s://%s.%s.svc:%v" (include "berth.scheme" .) (include "berth.fullname" .) .Release.Namespace .Values.service.port -}}
{{- end -}}
{{- end -}}

{{/* The --blobs URL: s3://bucket[/prefix]?endpoint=…&region=…&path-style=… */}}
{{- define "berth.blobsURL" -}}
{{- $s3 := .Values.s3 -}}
{{- $bucket := required "s3.bucket names the bucket Berth keeps blobs in" $s3.bucket -}}
{{- $q := list -}}
{{- with $s3.endpoint }}{{ $q = append $q (printf "endpoint=%s" (urlquery .)) }}{{ end -}}
{{- with $s3.region }}{{ $q = append $q (printf "region=%s" (urlquery .)) }}{{ end -}}
{{- if $s3.pathStyle }}{{ $q = append $q "path-style=true" }}{{ end -}}
s3://{{ $bucket }}{{ with trimAll "/" $s3.prefix }}/{{ . }}{{ end }}{{ if $q }}?{{ join "&" $q }}{{ end }}
{{- end -}}

{{/* The Secrets the pods read, and the keys in them. */}}
{{- define "berth.authSecret" -}}
{{- default (printf "%s-auth" (include "berth.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "berth.postgresSecret" -}}
{{- default (printf "%s-postgres" (include "berth.fullname" .)) .Values.postgres.existingSecret -}}
{{- end -}}

{{- define "berth.postgresSecretKey" -}}
{{- if .Values.postgres.existingSecret }}{{ .Values.postgres.existingSecretKey }}{{ else }}url{{ end -}}
{{- end -}}

{{- define "berth.s3Secret" -}}
{{- default (printf "%s-s3" (include "berth.fullname" .)) .Values.s3.existingSecret -}}
{{- end -}}

{{/* Whether the pods read static S3 keys from a Secret. */}}
{{- define "berth.s3Keys" -}}
{{- if or .Values.s3.existingSecret .Values.s3.accessKeyId }}true{{ end -}}
{{- end -}}

{{/*
The flags the chart sets from its own values: the flags value may not
name them, so that one setting has one place.
*/}}
{{- define "berth.ownFlags" -}}
listen data meta blobs blobs-redirect s3-access-key-id s3-secret-access-key access-key-id secret-access-key token-key public-url default-account default-region registry-domain log-level log-format shutdown-timeout tls-cert tls-key
{{- end -}}

{{/*
Refuses values that cannot work, with a message that says what to set.
Rendered by the Deployment, so that every render checks them.
*/}}
{{- define "berth.validate" -}}
{{- if and .Values.postgres.url .Values.postgres.existingSecret -}}
{{- fail "postgres: give url or existingSecret, not both" -}}
{{- end -}}
{{- with .Values.postgres.url -}}
{{- if not (or (hasPrefix "postgres://" .) (hasPrefix "postgresql://" .)) -}}
{{- fail "postgres.url: give a URL like postgres://user:pass@host:5432/berth?sslmode=verify-full" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.s3.existingSecret (or .Values.s3.accessKeyId .Values.s3.secretAccessKey) -}}
{{- fail "s3: give accessKeyId/secretAccessKey or existingSecret, not both" -}}
{{- end -}}
{{- if ne (empty .Values.s3.accessKeyId) (empty .Values.s3.secretAccessKey) -}}
{{- fail "s3.accessKeyId and s3.secretAccessKey go together" -}}
{{- end -}}
{{- with .Values.s3.endpoint -}}
{{- if not (or (hasPrefix "http://" .) (hasPrefix "https://" .)) -}}
{{- fail "s3.endpoint: give the server's http:// or https:// URL" -}}
{{- end -}}
{{- end -}}
{{- if ne (empty .Values.auth.rootAccessKeyId) (empty .Values.auth.rootSecretAccessKey) -}}
{{- fail "auth.rootAccessKeyId and auth.rootSecretAccessKey go together" -}}
{{- end -}}
{{- if and .Values.auth.existingSecret (or .Values.auth.tokenKey .Values.auth.rootAccessKeyId) -}}
{{- fail "auth: give existingSecret or the keys, not both" -}}
{{- end -}}
{{- with .Values.publicURL -}}
{{- if not (or (hasPrefix "http://" .) (hasPrefix "https://" .)) -}}
{{- fail "publicURL: give a URL like https://registry.example.com" -}}
{{- end -}}
{{- end -}}
{{- $known := list -}}
{{- range splitList "\n" (.Files.Get "flags.txt") -}}
{{- if and . (not (hasPrefix "#" .)) }}{{ $known = append $known (trim .) }}{{ end -}}
{{- end -}}
{{- $own := splitList " " (include "berth.ownFlags" .) -}}
{{- range $name, $_ := .Values.flags -}}
{{- if not (has $name $known) -}}
{{- fail (printf "flags.%s: berth serve has no flag --%s (flags.txt lists them)" $name $name) -}}
{{- end -}}
{{- if has $name $own -}}
{{- fail (printf "flags.%s: the chart sets --%s from its own values; see values.yaml" $name $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* BERTH_<FLAG> for a flag's name: gc-grace → BERTH_GC_GRACE. */}}
{{- define "berth.envName" -}}
BERTH_{{ . | upper | replace "-" "_" }}
{{- end -}}
