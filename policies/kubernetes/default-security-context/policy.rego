package gatehouse.kubernetes.default_security_context

# Fills in the safe securityContext defaults of the restricted Pod Security Standard where they
# are absent. Every operation is an `add` at a path that is absent (or null, which the API server
# reads as unset), and a missing parent is added whole (never `/a/b` without `/a`), so the patch
# applies as is and a second evaluation of the patched object yields nothing.
#
# Written for speed, as it runs on every workload: `input` is read directly, each rule walks the
# container lists once, and strings are built only for an operation that is certain.

# Kinds whose pod spec the API server refuses to change on UPDATE: a Pod's containers and
# pod-level securityContext are immutable, and so is a Job's template.
immutable_kinds := {"Pod", "Job"}

# The object may take defaults at all: it is not being deleted, and its pods are not Windows
# pods, to which these Linux fields do not apply. A review without an operation (the scanner's)
# is a CREATE; a DELETE's object is the old one, and a patch there would apply to nothing.
open if {
	not input.review.operation
	not input.review.object.metadata.deletionTimestamp
	not data.gatehouse.lib.kubernetes.pod_spec.os.name == "windows"
}

open if {
	input.review.operation in {"CREATE", "UPDATE"}
	not input.review.object.metadata.deletionTimestamp
	not data.gatehouse.lib.kubernetes.pod_spec.os.name == "windows"
}

# The pod spec may change: a CREATE, or an UPDATE of a kind whose template is mutable.
pod_open if {
	open
	not input.review.operation == "UPDATE"
}

pod_open if {
	open
	input.review.operation == "UPDATE"
	not immutable_kinds[input.review.kind.kind]
}

# A container may change: any container of an open pod spec, or an ephemeral container being
# added to a running Pod (the pods/ephemeralcontainers subresource is an UPDATE of the Pod that
# may only add ephemeral containers; everything already in the Pod is immutable).
container_open(_, _) if pod_open

container_open("ephemeralContainers", container) if {
	open
	input.review.operation == "UPDATE"
	input.review.kind.kind == "Pod"
	not container.name in old_ephemeral_names
}

old_ephemeral_names contains c.name if {
	old := input.review.oldObject.spec.ephemeralContainers
	is_array(old)
	some c in old
}

# allowPrivilegeEscalation: false is invalid beside privileged: true or an added CAP_SYS_ADMIN
# (the API server rejects the pod): leave such a container as the user wrote it.
escalation_required(sc) if sc.privileged == true

escalation_required(sc) if {
	added := sc.capabilities.add
	is_array(added)
	"CAP_SYS_ADMIN" in added
}

drop_all := {"drop": ["ALL"]}

# No securityContext on the container: add it whole.
patch contains op if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	containers := spec[field]
	is_array(containers)
	some i, container in containers
	is_object(container)
	object.get(container, "securityContext", null) == null
	container_open(field, container)
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "securityContext"])
	op := {"op": "add", "path": path, "value": {"allowPrivilegeEscalation": false, "capabilities": drop_all}}
}

# A securityContext that lacks a default: add each missing field.
patch contains op if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	containers := spec[field]
	is_array(containers)
	some i, container in containers
	sc := container.securityContext
	is_object(sc)
	some suffix, value in container_field_defaults(sc)
	container_open(field, container)
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), "securityContext", suffix])
	op := {"op": "add", "path": path, "value": value}
}

# The defaults a present securityContext lacks, by the pointer suffix that adds them. A drop
# list without "ALL" is the user's choice: left as is.
container_field_defaults(sc) := {suffix: value |
	some suffix, value in {
		"allowPrivilegeEscalation": false,
		"capabilities": drop_all,
		"capabilities/drop": ["ALL"],
	}
	missing_in(sc, suffix)
}

missing_in(sc, "allowPrivilegeEscalation") if {
	object.get(sc, "allowPrivilegeEscalation", null) == null
	not escalation_required(sc)
}

missing_in(sc, "capabilities") if object.get(sc, "capabilities", null) == null

missing_in(sc, "capabilities/drop") if {
	is_object(sc.capabilities)
	object.get(sc.capabilities, "drop", null) == null
}

# runAsNonRoot is only defaulted when asked: an image built to run as root fails to start with
# it. Nor is it defaulted beside an explicit runAsUser: 0 (on the pod, or on a container that
# does not set its own runAsNonRoot), which it would turn into a pod that cannot start.
run_as_non_root if {
	input.parameters.setRunAsNonRoot == true
	not root_requested
}

root_requested if data.gatehouse.lib.kubernetes.pod_spec.securityContext.runAsUser == 0

root_requested if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	containers := spec[field]
	is_array(containers)
	some container in containers
	container.securityContext.runAsUser == 0
	object.get(container.securityContext, "runAsNonRoot", null) == null
}

seccomp_default := {"type": "RuntimeDefault"}

pod_defaults := {"seccompProfile": seccomp_default, "runAsNonRoot": true} if run_as_non_root

pod_defaults := {"seccompProfile": seccomp_default} if not run_as_non_root

# No pod-level securityContext: add it whole.
patch contains op if {
	spec := data.gatehouse.lib.kubernetes.pod_spec
	is_object(spec)
	object.get(spec, "securityContext", null) == null
	pod_open
	path := concat("/", [data.gatehouse.lib.kubernetes.pod_spec_path, "securityContext"])
	op := {"op": "add", "path": path, "value": pod_defaults}
}

# A pod-level securityContext without seccompProfile. Container-level profiles still take
# precedence over it.
patch contains op if {
	sc := data.gatehouse.lib.kubernetes.pod_spec.securityContext
	is_object(sc)
	object.get(sc, "seccompProfile", null) == null
	pod_open
	path := concat("/", [data.gatehouse.lib.kubernetes.pod_spec_path, "securityContext/seccompProfile"])
	op := {"op": "add", "path": path, "value": seccomp_default}
}

# A pod-level securityContext without runAsNonRoot, when asked.
patch contains op if {
	input.parameters.setRunAsNonRoot == true
	sc := data.gatehouse.lib.kubernetes.pod_spec.securityContext
	is_object(sc)
	object.get(sc, "runAsNonRoot", null) == null
	pod_open
	run_as_non_root
	path := concat("/", [data.gatehouse.lib.kubernetes.pod_spec_path, "securityContext/runAsNonRoot"])
	op := {"op": "add", "path": path, "value": true}
}
