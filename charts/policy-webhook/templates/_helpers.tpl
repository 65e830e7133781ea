{{/*
Name of the chart (the app.kubernetes.io/name label).
*/}}
{{- define "policy-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the release's objects: <release>-policy-webhook, or the release name when it already
contains the chart name. 52 characters at most, so that suffixed names stay valid.
*/}}
{{- define "policy-webhook.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "policy-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: the Deployment's selector, the Service's, the PDB's, the spread constraints'.
*/}}
{{- define "policy-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "policy-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels of every object: the Kubernetes recommended labels, the owning team (policy
require-ownership-labels) and commonLabels.
*/}}
{{- define "policy-webhook.labels" -}}
helm.sh/chart: {{ include "policy-webhook.chart" . }}
{{ include "policy-webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: {{ .Values.partOf }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{ .Values.team.labelKey }}: {{ required "team.name is required: the team that owns the webhook and receives its alerts" .Values.team.name | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "policy-webhook.serviceAccountName" -}}
{{- default (include "policy-webhook.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "policy-webhook.serviceName" -}}
{{- include "policy-webhook.fullname" . -}}
{{- end -}}

{{/*
The image reference: repository:tag, repository@digest or repository:tag@digest.
*/}}
{{- define "policy-webhook.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if and .Values.image.digest .Values.image.digestOnly -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The DNS names the serving certificate covers: <svc>, <svc>.<ns>, <svc>.<ns>.svc and
<svc>.<ns>.svc.<clusterDomain>. JSON list.
*/}}
{{- define "policy-webhook.dnsNames" -}}
{{- $svc := include "policy-webhook.serviceName" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson -}}
{{- end -}}

{{/*
Name of the Secret that holds the serving certificate, whatever the mode.
*/}}
{{- define "policy-webhook.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "provided" -}}
{{- required "certificates.provided.secretName is required with certificates.mode=provided" .Values.certificates.provided.secretName -}}
{{- else -}}
{{- printf "%s-tls" (include "policy-webhook.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
Serving certificate made by the chart (certificates.mode=generated), computed ONCE per render
and cached on the root context, so that the Secret and every webhook clientConfig carry the
same CA. An existing Secret (lookup; empty in `helm template` and dry runs) is reused while its
certificate is valid for more than renewBeforeDays, so an upgrade does not rotate it.
When it makes new ones over an existing Secret (a rotation), the caBundle holds the new CA and
the old one, so that pods still serving the old certificate stay trusted until the kubelet
updates their volume. Returns JSON: {"caCert", "caBundle", "cert", "key", "notAfter", "reused"}.
Always include it with the root context: include "policy-webhook.generatedTLS" $
*/}}
{{- define "policy-webhook.generatedTLS" -}}
{{- if not (hasKey $ "policyWebhookGeneratedTLS") -}}
{{- $g := .Values.certificates.generated -}}
{{- $name := include "policy-webhook.tlsSecretName" . -}}
{{- $tls := dict -}}
{{- $previousCA := "" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- if and $existing $existing.data -}}
{{- $previousCA = index $existing.data "ca.crt" | default "" | b64dec -}}
{{- $notAfter := dig "metadata" "annotations" "gatehouse.dev/certificate-not-after" "" $existing -}}
{{- $data := $existing.data -}}
{{- if and $notAfter (hasKey $data "ca.crt") (hasKey $data "tls.crt") (hasKey $data "tls.key") -}}
{{- $renewAt := sub (toDate "2006-01-02T15:04:05Z07:00" $notAfter | unixEpoch) (mul $g.renewBeforeDays 86400) -}}
{{- if gt (int64 $renewAt) (int64 (now | unixEpoch)) -}}
{{- $tls = dict "caCert" (index $data "ca.crt" | b64dec) "caBundle" (index $data "ca.crt" | b64dec) "cert" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec) "notAfter" $notAfter "reused" true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $tls -}}
{{- $ca := genCA (printf "%s-ca" (include "policy-webhook.fullname" .)) (int $g.caValidityDays) -}}
{{- $dns := include "policy-webhook.dnsNames" . | fromJsonArray -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" (include "policy-webhook.serviceName" .) .Release.Namespace) nil $dns (int $g.certValidityDays) $ca -}}
{{- $notAfter := now | dateModify (printf "+%dh" (mul (int $g.certValidityDays) 24)) | date "2006-01-02T15:04:05Z07:00" -}}
{{- /* After a rotation the webhooks trust the old CA too, until the next upgrade: the pods
       still serve the old certificate until the kubelet updates their Secret volume. */ -}}
{{- $bundle := $ca.Cert -}}
{{- if and $previousCA (ne (trim $previousCA) (trim $ca.Cert)) -}}
{{- $bundle = printf "%s\n%s\n" (trim $ca.Cert) (trim $previousCA) -}}
{{- end -}}
{{- $tls = dict "caCert" $ca.Cert "caBundle" $bundle "cert" $cert.Cert "key" $cert.Key "notAfter" $notAfter "reused" false -}}
{{- end -}}
{{- $_ := set $ "policyWebhookGeneratedTLS" $tls -}}
{{- end -}}
{{- get $ "policyWebhookGeneratedTLS" | toJson -}}
{{- end -}}

{{/*
The caBundle (base64 PEM) to write into the webhook clientConfigs; empty with cert-manager,
whose cainjector writes it.
*/}}
{{- define "policy-webhook.caBundle" -}}
{{- if eq .Values.certificates.mode "generated" -}}
{{- (include "policy-webhook.generatedTLS" $ | fromJson).caBundle | b64enc -}}
{{- else if eq .Values.certificates.mode "provided" -}}
{{- required "certificates.provided.caBundle is required with certificates.mode=provided: the base64 PEM of the CA that signed the Secret's certificate" .Values.certificates.provided.caBundle -}}
{{- end -}}
{{- end -}}

{{/*
The annotations of both webhook configurations.
*/}}
{{- define "policy-webhook.webhookAnnotations" -}}
{{- if eq .Values.certificates.mode "cert-manager" }}
cert-manager.io/inject-ca-from: {{ printf "%s/%s-serving" .Release.Namespace (include "policy-webhook.fullname" .) }}
{{- end }}
{{- with .Values.webhooks.annotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The resource name of a kind, formed as the API server forms it for the built-in kinds and as
policy-webhook's --print-rbac does (NetworkPolicy -> networkpolicies, Ingress -> ingresses).
*/}}
{{- define "policy-webhook.plural" -}}
{{- $lower := lower . -}}
{{- if and (hasSuffix "y" $lower) (not (regexMatch "[aeiou]y$" $lower)) -}}
{{- printf "%sies" (trimSuffix "y" $lower) -}}
{{- else if or (hasSuffix "s" $lower) (hasSuffix "x" $lower) (hasSuffix "ch" $lower) (hasSuffix "sh" $lower) -}}
{{- printf "%ses" $lower -}}
{{- else -}}
{{- printf "%ss" $lower -}}
{{- end -}}
{{- end -}}

{{/*
Every policy of the bundle the chart ships, as JSON {"items": [{"id", "dir", "rego",
"metadata" (parsed policy.yaml), "metadataText", "builtin"}]}: the repository's
policies/kubernetes/<id>/ (through the files/policies symbolic link) unless
bundle.builtinPolicies is false, then bundle.extraPolicies. Computed once per render.
*/}}
{{- define "policy-webhook.policies" -}}
{{- if not (hasKey $ "policyWebhookPolicies") -}}
{{- $items := list -}}
{{- $seen := dict -}}
{{- if .Values.bundle.builtinPolicies -}}
{{- range $path, $_ := .Files.Glob "files/policies/kubernetes/*/policy.yaml" -}}
{{- $dir := dir $path -}}
{{- $id := base $dir -}}
{{- $text := $.Files.Get $path -}}
{{- $meta := fromYaml $text -}}
{{- if hasKey $meta "Error" -}}
{{- fail (printf "%s does not parse: %s" $path $meta.Error) -}}
{{- end -}}
{{- $rego := $.Files.Get (printf "%s/policy.rego" $dir) -}}
{{- if not $rego -}}
{{- fail (printf "%s has no policy.rego next to it" $path) -}}
{{- end -}}
{{- $items = append $items (dict "id" $id "metadata" $meta "metadataText" $text "rego" $rego "builtin" true) -}}
{{- $_ := set $seen $id true -}}
{{- end -}}
{{- end -}}
{{- range $id := keys .Values.bundle.extraPolicies | sortAlpha -}}
{{- $p := get $.Values.bundle.extraPolicies $id -}}
{{- if hasKey $seen $id -}}
{{- fail (printf "bundle.extraPolicies.%s: a policy of the bundle already has this id; pick another id, or set bundle.builtinPolicies=false" $id) -}}
{{- end -}}
{{- $meta := fromYaml $p.metadata -}}
{{- if hasKey $meta "Error" -}}
{{- fail (printf "bundle.extraPolicies.%s.metadata does not parse as YAML: %s" $id $meta.Error) -}}
{{- end -}}
{{- if ne (toString (get $meta "id")) $id -}}
{{- fail (printf "bundle.extraPolicies.%s.metadata has id %q: the id in policy.yaml must be the key" $id (toString (get $meta "id"))) -}}
{{- end -}}
{{- $items = append $items (dict "id" $id "metadata" $meta "metadataText" $p.metadata "rego" $p.rego "builtin" false) -}}
{{- end -}}
{{- $_ := set $ "policyWebhookPolicies" (dict "items" $items) -}}
{{- end -}}
{{- get $ "policyWebhookPolicies" | toJson -}}
{{- end -}}

{{/*
The files of the bundle ConfigMap, as JSON {"files": [{"key", "path", "content"}]}. A ConfigMap
key cannot hold "/": the path is encoded with "__" for "/" in the key, and the volume's items
put each key back at its path (kubernetes/<id>/policy.rego, lib/kubernetes.rego).
*/}}
{{- define "policy-webhook.bundleFiles" -}}
{{- $files := list -}}
{{- if .Values.bundle.builtinLibrary -}}
{{- range $path, $_ := .Files.Glob "files/policies/lib/*.rego" -}}
{{- if not (hasSuffix "_test.rego" $path) -}}
{{- $rel := trimPrefix "files/policies/" $path -}}
{{- $files = append $files (dict "key" (replace "/" "__" $rel) "path" $rel "content" ($.Files.Get $path)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name := keys .Values.bundle.extraLibrary | sortAlpha -}}
{{- $rel := printf "lib/%s" $name -}}
{{- $files = append $files (dict "key" (replace "/" "__" $rel) "path" $rel "content" (get $.Values.bundle.extraLibrary $name)) -}}
{{- end -}}
{{- range (include "policy-webhook.policies" $ | fromJson).items -}}
{{- $files = append $files (dict "key" (printf "kubernetes__%s__policy.rego" .id) "path" (printf "kubernetes/%s/policy.rego" .id) "content" .rego) -}}
{{- $files = append $files (dict "key" (printf "kubernetes__%s__policy.yaml" .id) "path" (printf "kubernetes/%s/policy.yaml" .id) "content" .metadataText) -}}
{{- end -}}
{{- dict "files" $files | toJson -}}
{{- end -}}

{{/*
The webhook's configuration file (--config), from .Values.config: YAML text.
*/}}
{{- define "policy-webhook.configText" -}}
{{- $config := dict -}}
{{- with .Values.config.policies }}{{ $_ := set $config "policies" . }}{{ end -}}
{{- with .Values.config.namespaces }}{{ $_ := set $config "namespaces" . }}{{ end -}}
{{- with .Values.config.imageVerification }}{{ $_ := set $config "imageVerification" (deepCopy .) }}{{ end -}}
{{- if .Values.imageVerificationPullSecret }}
{{- $iv := get $config "imageVerification" | default dict -}}
{{- $_ := set $iv "credentials" "/etc/gatehouse/registry/config.json" -}}
{{- $_ := set $config "imageVerification" $iv -}}
{{- end -}}
{{- if $config -}}
{{- toYaml $config -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/*
Whether the policy with this id is enabled by the configuration ("true" or "").
*/}}
{{- define "policy-webhook.policyEnabled" -}}
{{- $root := index . 0 -}}
{{- $id := index . 1 -}}
{{- $override := dig "policies" $id dict $root.Values.config -}}
{{- if ne (toString (dig "enabled" true $override)) "false" -}}true{{- end -}}
{{- end -}}

{{/*
The read-only inventory rules: get/list/watch on every kind an enabled policy declares under
`inventory:`, plus Namespaces when config.namespaces overrides enforcement by namespace label,
one rule per resource sorted by group then kind: exactly what `policy-webhook --print-rbac`
prints for the same bundle and configuration. JSON {"rules": [...]}.
*/}}
{{- define "policy-webhook.inventoryRules" -}}
{{- $keys := dict -}}
{{- range (include "policy-webhook.policies" $ | fromJson).items -}}
{{- if include "policy-webhook.policyEnabled" (list $ .id) -}}
{{- range (dig "inventory" list .metadata) -}}
{{- $target := . -}}
{{- range $group := $target.apiGroups -}}
{{- range $kind := $target.kinds -}}
{{- $_ := set $keys (printf "%s %s" $group $kind) true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.config.namespaces -}}
{{- $_ := set $keys " Namespace" true -}}
{{- end -}}
{{- $rules := list -}}
{{- range $key := keys $keys | sortAlpha -}}
{{- $parts := splitList " " $key -}}
{{- $rules = append $rules (dict "apiGroups" (list (index $parts 0)) "resources" (list (include "policy-webhook.plural" (index $parts 1))) "verbs" (list "get" "list" "watch")) -}}
{{- end -}}
{{- dict "rules" $rules | toJson -}}
{{- end -}}

{{/*
The audit's rules: list on every kind an enabled validating policy targets (but "*", and
Secrets unless audit.secrets) or reads from its inventory, and Namespaces; then writing the
reports. One rule per resource sorted by
group then kind: exactly the audit ClusterRole `policy-webhook --print-rbac --audit-interval`
prints. JSON {"rules": [...]}.
*/}}
{{- define "policy-webhook.auditRules" -}}
{{- $keys := dict " Namespace" true -}}
{{- range (include "policy-webhook.policies" $ | fromJson).items -}}
{{- if and (include "policy-webhook.policyEnabled" (list $ .id)) (eq (dig "mode" "validate" .metadata) "validate") -}}
{{- range (concat (dig "targets" list .metadata) (dig "inventory" list .metadata)) -}}
{{- $target := . -}}
{{- range $group := (dig "apiGroups" list $target) -}}
{{- range $kind := (dig "kinds" list $target) -}}
{{- if and (ne $group "*") (ne $kind "*") (or $.Values.audit.secrets (ne (printf "%s %s" $group $kind) " Secret")) -}}
{{- $_ := set $keys (printf "%s %s" $group $kind) true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $rules := list -}}
{{- range $key := keys $keys | sortAlpha -}}
{{- $parts := splitList " " $key -}}
{{- $rules = append $rules (dict "apiGroups" (list (index $parts 0)) "resources" (list (include "policy-webhook.plural" (index $parts 1))) "verbs" (list "list")) -}}
{{- end -}}
{{- $group := ternary "openreports.io" "wgpolicyk8s.io" (eq .Values.audit.reportFormat "openreports") -}}
{{- $resources := ternary (list "reports" "clusterreports") (list "policyreports" "clusterpolicyreports") (eq .Values.audit.reportFormat "openreports") -}}
{{- $rules = append $rules (dict "apiGroups" (list $group) "resources" $resources "verbs" (list "get" "list" "create" "patch" "delete")) -}}
{{- dict "rules" $rules | toJson -}}
{{- end -}}

{{/*
Admission rules of one webhook, derived from the `targets` of the policies it serves:
class "security" (validating policies of category security), "practices" (the other validating
policies) or "mutate" (policies with mode mutate). One rule per API group, resources sorted,
CREATE and UPDATE only: every policy lets DELETE through. JSON {"rules": [...]}.
*/}}
{{- define "policy-webhook.admissionRules" -}}
{{- $root := index . 0 -}}
{{- $class := index . 1 -}}
{{- $groups := dict -}}
{{- range (include "policy-webhook.policies" $root | fromJson).items -}}
{{- $mode := dig "mode" "validate" .metadata -}}
{{- $category := dig "category" "" .metadata -}}
{{- $serves := false -}}
{{- if eq $class "mutate" -}}
{{- $serves = eq $mode "mutate" -}}
{{- else if eq $class "security" -}}
{{- $serves = and (ne $mode "mutate") (eq $category "security") -}}
{{- else -}}
{{- $serves = and (ne $mode "mutate") (ne $category "security") -}}
{{- end -}}
{{- if $serves -}}
{{- range $target := (dig "targets" list .metadata) -}}
{{- range $group := $target.apiGroups -}}
{{- $resources := get $groups $group | default dict -}}
{{- range $kind := $target.kinds -}}
{{- $_ := set $resources (include "policy-webhook.plural" $kind) true -}}
{{- end -}}
{{- $_ := set $groups $group $resources -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $rules := list -}}
{{- range $group := keys $groups | sortAlpha -}}
{{- $rules = append $rules (dict "apiGroups" (list $group) "apiVersions" (list "*") "operations" (list "CREATE" "UPDATE") "resources" (keys (get $groups $group) | sortAlpha) "scope" "*") -}}
{{- end -}}
{{- dict "rules" $rules | toJson -}}
{{- end -}}

{{/*
The namespaceSelector of every webhook: never the release namespace nor kube-system (nor the
other namespaces listed), plus the user's own expressions.
*/}}
{{- define "policy-webhook.namespaceSelector" -}}
{{- $excluded := concat (list .Release.Namespace "kube-system") .Values.webhooks.excludeNamespaces | uniq -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml $excluded | nindent 6 }}
{{- with .Values.webhooks.namespaceSelector.matchExpressions }}
{{ toYaml . }}
{{- end }}
{{- with .Values.webhooks.namespaceSelector.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
matchConditions (CEL, admissionregistration.k8s.io/v1; GA in Kubernetes 1.30, beta and on by
default in 1.28 and 1.29): traffic the webhook would only let through is not sent at all.
*/}}
{{- define "policy-webhook.matchConditions" -}}
{{- $mc := .Values.webhooks.matchConditions -}}
{{- $conditions := list -}}
{{- if $mc.enabled -}}
{{- if $mc.skipNodes -}}
{{- $conditions = append $conditions (dict "name" "not-from-nodes" "expression" "!('system:nodes' in request.userInfo.groups)") -}}
{{- end -}}
{{- if $mc.skipDeleting -}}
{{- $conditions = append $conditions (dict "name" "not-being-deleted" "expression" "!(request.operation == 'UPDATE' && has(object.metadata.deletionTimestamp))") -}}
{{- end -}}
{{- range $mc.extra -}}
{{- $conditions = append $conditions . -}}
{{- end -}}
{{- end -}}
{{- with $conditions -}}
matchConditions:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{/*
The clientConfig of one webhook; argument: (list $ "/path").
*/}}
{{- define "policy-webhook.clientConfig" -}}
{{- $root := index . 0 -}}
{{- $path := index . 1 -}}
clientConfig:
  service:
    name: {{ include "policy-webhook.serviceName" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ $path }}
    port: {{ $root.Values.service.port }}
  {{- with include "policy-webhook.caBundle" $root }}
  caBundle: {{ . }}
  {{- end }}
{{- end -}}

{{/*
The annotation by which the webhook declares that it calls the Kubernetes API (policy
restrict-automount-service-account-token): the policy's apiAccessAnnotation parameter when the
configuration sets it, else its default.
*/}}
{{- define "policy-webhook.apiAccessAnnotation" -}}
{{- dig "policies" "restrict-automount-service-account-token" "parameters" "apiAccessAnnotation" "gatehouse.dev/needs-kubernetes-api" .Values.config -}}
{{- end -}}
