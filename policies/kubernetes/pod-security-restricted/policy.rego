package gatehouse.kubernetes.pod_security_restricted

# The Pod Security Standards "restricted" profile, which includes "baseline", on the pod spec of
# every workload kind. Each rule tests the compliant case first and builds its message and path
# only once a field is known to fail.
#
# Wrong types fail closed: a flag that must not be true fails unless it is false or unset, and
# a value that must be true (or false) fails unless it is exactly that. The API server refuses
# such values anyway, so this only ever reports a manifest that could not be applied as written.
# `null` counts as unset, as it does for the API server.

# The scanner reviews manifests as CREATE; a review without an operation is one too.
operation := object.get(input.review, "operation", "CREATE")

# Subresources whose review carries the whole object but cannot change its security: a status
# update (by the kubelet or a controller) or a resize must not be refused because the object
# predates the policy. Adding an ephemeral container is checked, as upstream does.
unchecked_subresource if {
	sub := input.review.subResource
	not sub in {"", null, "ephemeralcontainers"}
}

# The review may be refused: a creation or an update, but not a deletion, a subresource update
# such as status, or an update of an object already being deleted (a finalizer removal). The
# API server clears deletionTimestamp on create, so a manifest cannot skip the checks with one.
checked if {
	operation in {"CREATE", "UPDATE"}
	not unchecked_subresource
	not being_deleted
}

being_deleted if {
	operation == "UPDATE"
	data.gatehouse.lib.kubernetes.resource.metadata.deletionTimestamp
}

# The pod spec under review, only when the review is checked.
pod_spec := data.gatehouse.lib.kubernetes.pod_spec if checked

# Every container of the pod, as [list field, index, container]. A list that is not an array
# holds none: `initContainers: null` is valid, and `some .. in null` is an error in regorus.
containers := [[field, i, c] |
	spec := pod_spec
	some field in ["containers", "initContainers", "ephemeralContainers"]
	list := spec[field]
	is_array(list)
	some i, c in list
	is_object(c)
]

# Windows pods are exempt from the allowPrivilegeEscalation, capabilities and seccomp checks.
windows if pod_spec.os.name == "windows"

host_namespaces := {"hostNetwork": "network", "hostPID": "PID", "hostIPC": "IPC"}

allowed_volume_types := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
	"persistentVolumeClaim", "projected", "secret",
}

safe_sysctls := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

allowed_selinux_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

allowed_profile_types := {"RuntimeDefault", "Localhost"}

apparmor_annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

# Pointers and labels, only ever called once a field fails.
pod_field_path(rest) := concat("/", [data.gatehouse.lib.kubernetes.pod_spec_path, rest])

container_field_path(field, i, rest) := concat("/", [data.gatehouse.lib.kubernetes.container_path(field, i), rest])

who(field, c) := label if {
	is_string(c.name)
	label := data.gatehouse.lib.kubernetes.container_label(field, c)
} else := concat(" ", ["unnamed", trim_suffix(field, "s")])

# A JSON pointer segment for an object key.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

# ---------------------------------------------------------------------------------------------
# Pod level

violation contains {"msg": msg, "path": path} if {
	some key, namespace in host_namespaces
	value := pod_spec[key]
	value != false
	value != null
	path := pod_field_path(key)
	msg := sprintf("pod must not use the host's %s namespace: remove %s or set it to false", [namespace, key])
}

# Every source a volume sets must be an allowed type: an unknown key (a typo such as
# `emptydir`) fails too, rather than hiding a source the API server would drop.
violation contains {"msg": msg, "path": path} if {
	volumes := pod_spec.volumes
	is_array(volumes)
	some j, volume in volumes
	is_object(volume)
	some key, source in volume
	not allowed_volume_types[key]
	key != "name"
	source != null
	path := concat("/", [pod_field_path("volumes"), format_int(j, 10), escape(key)])
	msg := volume_message(volume, key)
}

volume_message(volume, "hostPath") := sprintf("%s must not use hostPath, which exposes the node's filesystem; use a persistentVolumeClaim, emptyDir, configMap or secret volume", [volume_label(volume)])

volume_message(volume, key) := sprintf("%s must not use %s; allowed volume types: %s", [volume_label(volume), key, concat(", ", sort(allowed_volume_types))]) if key != "hostPath"

volume_label(volume) := label if {
	is_string(volume.name)
	label := sprintf("volume %q", [volume.name])
} else := "unnamed volume"

violation contains {"msg": msg, "path": path} if {
	sysctls := pod_spec.securityContext.sysctls
	is_array(sysctls)
	some j, sysctl in sysctls
	name := sysctl.name
	not safe_sysctls[name]
	path := concat("/", [pod_field_path("securityContext/sysctls"), format_int(j, 10), "name"])
	msg := sprintf("pod must not set the unsafe sysctl %s; only the namespaced sysctls of the restricted profile are allowed", [json.marshal(name)])
}

violation contains {"msg": msg, "path": path} if {
	value := pod_spec.securityContext.runAsNonRoot
	value != true
	value != null
	path := pod_field_path("securityContext/runAsNonRoot")
	msg := "pod must set securityContext.runAsNonRoot to true or leave it unset"
}

violation contains {"msg": msg, "path": path} if {
	value := pod_spec.securityContext.runAsUser
	root_uid(value)
	path := pod_field_path("securityContext/runAsUser")
	msg := "pod must not run as root: set securityContext.runAsUser to a non-zero UID or leave it unset"
}

violation contains {"msg": msg, "path": path} if {
	not windows
	value := pod_spec.securityContext.seccompProfile.type
	not allowed_profile_types[value]
	value != null
	path := pod_field_path("securityContext/seccompProfile/type")
	msg := sprintf("pod must set securityContext.seccompProfile.type to RuntimeDefault or Localhost, not %s", [json.marshal(value)])
}

violation contains {"msg": msg, "path": path} if {
	value := pod_spec.securityContext.windowsOptions.hostProcess
	value != false
	value != null
	path := pod_field_path("securityContext/windowsOptions/hostProcess")
	msg := "pod must not set securityContext.windowsOptions.hostProcess to true"
}

violation contains {"msg": msg, "path": path} if {
	options := pod_spec.securityContext.seLinuxOptions
	some key in selinux_keys
	value := options[key]
	not selinux_allowed(key, value)
	path := pod_field_path(concat("/", ["securityContext/seLinuxOptions", key]))
	msg := selinux_message("pod", key, value)
}

violation contains {"msg": msg, "path": path} if {
	value := pod_spec.securityContext.appArmorProfile.type
	not allowed_profile_types[value]
	value != null
	path := pod_field_path("securityContext/appArmorProfile/type")
	msg := sprintf("pod must set securityContext.appArmorProfile.type to RuntimeDefault or Localhost, not %s", [json.marshal(value)])
}

# The legacy AppArmor annotations sit on the pod's metadata (the template's, for a controller).
pod_annotations := data.gatehouse.lib.kubernetes.resource.metadata.annotations if {
	checked
	data.gatehouse.lib.kubernetes.kind == "Pod"
}

pod_annotations := data.gatehouse.lib.kubernetes.resource.spec.template.metadata.annotations if {
	checked
	data.gatehouse.lib.kubernetes.template_kinds[data.gatehouse.lib.kubernetes.kind]
}

pod_annotations := data.gatehouse.lib.kubernetes.resource.spec.jobTemplate.spec.template.metadata.annotations if {
	checked
	data.gatehouse.lib.kubernetes.kind == "CronJob"
}

violation contains {"msg": msg, "path": path} if {
	value := pod_annotations[key]
	is_string(key)
	startswith(key, apparmor_annotation_prefix)
	not apparmor_annotation_allowed(value)
	metadata := trim_suffix(data.gatehouse.lib.kubernetes.pod_spec_path, "/spec")
	path := concat("", [metadata, "/metadata/annotations/", escape(key)])
	msg := sprintf("annotation %s must be runtime/default or localhost/<profile>, not %s", [key, json.marshal(value)])
}

apparmor_annotation_allowed(value) if value == "runtime/default"

apparmor_annotation_allowed(value) if {
	is_string(value)
	startswith(value, "localhost/")
}

# ---------------------------------------------------------------------------------------------
# Per container

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	value := c.securityContext.privileged
	value != false
	value != null
	path := container_field_path(field, i, "securityContext/privileged")
	msg := sprintf("%s must not set securityContext.privileged to true", [who(field, c)])
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	value := c.securityContext.windowsOptions.hostProcess
	value != false
	value != null
	path := container_field_path(field, i, "securityContext/windowsOptions/hostProcess")
	msg := sprintf("%s must not set securityContext.windowsOptions.hostProcess to true", [who(field, c)])
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	value := c.securityContext.procMount
	value != "Default"
	value != null
	path := container_field_path(field, i, "securityContext/procMount")
	msg := sprintf("%s must leave securityContext.procMount unset or set it to Default, not %s", [who(field, c), json.marshal(value)])
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	ports := c.ports
	is_array(ports)
	some j, port in ports
	value := port.hostPort
	value != 0
	value != null
	path := container_field_path(field, i, concat("/", ["ports", format_int(j, 10), "hostPort"]))
	msg := sprintf("%s must not use host port %s: remove ports[%d].hostPort and expose the pod through a Service", [who(field, c), json.marshal(value), j])
}

violation contains {"msg": msg, "path": path} if {
	not windows
	some [field, i, c] in containers
	not c.securityContext.allowPrivilegeEscalation == false
	path := container_field_path(field, i, "securityContext/allowPrivilegeEscalation")
	msg := sprintf("%s must set securityContext.allowPrivilegeEscalation to false", [who(field, c)])
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	not c.securityContext.runAsNonRoot == true
	not inherits_run_as_non_root(c)
	path := container_field_path(field, i, "securityContext/runAsNonRoot")
	msg := sprintf("%s must set securityContext.runAsNonRoot to true (or leave it unset under a pod that sets it to true)", [who(field, c)])
}

inherits_run_as_non_root(c) if {
	pod_spec.securityContext.runAsNonRoot == true
	not c.securityContext.runAsNonRoot != null
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	value := c.securityContext.runAsUser
	root_uid(value)
	path := container_field_path(field, i, "securityContext/runAsUser")
	msg := sprintf("%s must not run as root: set securityContext.runAsUser to a non-zero UID or leave it unset", [who(field, c)])
}

# A runAsUser that is root, or not a number at all.
root_uid(value) if value == 0

root_uid(value) if {
	value != null
	not is_number(value)
}

violation contains {"msg": msg, "path": path} if {
	not windows
	some [field, i, c] in containers
	not drops_all(c)
	path := container_field_path(field, i, "securityContext/capabilities/drop")
	msg := sprintf("%s must drop all capabilities: add \"ALL\" to securityContext.capabilities.drop", [who(field, c)])
}

drops_all(c) if {
	drop := c.securityContext.capabilities.drop
	is_array(drop)
	"ALL" in drop
}

violation contains {"msg": msg, "path": path} if {
	not windows
	some [field, i, c] in containers
	added := c.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	capability != "NET_BIND_SERVICE"
	path := container_field_path(field, i, concat("/", ["securityContext/capabilities/add", format_int(j, 10)]))
	msg := sprintf("%s must not add capability %s: only NET_BIND_SERVICE may be added", [who(field, c), json.marshal(capability)])
}

violation contains {"msg": msg, "path": path} if {
	not windows
	some [field, i, c] in containers
	added := c.securityContext.capabilities.add
	not is_array(added)
	added != null
	path := container_field_path(field, i, "securityContext/capabilities/add")
	msg := sprintf("%s must list securityContext.capabilities.add as an array, holding at most NET_BIND_SERVICE", [who(field, c)])
}

violation contains {"msg": msg, "path": path} if {
	not windows
	some [field, i, c] in containers
	not allowed_profile_types[c.securityContext.seccompProfile.type]
	not inherits_seccomp(c)
	path := container_field_path(field, i, "securityContext/seccompProfile/type")
	msg := sprintf("%s must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or leave it unset under a pod that does)", [who(field, c)])
}

inherits_seccomp(c) if {
	allowed_profile_types[pod_spec.securityContext.seccompProfile.type]
	not c.securityContext.seccompProfile.type != null
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	options := c.securityContext.seLinuxOptions
	some key in selinux_keys
	value := options[key]
	not selinux_allowed(key, value)
	path := container_field_path(field, i, concat("/", ["securityContext/seLinuxOptions", key]))
	msg := selinux_message(who(field, c), key, value)
}

violation contains {"msg": msg, "path": path} if {
	some [field, i, c] in containers
	value := c.securityContext.appArmorProfile.type
	not allowed_profile_types[value]
	value != null
	path := container_field_path(field, i, "securityContext/appArmorProfile/type")
	msg := sprintf("%s must set securityContext.appArmorProfile.type to RuntimeDefault or Localhost, not %s", [who(field, c), json.marshal(value)])
}

# ---------------------------------------------------------------------------------------------
# SELinux options, on the pod and on each container: type only from the container types, user
# and role not set. An empty string is unset, as for the API server.
selinux_keys := ["type", "user", "role"]

selinux_allowed(_, value) if value == null

selinux_allowed(_, value) if value == ""

selinux_allowed("type", value) if allowed_selinux_types[value]

selinux_message(subject, "type", value) := sprintf("%s must not set securityContext.seLinuxOptions.type to %s; allowed: container_t, container_init_t, container_kvm_t, container_engine_t", [subject, json.marshal(value)])

selinux_message(subject, key, _) := sprintf("%s must not set securityContext.seLinuxOptions.%s", [subject, key]) if key != "type"
