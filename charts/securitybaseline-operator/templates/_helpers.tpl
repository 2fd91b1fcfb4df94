{{/* Labels on every object of the chart. */}}
{{- define "securitybaseline-operator.labels" -}}
app.kubernetes.io/name: securitybaseline-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: securitybaseline-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The manager's pods, as config/manager selects them. */}}
{{- define "securitybaseline-operator.selectorLabels" -}}
app.kubernetes.io/name: securitybaseline-operator
control-plane: controller-manager
{{- end }}

{{- define "securitybaseline-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}
