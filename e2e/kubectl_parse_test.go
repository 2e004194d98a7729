//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// kubectlFixture is what kubectl v1.37.2 printed for `get
// clusters,gcorecontrolplanes,machinedeployments,machines -A` against a kube-apiserver with the
// CRDs of Cluster API v1.14.2 and ours, the third Machine without a Node yet.
const kubectlFixture = `NAMESPACE   NAME                          CLUSTERCLASS   AVAILABLE   CP DESIRED   CP AVAILABLE   CP UP-TO-DATE   W DESIRED   W AVAILABLE   W UP-TO-DATE   PHASE         AGE   VERSION
ns1         cluster.cluster.x-k8s.io/c1                  True        1            1              1               3           3             3              Provisioned   3s    

NAMESPACE   NAME                                                               CLUSTER   READY   INITIALIZED   VERSION   REPLICAS   UPDATED   ENDPOINT       AGE
ns1         gcorecontrolplane.controlplane.cluster.x-k8s.io/c1-control-plane   c1        True    true          v1.37.2   1          1         192.168.1.10   1s

NAMESPACE   NAME                                         CLUSTER   AVAILABLE   DESIRED   CURRENT   READY   AVAILABLE   UP-TO-DATE   PHASE     AGE   VERSION
ns1         machinedeployment.cluster.x-k8s.io/c1-bm-0   c1        True        1         1         1       1           1            Running   1s    
ns1         machinedeployment.cluster.x-k8s.io/c1-md-0   c1        True        2         2         2       2           2            Running   1s    

NAMESPACE   NAME                                    CLUSTER   NODE NAME           FAILURE DOMAIN   READY   AVAILABLE   UP-TO-DATE   PHASE     AGE   VERSION
ns1         machine.cluster.x-k8s.io/c1-md-0-abca   c1        node-c1-md-0-abca                    True    True        True         Running   1s    
ns1         machine.cluster.x-k8s.io/c1-md-0-abcb   c1        node-c1-md-0-abcb                    True    True        True         Running   1s    
ns1         machine.cluster.x-k8s.io/c1-md-0-abcc   c1                                             True    True        True         Running   1s    
`

func TestParseKubectlTables(t *testing.T) {
	tables, err := parseKubectlTables(kubectlFixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 4 {
		t.Fatalf("got %d tables, want 4", len(tables))
	}
	md := tables[2]
	if md.resource != resMachineDeployment || len(md.rows) != 2 {
		t.Fatalf("third table: %s with %d rows, want %s with 2", md.resource, len(md.rows), resMachineDeployment)
	}
	if r := md.rows[1]; r["NAME"] != "c1-md-0" || r["AVAILABLE"] != "True" || r["AVAILABLE#2"] != "2" || r["UP-TO-DATE"] != "2" {
		t.Errorf("MachineDeployment row: %v", r)
	}
	m := tables[3].rows
	if m[0]["NODE NAME"] != "node-c1-md-0-abca" || m[0]["FAILURE DOMAIN"] != "" || m[0]["READY"] != "True" {
		t.Errorf("first Machine row: %v", m[0])
	}
	if m[2]["NODE NAME"] != "" || m[2]["READY"] != "True" || m[2]["PHASE"] != "Running" {
		t.Errorf("an empty NODE NAME shifts the next cells: %v", m[2])
	}
	if c := tables[0].rows[0]; c["CP DESIRED"] != "1" || c["W UP-TO-DATE"] != "3" || c["CLUSTERCLASS"] != "" || c["VERSION"] != "" {
		t.Errorf("Cluster row: %v", c)
	}
}

func TestClusterReadyInTables(t *testing.T) {
	tables, err := parseKubectlTables(kubectlFixture)
	if err != nil {
		t.Fatal(err)
	}
	err = clusterReadyInTables(tables, "ns1", "c1", 3)
	if err == nil || !strings.Contains(err.Error(), "Machine c1-md-0-abcc: no NODE NAME") || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("a Machine without a Node: got %v, want that one problem", err)
	}

	ready, err := parseKubectlTables(strings.Replace(kubectlFixture, "c1                                             True",
		"c1        node-c1-md-0-abcc                    True", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := clusterReadyInTables(ready, "ns1", "c1", 3); err != nil {
		t.Errorf("all ready: %v", err)
	}
	if err := clusterReadyInTables(ready, "ns1", "c1", 4); err == nil || !strings.Contains(err.Error(), `W DESIRED is "3", want "4"`) {
		t.Errorf("4 workers wanted: got %v", err)
	}
	if err := clusterReadyInTables(ready, "other", "c1", 3); err == nil || !strings.Contains(err.Error(), "0 Clusters in other") {
		t.Errorf("another namespace: got %v", err)
	}
	notReady, err := parseKubectlTables(strings.Replace(strings.Replace(kubectlFixture, "c1        True    true", "c1        False   true", 1),
		"Running   1s    \nns1         machinedeployment.cluster.x-k8s.io/c1-md-0", "ScalingUp 1s    \nns1         machinedeployment.cluster.x-k8s.io/c1-md-0", 1))
	if err != nil {
		t.Fatal(err)
	}
	err = clusterReadyInTables(notReady, "ns1", "c1", 3)
	for _, want := range []string{`GcoreControlPlane c1-control-plane: READY is "False"`, `MachineDeployment c1-bm-0: PHASE is "ScalingUp"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("not ready: got %v, want %q in it", err, want)
		}
	}
}
