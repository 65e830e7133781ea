package gatehouse.kubernetes.cnpg_backups_test

import data.gatehouse.kubernetes.cnpg_backups as policy

params := {"minRetentionDays": 30}

plugin := "barman-cloud.cloudnative-pg.io"

review(spec) := {
	"review": {
		"kind": {"group": "postgresql.cnpg.io", "version": "v1", "kind": "Cluster"},
		"namespace": "databases",
		"operation": "CREATE",
		"object": {
			"apiVersion": "postgresql.cnpg.io/v1",
			"kind": "Cluster",
			"metadata": {"name": "shop-db", "namespace": "databases"},
			"spec": spec,
		},
	},
	"parameters": params,
}

in_tree(backup) := {"instances": 3, "backup": backup}

barman := {"destinationPath": "s3://backups/shop-db", "endpointURL": "https://s3.fr-par.scw.cloud"}

good_in_tree := in_tree({"retentionPolicy": "30d", "barmanObjectStore": barman})

with_plugin(entry) := {"instances": 3, "plugins": [entry]}

good_entry := {"name": plugin, "isWALArchiver": true, "parameters": {"barmanObjectName": "shop-store"}}

object_store(spec) := {"apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore", "metadata": {"name": "shop-store", "namespace": "databases"}, "spec": spec}

good_store := object_store({"configuration": barman, "retentionPolicy": "30d"})

scheduled(name, spec) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "ScheduledBackup",
	"metadata": {"name": name, "namespace": "databases"},
	"spec": object.union({"cluster": {"name": "shop-db"}}, spec),
}

nightly := scheduled("shop-db-nightly", {"schedule": "0 0 2 * * *", "backupOwnerReference": "self"})

nightly_plugin := scheduled("shop-db-nightly", {"schedule": "0 0 2 * * *", "method": "plugin", "pluginConfiguration": {"name": plugin}})

# An inventory of ScheduledBackups and ObjectStores in one namespace.
inventory(ns, backups, stores) := {"namespace": {ns: {
	"postgresql.cnpg.io/v1": {"ScheduledBackup": {b.metadata.name: b | some b in backups}},
	"barmancloud.cnpg.io/v1": {"ObjectStore": {s.metadata.name: s | some s in stores}},
}}}

violations(inp, inv) := v if {
	v := policy.violation with input as inp with data.inventory as inv
}

paths(inp, inv) := {x.path | some x in violations(inp, inv)}

msgs(inp, inv) := {x.msg | some x in violations(inp, inv)}

# --- complete configurations

test_in_tree_backups_with_a_nightly_schedule_pass if {
	count(violations(review(good_in_tree), inventory("databases", [nightly], []))) == 0
}

test_plugin_backups_with_a_nightly_schedule_pass if {
	inv := inventory("databases", [nightly_plugin], [good_store])
	count(violations(review(with_plugin(good_entry)), inv)) == 0
	# enabled: true is the default made explicit.
	count(violations(review(with_plugin(object.union(good_entry, {"enabled": true}))), inv)) == 0
}

# --- object storage

test_no_object_storage_is_reported if {
	violations(review({"instances": 3}), inventory("databases", [], [])) == {
		{
			"msg": "Cluster \"shop-db\" backs up to no object storage: enable the Barman Cloud plugin (a spec.plugins entry barman-cloud.cloudnative-pg.io with isWALArchiver: true and parameters.barmanObjectName naming an ObjectStore) or set spec.backup.barmanObjectStore, so that base backups and the WAL archive leave the cluster and point-in-time recovery is possible",
			"path": "/spec/backup",
		},
		{
			"msg": "Cluster \"shop-db\" has no ScheduledBackup in namespace \"databases\": add one (postgresql.cnpg.io/v1) with spec.cluster.name \"shop-db\" and a daily schedule such as \"0 0 2 * * *\" (CloudNativePG schedules have 6 fields, seconds first)",
			"path": "/metadata/name",
		},
	}
	# Volume snapshots alone are no object storage.
	snapshots := {"instances": 3, "backup": {"volumeSnapshot": {"className": "sbs-snapshots"}}}
	paths(review(snapshots), inventory("databases", [nightly], [])) == {"/spec/backup", "/metadata/name"}
	paths(review(null), {}) == {"/spec/backup", "/metadata/name"}
}

test_a_disabled_or_other_plugin_is_no_object_storage if {
	inv := inventory("databases", [nightly_plugin], [good_store])
	"/spec/backup" in paths(review(with_plugin(object.union(good_entry, {"enabled": false}))), inv)
	"/spec/backup" in paths(review(with_plugin(object.union(good_entry, {"name": "pgbackrest.example.com"}))), inv)
	"/spec/backup" in paths(review({"plugins": "barman-cloud.cloudnative-pg.io"}), inv)
	"/spec/backup" in paths(review({"plugins": [null, "barman-cloud.cloudnative-pg.io"]}), inv)
}

test_the_in_tree_destination_must_be_an_object_store_url if {
	inv := inventory("databases", [nightly], [])
	violations(review(in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"endpointURL": "https://s3.fr-par.scw.cloud"}})), inv) == {{
		"msg": "Cluster \"shop-db\" sets no spec.backup.barmanObjectStore.destinationPath: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>",
		"path": "/spec/backup/barmanObjectStore/destinationPath",
	}}
	msgs(review(in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": "backups/shop-db"}})), inv) == {"Cluster \"shop-db\" has spec.backup.barmanObjectStore.destinationPath \"backups/shop-db\", which is not an object store URL: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>"}
	paths(review(in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": null}})), inv) == {"/spec/backup/barmanObjectStore/destinationPath"}
	paths(review(in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": "s3://"}})), inv) == {"/spec/backup/barmanObjectStore/destinationPath"}
	paths(review(in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": 3}})), inv) == {"/spec/backup/barmanObjectStore/destinationPath"}
	every url in ["gs://backups/shop-db", "https://account.blob.core.windows.net/backups/shop-db", "s3://backups"] {
		ok := in_tree({"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": url}})
		count(policy.violation) == 0 with input as review(ok) with data.inventory as inv
	}
}

test_the_in_tree_retention_is_required if {
	inv := inventory("databases", [nightly], [])
	violations(review(in_tree({"barmanObjectStore": barman})), inv) == {{
		"msg": "Cluster \"shop-db\" sets no backup retention (spec.backup.retentionPolicy): set a retention of at least 30 days, such as \"30d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it",
		"path": "/spec/backup/retentionPolicy",
	}}
	paths(review(in_tree({"retentionPolicy": null, "barmanObjectStore": barman})), inv) == {"/spec/backup/retentionPolicy"}
}

test_a_short_in_tree_retention_is_reported if {
	inv := inventory("databases", [nightly], [])
	msgs(review(in_tree({"retentionPolicy": "2w", "barmanObjectStore": barman})), inv) == {"Cluster \"shop-db\" keeps backups for 14 days (spec.backup.retentionPolicy \"2w\"), below the minimum of 30 days: set a retention of at least 30 days, such as \"30d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it"}
	every short in ["29d", "4w", "7d"] {
		p := {x.path | some x in policy.violation} with input as review(in_tree({"retentionPolicy": short, "barmanObjectStore": barman})) with data.inventory as inv
		p == {"/spec/backup/retentionPolicy"}
	}
	every long in ["30d", "5w", "1m", "12m", "365d"] {
		count(policy.violation) == 0 with input as review(in_tree({"retentionPolicy": long, "barmanObjectStore": barman})) with data.inventory as inv
	}
}

test_a_malformed_retention_is_reported if {
	inv := inventory("databases", [nightly], [])
	msgs(review(in_tree({"retentionPolicy": "30 days", "barmanObjectStore": barman})), inv) == {"Cluster \"shop-db\" has spec.backup.retentionPolicy \"30 days\", which is not a CloudNativePG retention (a number followed by d, w or m): set a retention of at least 30 days, such as \"30d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it"}
	every bad in ["30", "0d", "1y", "30D", 30, ["30d"]] {
		p := {x.path | some x in policy.violation} with input as review(in_tree({"retentionPolicy": bad, "barmanObjectStore": barman})) with data.inventory as inv
		p == {"/spec/backup/retentionPolicy"}
	}
}

test_the_minimum_retention_is_a_parameter if {
	inv := inventory("databases", [nightly], [])
	short := review(in_tree({"retentionPolicy": "2w", "barmanObjectStore": barman}))
	count(policy.violation) == 0 with input as object.union(short, {"parameters": {"minRetentionDays": 14}}) with data.inventory as inv
	year := object.union(review(good_in_tree), {"parameters": {"minRetentionDays": 365}})
	v := policy.violation with input as year with data.inventory as inv
	[x.msg | some x in v] == ["Cluster \"shop-db\" keeps backups for 30 days (spec.backup.retentionPolicy \"30d\"), below the minimum of 365 days: set a retention of at least 365 days, such as \"365d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it"]
}

# --- Barman Cloud plugin

test_the_plugin_must_archive_wal if {
	inv := inventory("databases", [nightly_plugin], [good_store])
	violations(review(with_plugin(object.remove(good_entry, ["isWALArchiver"]))), inv) == {{
		"msg": "Cluster \"shop-db\" uses the Barman Cloud plugin without isWALArchiver: true, so no WAL is archived and the cluster cannot be recovered to a point in time: set isWALArchiver: true on the barman-cloud.cloudnative-pg.io entry",
		"path": "/spec/plugins/0/isWALArchiver",
	}}
	paths(review(with_plugin(object.union(good_entry, {"isWALArchiver": false}))), inv) == {"/spec/plugins/0/isWALArchiver"}
	paths(review(with_plugin(object.union(good_entry, {"isWALArchiver": "true"}))), inv) == {"/spec/plugins/0/isWALArchiver"}
}

test_the_plugin_entry_is_found_at_its_index if {
	inv := inventory("databases", [nightly_plugin], [good_store])
	spec := {"plugins": [{"name": "cnpg-i-hello-world.cloudnative-pg.io"}, object.remove(good_entry, ["isWALArchiver"])]}
	paths(review(spec), inv) == {"/spec/plugins/1/isWALArchiver"}
}

test_the_plugin_must_name_an_object_store if {
	inv := inventory("databases", [nightly_plugin], [good_store])
	violations(review(with_plugin(object.remove(good_entry, ["parameters"]))), inv) == {{
		"msg": "Cluster \"shop-db\" enables the Barman Cloud plugin without parameters.barmanObjectName: name the ObjectStore (barmancloud.cnpg.io/v1) of namespace \"databases\" that holds the backups",
		"path": "/spec/plugins/0/parameters/barmanObjectName",
	}}
	paths(review(with_plugin(object.union(good_entry, {"parameters": {"barmanObjectName": ""}}))), inv) == {"/spec/plugins/0/parameters/barmanObjectName"}
	paths(review(with_plugin(object.union(good_entry, {"parameters": "shop-store"}))), inv) == {"/spec/plugins/0/parameters/barmanObjectName"}
}

test_the_object_store_must_be_in_the_namespace if {
	expected := {{
		"msg": "Cluster \"shop-db\" backs up through ObjectStore \"shop-store\", which is not in the inventory of namespace \"databases\", so its destination and retention cannot be verified: declare the ObjectStore (barmancloud.cnpg.io/v1) alongside the Cluster",
		"path": "/spec/plugins/0/parameters/barmanObjectName",
	}}
	violations(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [])) == expected
	elsewhere := object.union(inventory("databases", [nightly_plugin], []), inventory("backups", [], [good_store]))
	violations(review(with_plugin(good_entry)), elsewhere) == expected
	other := object_store({"configuration": barman, "retentionPolicy": "30d"})
	renamed := object.union(other, {"metadata": {"name": "other-store"}})
	violations(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [renamed])) == expected
	broken := {"namespace": {"databases": {
		"postgresql.cnpg.io/v1": {"ScheduledBackup": {"shop-db-nightly": nightly_plugin}},
		"barmancloud.cnpg.io/v1": {"ObjectStore": {"shop-store": "s3://backups/shop-db"}},
	}}}
	violations(review(with_plugin(good_entry)), broken) == expected
}

test_the_object_store_destination_is_checked if {
	store := object_store({"configuration": {"endpointURL": "https://s3.fr-par.scw.cloud"}, "retentionPolicy": "30d"})
	violations(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [store])) == {{
		"msg": "Cluster \"shop-db\" backs up through ObjectStore \"shop-store\", which sets no spec.configuration.destinationPath: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>",
		"path": "/spec/plugins/0/parameters/barmanObjectName",
	}}
	local := object_store({"configuration": {"destinationPath": "/var/backups"}, "retentionPolicy": "30d"})
	msgs(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [local])) == {"Cluster \"shop-db\" backs up through ObjectStore \"shop-store\", which has spec.configuration.destinationPath \"/var/backups\", which is not an object store URL: set it to the bucket and prefix of the backups, such as s3://backups/<cluster>"}
	no_spec := {"apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore", "metadata": {"name": "shop-store"}}
	count(violations(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [no_spec]))) == 2
}

test_the_object_store_retention_is_checked if {
	none := object_store({"configuration": barman})
	violations(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [none])) == {{
		"msg": "Cluster \"shop-db\" backs up through ObjectStore \"shop-store\", which sets no backup retention (spec.retentionPolicy): set a retention of at least 30 days, such as \"30d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it",
		"path": "/spec/plugins/0/parameters/barmanObjectName",
	}}
	short := object_store({"configuration": barman, "retentionPolicy": "7d"})
	msgs(review(with_plugin(good_entry)), inventory("databases", [nightly_plugin], [short])) == {"Cluster \"shop-db\" backs up through ObjectStore \"shop-store\", which keeps backups for 7 days (spec.retentionPolicy \"7d\"), below the minimum of 30 days: set a retention of at least 30 days, such as \"30d\" (a number followed by d, w or m; a month counts 30 days), so that the backups cover the recovery window and are pruned after it"}
	# The Cluster's in-tree retention does not apply to the plugin.
	spec := object.union(with_plugin(good_entry), {"backup": {"retentionPolicy": "30d"}})
	paths(review(spec), inventory("databases", [nightly_plugin], [none])) == {"/spec/plugins/0/parameters/barmanObjectName"}
}

# --- scheduled backups

test_a_missing_scheduled_backup_is_reported if {
	expected := {{
		"msg": "Cluster \"shop-db\" has no ScheduledBackup in namespace \"databases\": add one (postgresql.cnpg.io/v1) with spec.cluster.name \"shop-db\" and a daily schedule such as \"0 0 2 * * *\" (CloudNativePG schedules have 6 fields, seconds first)",
		"path": "/metadata/name",
	}}
	violations(review(good_in_tree), inventory("databases", [], [])) == expected
	violations(review(good_in_tree), {}) == expected
	v := policy.violation with input as review(good_in_tree)
	v == expected
}

test_a_scheduled_backup_elsewhere_does_not_count if {
	expected := {"/metadata/name"}
	paths(review(good_in_tree), inventory("staging", [nightly], [])) == expected
	other_cluster := scheduled("orders-nightly", {"schedule": "0 0 2 * * *", "cluster": {"name": "orders-db"}})
	paths(review(good_in_tree), inventory("databases", [other_cluster], [])) == expected
	paths(review(good_in_tree), {"namespace": {"databases": {"postgresql.cnpg.io/v1": {"ScheduledBackup": {"shop-db-nightly": "0 0 2 * * *"}}}}}) == expected
	paths(review(good_in_tree), {"namespace": {"databases": {"postgresql.cnpg.io/v1": {"ScheduledBackup": "shop-db-nightly"}}}}) == expected
	paths(review(good_in_tree), {"namespace": {"databases": {"postgresql.cnpg.io/v1": {"ScheduledBackup": {"x": {"spec": "shop-db"}}}}}}) == expected
}

reason(backup) := r if {
	v := policy.violation with input as review(good_in_tree) with data.inventory as inventory("databases", [backup], [])
	[r] := [x.msg | some x in v]
}

expected_reason(text) := sprintf("Cluster \"shop-db\" has no ScheduledBackup that backs it up daily to object storage (ScheduledBackup \"shop-db-nightly\" %s): give one a daily schedule such as \"0 0 2 * * *\" (6 fields, seconds first) and the backup method of the Cluster's object store", [text])

test_a_suspended_scheduled_backup_does_not_count if {
	reason(object.union(nightly, {"spec": {"suspend": true}})) == expected_reason("is suspended")
	count(violations(review(good_in_tree), inventory("databases", [object.union(nightly, {"spec": {"suspend": false}})], []))) == 0
}

test_a_scheduled_backup_without_schedule_does_not_count if {
	reason(scheduled("shop-db-nightly", {})) == expected_reason("has no spec.schedule")
	reason(scheduled("shop-db-nightly", {"schedule": 2})) == expected_reason("has no spec.schedule")
}

test_a_crontab_style_schedule_is_reported if {
	reason(scheduled("shop-db-nightly", {"schedule": "0 2 * * *"})) == expected_reason("runs on \"0 2 * * *\", 5 fields that CloudNativePG reads with seconds first (\"0 0 2 * * *\" is every day at 02:00)")
}

test_schedules_less_often_than_daily_are_reported if {
	reason(scheduled("shop-db-nightly", {"schedule": "0 0 2 * * 0"})) == expected_reason("runs on \"0 0 2 * * 0\", which is not a daily schedule (6 fields, seconds first, with day of month, month and day of week * or ?)")
	every schedule in ["0 0 2 1 * *", "0 0 2 * 1 *", "0 0 2 */2 * *", "0 0 2 * * MON-FRI", "@weekly", "@monthly", "@every 48h", "@every 1d", "0 0 2", ""] {
		[_] := [x.msg | some x in policy.violation] with input as review(good_in_tree) with data.inventory as inventory("databases", [scheduled("shop-db-nightly", {"schedule": schedule})], [])
	}
}

test_daily_or_more_frequent_schedules_count if {
	every schedule in ["0 0 2 * * *", "0 30 */6 * * *", "0 0 2 ? * *", "0 0 2 * * ?", "  0 0 2 * *  * ", "@daily", "@midnight", "@hourly", "@every 24h", "@every 12h30m"] {
		count(policy.violation) == 0 with input as review(good_in_tree) with data.inventory as inventory("databases", [scheduled("shop-db-nightly", {"schedule": schedule})], [])
	}
}

test_the_method_must_fit_the_object_store if {
	reason(object.union(nightly, {"spec": {"method": "volumeSnapshot"}})) == expected_reason("takes volume snapshots, which stay with the cluster's storage instead of going to object storage")
	reason(nightly_plugin) == expected_reason("uses the Barman Cloud plugin, which the Cluster does not enable in spec.plugins")
	reason(object.union(nightly, {"spec": {"method": "plugin"}})) == expected_reason("uses method plugin without pluginConfiguration.name barman-cloud.cloudnative-pg.io")
	reason(object.union(nightly, {"spec": {"method": "pgbackrest"}})) == expected_reason("uses method \"pgbackrest\", which CloudNativePG does not know")
	count(violations(review(good_in_tree), inventory("databases", [object.union(nightly, {"spec": {"method": "barmanObjectStore"}})], []))) == 0
	count(violations(review(good_in_tree), inventory("databases", [object.union(nightly, {"spec": {"method": null}})], []))) == 0
}

test_a_plugin_cluster_needs_method_plugin if {
	v := violations(review(with_plugin(good_entry)), inventory("databases", [nightly], [good_store]))
	[x.msg | some x in v] == ["Cluster \"shop-db\" has no ScheduledBackup that backs it up daily to object storage (ScheduledBackup \"shop-db-nightly\" uses method barmanObjectStore (the default) but the Cluster has no spec.backup.barmanObjectStore, so it needs method plugin with pluginConfiguration.name barman-cloud.cloudnative-pg.io): give one a daily schedule such as \"0 0 2 * * *\" (6 fields, seconds first) and the backup method of the Cluster's object store"]
	other := object.union(nightly_plugin, {"spec": {"pluginConfiguration": {"name": "other.example.com"}}})
	paths(review(with_plugin(good_entry)), inventory("databases", [other], [good_store])) == {"/metadata/name"}
}

test_one_daily_scheduled_backup_is_enough if {
	weekly := scheduled("shop-db-weekly", {"schedule": "0 0 3 * * 0", "method": "volumeSnapshot"})
	count(violations(review(good_in_tree), inventory("databases", [weekly, nightly], []))) == 0
	suspended := scheduled("shop-db-old", {"schedule": "0 0 2 * * *", "suspend": true})
	v := violations(review(good_in_tree), inventory("databases", [weekly, suspended], []))
	[x.msg | some x in v] == ["Cluster \"shop-db\" has no ScheduledBackup that backs it up daily to object storage (ScheduledBackup \"shop-db-old\" is suspended; ScheduledBackup \"shop-db-weekly\" runs on \"0 0 3 * * 0\", which is not a daily schedule (6 fields, seconds first, with day of month, month and day of week * or ?)): give one a daily schedule such as \"0 0 2 * * *\" (6 fields, seconds first) and the backup method of the Cluster's object store"]
}

# --- every piece on its own

test_each_missing_piece_is_reported_separately if {
	entry := {"name": plugin, "parameters": {"barmanObjectName": "shop-store"}}
	store := object_store({"configuration": barman, "retentionPolicy": "1w"})
	paths(review(with_plugin(entry)), inventory("databases", [], [store])) == {
		"/spec/plugins/0/isWALArchiver",
		"/spec/plugins/0/parameters/barmanObjectName",
		"/metadata/name",
	}
	count(violations(review(with_plugin(entry)), inventory("databases", [], [store]))) == 3
	paths(review(in_tree({"barmanObjectStore": {}})), {}) == {
		"/spec/backup/barmanObjectStore/destinationPath",
		"/spec/backup/retentionPolicy",
		"/metadata/name",
	}
}

test_deletes_are_let_through if {
	count(violations(object.union(review({}), {"review": {"operation": "DELETE", "object": null}}), {})) == 0
	finalizing := object.union(review({}), {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing, {})) == 0
	update := object.union(review(good_in_tree), {"review": {"operation": "UPDATE"}})
	count(violations(update, inventory("databases", [nightly], []))) == 0
	paths(update, {}) == {"/metadata/name"}
}

test_the_namespace_of_the_review_is_used if {
	obj := object.union(review(good_in_tree), {"review": {"namespace": "staging"}})
	paths(obj, inventory("databases", [nightly], [])) == {"/metadata/name"}
	count(violations(obj, inventory("staging", [nightly], []))) == 0
}
