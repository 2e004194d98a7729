// Package hostpath is the service cluster's storage provisioner: kind's default StorageClass
// done without helper pods. One instance runs on each node (a DaemonSet) and, for every claim
// the scheduler placed on its node, makes a directory under its base directory and a hostPath
// PersistentVolume pinned to the node; when such a volume is released and its reclaim policy is
// Delete, it removes the directory and the volume.
//
// Rancher's local-path-provisioner, which kind ships, starts a pod on the node to make each
// directory: on a busy 2-core machine that took 20 s per volume, the largest single wait in a
// hosted control plane's start (its etcd members' volumes).
package hostpath
