// Package bootstrap is the bootstrap provider: the GcoreConfig controller, which makes each
// worker Machine's cloud-init user-data under Cluster API's v1beta2 BootstrapConfig contract.
//
// Once the Cluster's infrastructure is provisioned and its hosted control plane initialized,
// the controller
//   - makes a bootstrap token and keeps it in the data secret, next to the user-data that
//     uses it (the token's secret part never goes into status, conditions or events);
//   - renders the user-data (package cloudinit): kubeadm join through the control plane's load
//     balancer (spec.controlPlaneEndpoint), the CA pinned by the hash of the <cluster>-ca
//     Secret's certificate, the node type label from the Machine's infrastructure object;
//   - stores it in a Secret named like the GcoreConfig (keys "value" and "format");
//   - creates the token's kube-system/bootstrap-token-<id> Secret in the workload cluster and,
//     until the Machine has a Node, extends it before it runs out and recreates it if it
//     vanishes;
//   - reports status.dataSecretName, status.initialization.dataSecretCreated and the Ready and
//     DataSecretAvailable conditions.
package bootstrap
