package gatehouse.kubernetes.cnpg_backups

# A CloudNativePG Cluster backs up to object storage, with WAL archiving (point-in-time
# recovery), a retention of at least minRetentionDays, and a ScheduledBackup that runs at least
# daily. Each missing piece is its own violation. Two configurations exist:
# - in-tree (deprecated since CloudNativePG 1.26): spec.backup.barmanObjectStore, whose
#   destinationPath is the bucket, WAL always archived, retention in spec.backup.retentionPolicy;
# - the Barman Cloud plugin: a spec.plugins entry named barman-cloud.cloudnative-pg.io whose
#   parameters.barmanObjectName names an ObjectStore (barmancloud.cnpg.io/v1) of the namespace,
#   which holds the bucket (spec.configuration.destinationPath) and the retention
#   (spec.retentionPolicy); WAL is archived only with isWALArchiver: true.
# ScheduledBackups and ObjectStores are read from the inventory, in the Cluster's namespace.

plugin_name := "barman-cloud.cloudnative-pg.io"

# A DELETE (whose object is null), and an update to a cluster that is already being deleted
# (its finalizers being removed), are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The in-tree object store.
store := s if {
	s := input.review.object.spec.backup.barmanObjectStore
	is_object(s)
}

# The enabled Barman Cloud plugin entries, by index in spec.plugins.
plugin_entries[i] := entry if {
	plugins := input.review.object.spec.plugins
	is_array(plugins)
	some i, entry in plugins
	entry.name == plugin_name
	not entry.enabled == false
}

# A URL with a scheme and a bucket or host: s3://bucket/path, gs://bucket, https://account.blob...
object_store_url(path) if {
	is_string(path)
	regex.match(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]+`, path)
}

unit_days := {"d": 1, "w": 7, "m": 30}

# A CloudNativePG retention ("30d", "4w", "1m") in days; a month counts 30 days.
retention_days(policy) := to_number(substring(policy, 0, n - 1)) * unit_days[substring(policy, n - 1, 1)] if {
	is_string(policy)
	regex.match(`^[1-9][0-9]*[dwm]$`, policy)
	n := count(policy)
}

# Why a retention falls short, for the message; undefined when it is long enough.
retention_problem(policy, source, minimum) := sprintf("sets no backup retention (%s)", [source]) if {
	policy == null
} else := sprintf("has %s %s, which is not a CloudNativePG retention (a number followed by d, w or m)", [source, json.marshal(policy)]) if {
	not retention_days(policy)
} else := sprintf("keeps backups for %v days (%s %q), below the minimum of %v days", [days, source, policy, minimum]) if {
	days := retention_days(policy)
	days < minimum
}

# --- Object storage -------------------------------------------------------------------------

violation contains {"msg": msg, "path": "/spec/backup"} if {
	checked
	not store
	count(plugin_entries) == 0
	msg := sprintf(
		"%s backs up to no object storage: enable the Barman Cloud plugin (a spec.plugins entry %s with isWALArchiver: true and parameters.barmanObjectName naming an ObjectStore) or set spec.backup.barmanObjectStore, so that base backups and the WAL archive leave the cluster and point-in-time recovery is possible",
		[cluster_text(data.gatehouse.lib.kubernetes.name), plugin_name],
	)
}

violation contains {"msg": msg, "path": "/spec/backup/barmanObjectStore/destinationPath"} if {
	checked
	path := object.get(store, "destinationPath", null)
	not object_store_url(path)
	msg := sprintf(
		"%s %s: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>",
		[cluster_text(data.gatehouse.lib.kubernetes.name), destination_text("spec.backup.barmanObjectStore.destinationPath", path)],
	)
}

violation contains {"msg": msg, "path": "/spec/backup/retentionPolicy"} if {
	checked
	store
	policy := object.get(input.review.object.spec.backup, "retentionPolicy", null)
	problem := retention_problem(policy, "spec.backup.retentionPolicy", input.parameters.minRetentionDays)
	msg := sprintf("%s %s: %s", [cluster_text(data.gatehouse.lib.kubernetes.name), problem, retention_advice(input.parameters.minRetentionDays)])
}

# --- Barman Cloud plugin --------------------------------------------------------------------

violation contains {"msg": msg, "path": sprintf("/spec/plugins/%d/isWALArchiver", [i])} if {
	checked
	some i, entry in plugin_entries
	not entry.isWALArchiver == true
	msg := sprintf(
		"%s uses the Barman Cloud plugin without isWALArchiver: true, so no WAL is archived and the cluster cannot be recovered to a point in time: set isWALArchiver: true on the %s entry",
		[cluster_text(data.gatehouse.lib.kubernetes.name), plugin_name],
	)
}

violation contains {"msg": msg, "path": sprintf("/spec/plugins/%d/parameters/barmanObjectName", [i])} if {
	checked
	some i, entry in plugin_entries
	not object_store_name(entry)
	msg := sprintf(
		"%s enables the Barman Cloud plugin without parameters.barmanObjectName: name the ObjectStore (barmancloud.cnpg.io/v1) of namespace %q that holds the backups",
		[cluster_text(data.gatehouse.lib.kubernetes.name), data.gatehouse.lib.kubernetes.namespace],
	)
}

violation contains {"msg": msg, "path": sprintf("/spec/plugins/%d/parameters/barmanObjectName", [i])} if {
	checked
	some i, entry in plugin_entries
	name := object_store_name(entry)
	not object_stores[name]
	msg := sprintf(
		"%s backs up through ObjectStore %q, which is not in the inventory of namespace %q, so its destination and retention cannot be verified: declare the ObjectStore (barmancloud.cnpg.io/v1) alongside the Cluster",
		[cluster_text(data.gatehouse.lib.kubernetes.name), name, data.gatehouse.lib.kubernetes.namespace],
	)
}

violation contains {"msg": msg, "path": sprintf("/spec/plugins/%d/parameters/barmanObjectName", [i])} if {
	checked
	some i, entry in plugin_entries
	name := object_store_name(entry)
	path := object.get(object_stores[name], ["spec", "configuration", "destinationPath"], null)
	not object_store_url(path)
	msg := sprintf(
		"%s backs up through ObjectStore %q, which %s: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>",
		[cluster_text(data.gatehouse.lib.kubernetes.name), name, destination_text("spec.configuration.destinationPath", path)],
	)
}

violation contains {"msg": msg, "path": sprintf("/spec/plugins/%d/parameters/barmanObjectName", [i])} if {
	checked
	some i, entry in plugin_entries
	name := object_store_name(entry)
	policy := object.get(object_stores[name], ["spec", "retentionPolicy"], null)
	problem := retention_problem(policy, "spec.retentionPolicy", input.parameters.minRetentionDays)
	msg := sprintf("%s backs up through ObjectStore %q, which %s: %s", [
		cluster_text(data.gatehouse.lib.kubernetes.name), name, problem,
		retention_advice(input.parameters.minRetentionDays),
	])
}

object_store_name(entry) := name if {
	name := entry.parameters.barmanObjectName
	is_string(name)
	name != ""
}

# The ObjectStores of the Cluster's namespace, by name; only looked up for a plugin entry.
object_stores[name] := object_store if {
	count(plugin_entries) > 0
	stores := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["barmancloud.cnpg.io/v1"].ObjectStore
	is_object(stores)
	some name, object_store in stores
	is_object(object_store)
}

# --- Scheduled backups ----------------------------------------------------------------------

# The ScheduledBackups of the Cluster's namespace that name it, by name.
scheduled[name] := backup if {
	backups := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["postgresql.cnpg.io/v1"].ScheduledBackup
	is_object(backups)
	some name, backup in backups
	backup.spec.cluster.name == data.gatehouse.lib.kubernetes.name
}

# Some ScheduledBackup takes a backup of the Cluster to its object store every day.
daily_backup if {
	some backup in scheduled
	not schedule_problem(backup.spec)
}

violation contains {"msg": msg, "path": "/metadata/name"} if {
	checked
	count(scheduled) == 0
	msg := sprintf(
		"%s has no ScheduledBackup in namespace %q: add one (postgresql.cnpg.io/v1) with spec.cluster.name %s and a daily schedule such as \"0 0 2 * * *\" (CloudNativePG schedules have 6 fields, seconds first)",
		[cluster_text(data.gatehouse.lib.kubernetes.name), data.gatehouse.lib.kubernetes.namespace, quoted(data.gatehouse.lib.kubernetes.name)],
	)
}

violation contains {"msg": msg, "path": "/metadata/name"} if {
	checked
	count(scheduled) > 0
	not daily_backup
	reasons := [sprintf("ScheduledBackup %q %s", [name, schedule_problem(backup.spec)]) | some name, backup in scheduled]
	msg := sprintf(
		"%s has no ScheduledBackup that backs it up daily to object storage (%s): give one a daily schedule such as \"0 0 2 * * *\" (6 fields, seconds first) and the backup method of the Cluster's object store",
		[cluster_text(data.gatehouse.lib.kubernetes.name), concat("; ", reasons)],
	)
}

# Why a ScheduledBackup does not take daily backups to the object store; undefined when it does.
schedule_problem(spec) := "is suspended" if {
	spec.suspend == true
} else := "has no spec.schedule" if {
	not is_string(spec.schedule)
} else := sprintf("runs on %q, 5 fields that CloudNativePG reads with seconds first (\"0 0 2 * * *\" is every day at 02:00)", [spec.schedule]) if {
	count(fields(spec.schedule)) == 5
} else := sprintf("runs on %q, which is not a daily schedule (6 fields, seconds first, with day of month, month and day of week * or ?)", [spec.schedule]) if {
	not daily(spec.schedule)
} else := method_problem(spec, backup_method(spec))

fields(schedule) := regex.split(`\s+`, trim_space(schedule))

# A robfig/cron schedule (the library CloudNativePG uses) that fires at least once a day: six
# fields whose day of month, month and day of week are unrestricted, or a descriptor.
daily(schedule) if {
	f := fields(schedule)
	count(f) == 6
	f[3] in {"*", "?"}
	f[4] in {"*", "?"}
	f[5] in {"*", "?"}
}

daily(schedule) if trim_space(schedule) in {"@daily", "@midnight", "@hourly"}

daily(schedule) if {
	startswith(trim_space(schedule), "@every ")
	duration := trim_space(trim_prefix(trim_space(schedule), "@every"))
	regex.match(`^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|ns))+$`, duration)
	time.parse_duration_ns(duration) <= 86400000000000
}

backup_method(spec) := m if {
	m := spec.method
	m != null
} else := "barmanObjectStore"

method_problem(_, "volumeSnapshot") := "takes volume snapshots, which stay with the cluster's storage instead of going to object storage"

method_problem(_, "barmanObjectStore") := "uses method barmanObjectStore (the default) but the Cluster has no spec.backup.barmanObjectStore, so it needs method plugin with pluginConfiguration.name barman-cloud.cloudnative-pg.io" if {
	not store
	count(plugin_entries) > 0
}

method_problem(_, "barmanObjectStore") := "uses method barmanObjectStore (the default) but the Cluster has no spec.backup.barmanObjectStore" if {
	not store
	count(plugin_entries) == 0
}

method_problem(spec, "plugin") := sprintf("uses method plugin without pluginConfiguration.name %s", [plugin_name]) if {
	not spec.pluginConfiguration.name == plugin_name
}

method_problem(spec, "plugin") := "uses the Barman Cloud plugin, which the Cluster does not enable in spec.plugins" if {
	spec.pluginConfiguration.name == plugin_name
	count(plugin_entries) == 0
}

method_problem(_, method) := sprintf("uses method %s, which CloudNativePG does not know", [json.marshal(method)]) if {
	not method in {"volumeSnapshot", "barmanObjectStore", "plugin"}
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

cluster_text(name) := sprintf("Cluster %s", [quoted(name)])

destination_text(field, null) := sprintf("sets no %s", [field])

destination_text(field, path) := sprintf("has %s %s, which is not an object store URL", [field, json.marshal(path)]) if path != null

retention_advice(minimum) := sprintf("set a retention of at least %v days, such as \"%vd\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it", [minimum, minimum])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
