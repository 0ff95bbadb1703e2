{{/* Names and labels shared by every object of the release. */}}
{{- define "hub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hub.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (web, worker, beat, migrate). */}}
{{- define "hub.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "hub.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "hub.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read their secret variables from (none when only files are used). */}}
{{- define "hub.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "hub.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Pod annotations: a checksum of the settings (pods restart when they change), scraping, Vault. */}}
{{- define "hub.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secrets.create }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- with .Values.secrets.files }}
{{- if .enabled }}
{{- range $key, $value := .podAnnotations }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The container's environment: the ConfigMap, the Secret, and <NAME>_FILE for mounted secret files. */}}
{{- define "hub.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "hub.fullname" . }}
{{- with include "hub.secretName" . }}
  - secretRef:
      name: {{ . }}
{{- end }}
{{- if .Values.secrets.files.enabled }}
env:
{{- range $name, $file := .Values.secrets.files.variables }}
  - name: {{ $name }}_FILE
    value: {{ printf "%s/%s" $.Values.secrets.files.mountPath $file | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Writable places on a read-only root: /tmp (metrics, uploads in flight) and /app/.data. */}}
{{- define "hub.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: data
    mountPath: /app/.data
{{- if and .Values.secrets.files.enabled .Values.secrets.files.volume }}
  - name: secret-files
    mountPath: {{ .Values.secrets.files.mountPath }}
    readOnly: true
{{- end }}
{{- end -}}

{{- define "hub.volumes" -}}
volumes:
  - name: tmp
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- if and .Values.secrets.files.enabled .Values.secrets.files.volume }}
  - name: secret-files
{{ toYaml .Values.secrets.files.volume | indent 4 }}
{{- end }}
{{- end -}}

{{/* What every pod of the release shares. */}}
{{- define "hub.podSpecCommon" -}}
serviceAccountName: {{ include "hub.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . | indent 2 }}
{{- end }}
securityContext:
{{ toYaml .Values.podSecurityContext | indent 2 }}
{{- end -}}
