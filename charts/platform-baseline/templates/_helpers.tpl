{{/*
Name of the chart, and the name of the release-wide objects (PrometheusRules, dashboards).
*/}}
{{- define "platform-baseline.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "platform-baseline.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Labels of every object.
*/}}
{{- define "platform-baseline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "platform-baseline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatehouse-platform
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Value of the environment label: explicit, or derived from .Values.environment with the
spellings of the policy namespace-environment-label (which has "development", not "dev").
*/}}
{{- define "platform-baseline.environmentValue" -}}
{{- if .Values.environmentLabel.value -}}
{{- .Values.environmentLabel.value -}}
{{- else -}}
{{- get (dict "dev" "development" "staging" "staging" "production" "production") .Values.environment -}}
{{- end -}}
{{- end -}}

{{/*
The enabled namespaces, sorted by name, each with namespaceDefaults merged under its own
overrides. Returned as JSON {"items": [...]}: use with fromJson.
*/}}
{{- define "platform-baseline.namespaces" -}}
{{- $defaults := .Values.namespaceDefaults -}}
{{- $items := list -}}
{{- range $name := ternary (keys .Values.namespaces | sortAlpha) list .Values.namespacesEnabled -}}
{{- $ns := get $.Values.namespaces $name | default dict -}}
{{- if dig "enabled" true $ns -}}
{{- $stateful := dig "stateful" false $ns -}}
{{- $hard := deepCopy $defaults.resourceQuota.hard -}}
{{- if $stateful -}}
{{- $hard = mustMergeOverwrite $hard (deepCopy $defaults.resourceQuota.statefulHard) -}}
{{- else -}}
{{- $hard = mustMergeOverwrite $hard (deepCopy $defaults.resourceQuota.statelessHard) -}}
{{- end -}}
{{- $hard = mustMergeOverwrite $hard (deepCopy (dig "resourceQuota" "hard" dict $ns)) -}}
{{- $container := mustMergeOverwrite (deepCopy $defaults.limitRange.container) (deepCopy (dig "limitRange" "container" dict $ns)) -}}
{{- $pvc := mustMergeOverwrite (deepCopy $defaults.limitRange.persistentVolumeClaim) (deepCopy (dig "limitRange" "persistentVolumeClaim" dict $ns)) -}}
{{- $netpol := mustMergeOverwrite (deepCopy $defaults.networkPolicy) (deepCopy (dig "networkPolicy" dict $ns)) -}}
{{- $item := dict
      "name" $name
      "team" (required (printf "namespaces.%s.team is required: the team that owns the namespace" $name) $ns.team)
      "owner" (dig "owner" "" $ns)
      "stateful" $stateful
      "labels" (dig "labels" dict $ns)
      "annotations" (dig "annotations" dict $ns)
      "quotaEnabled" (dig "resourceQuota" "enabled" $defaults.resourceQuota.enabled $ns)
      "hard" $hard
      "limitRangeEnabled" (dig "limitRange" "enabled" $defaults.limitRange.enabled $ns)
      "container" $container
      "pvc" $pvc
      "networkPolicy" $netpol
      "developers" (dig "rbac" "developers" list $ns)
-}}
{{- $items = append $items $item -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{/*
A label selector's matchLabels block, or {} for an empty selector.
*/}}
{{- define "platform-baseline.podSelector" -}}
{{- if . -}}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/*
The SLO services: .Values.slo.services, plus the webhook when .Values.gatehouse.slo, each
resolved against its preset. Returned as JSON {"items": [...]}: use with fromJson.
*/}}
{{- define "platform-baseline.sloServices" -}}
{{- $presets := dict
      "generic" (dict "requests" "http_requests_total" "errors" "http_requests_total" "errorMatchers" "code=~\"5..\"" "latencyBucket" "http_request_duration_seconds_bucket" "latencyUnit" "seconds")
      "envoy-gateway" (dict "requests" "envoy_cluster_upstream_rq_total" "errors" "envoy_cluster_upstream_rq_xx" "errorMatchers" "envoy_response_code_class=\"5\"" "latencyBucket" "envoy_cluster_upstream_rq_time_bucket" "latencyUnit" "milliseconds")
      "gatehouse" (dict "requests" "gatehouse_admission_requests_total" "errors" "gatehouse_admission_requests_total" "errorMatchers" "decision=\"error\"" "latencyBucket" "gatehouse_admission_duration_seconds_bucket" "latencyUnit" "seconds")
-}}
{{- $services := list -}}
{{- range .Values.slo.services -}}
{{- $services = append $services . -}}
{{- end -}}
{{- if .Values.gatehouse.slo -}}
{{- $services = append $services (dict "name" "gatehouse-webhook" "team" .Values.gatehouse.team "preset" "gatehouse" "selector" .Values.gatehouse.selector) -}}
{{- end -}}
{{- $items := list -}}
{{- $seen := dict -}}
{{- range $services -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "slo.services: service %q is listed twice (the webhook's own SLO is named gatehouse-webhook)" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- $preset := .preset | default "generic" -}}
{{- $m := mustMergeOverwrite (deepCopy (get $presets $preset)) (deepCopy (.metrics | default dict)) -}}
{{- $selector := .selector -}}
{{- if not $selector -}}
{{- if eq $preset "envoy-gateway" -}}
{{- $selector = printf "envoy_cluster_name=~\"httproute/%s/%s/.*\"" (required (printf "slo.services %s: preset envoy-gateway needs namespace (the HTTPRoute's) or selector" .name) .namespace) .name -}}
{{- else -}}
{{- $selector = printf "job=%q" .name -}}
{{- end -}}
{{- end -}}
{{- $latency := mustMergeOverwrite (deepCopy $.Values.slo.latency) (deepCopy (.latency | default dict)) -}}
{{- $threshold := $latency.thresholdSeconds -}}
{{- $le := $threshold -}}
{{- $scale := "1" -}}
{{- if eq $m.latencyUnit "milliseconds" -}}
{{- $le = mulf $threshold 1000 -}}
{{- $scale = "0.001" -}}
{{- end -}}
{{- $items = append $items (dict
      "name" .name
      "team" (.team | default "")
      "selector" $selector
      "requests" $m.requests
      "errors" $m.errors
      "errorSelector" (join ", " (compact (list $selector $m.errorMatchers)))
      "latencyBucket" $m.latencyBucket
      "le" (toString $le)
      "scale" $scale
      "thresholdSeconds" (toString $threshold)
      "availability" (toString (.availability | default $.Values.slo.availability))
      "latencyTarget" (toString $latency.target)
) -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{/*
The rule windows the burn-rate alerts use, plus 5m (the dashboards' and the 30-day budget's
base), in ascending order.
*/}}
{{- define "platform-baseline.sloWindows" -}}
{{- $used := dict "5m" true -}}
{{- range .Values.slo.burnRateAlerts -}}
{{- $_ := set $used .longWindow true -}}
{{- $_ := set $used .shortWindow true -}}
{{- end -}}
{{- $windows := list -}}
{{- range list "5m" "30m" "1h" "2h" "6h" "1d" "3d" -}}
{{- if hasKey $used . -}}
{{- $windows = append $windows . -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $windows) -}}
{{- end -}}
