package infrastructure_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure"
)

const userData = "#cloud-config\nruncmd: [echo joined]\n"

// provisionedCluster makes a Cluster whose GcoreCluster is provisioned, and marks the Cluster
// so, as CAPI's Cluster controller would.
func (f *fixture) provisionedCluster(name, cidr string) *clusterv1.Cluster {
	f.t.Helper()
	cl, gc := f.newCluster(name, cidr)
	f.eventually("GcoreCluster provisioned", 30*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(gc.Status.Initialization.Provisioned, false), conditionOf(gc.Status.Conditions, infrav1.ReadyCondition)
	})
	f.setClusterProvisioned(cl)
	return cl
}

// newMachine makes a Machine with its bootstrap data and a GcoreMachine owned by it.
func (f *fixture) newMachine(cl *clusterv1.Cluster, name string, spec infrav1.GcoreMachineSpec) *infrav1.GcoreMachine {
	f.t.Helper()
	labels := map[string]string{clusterv1.ClusterNameLabel: cl.Name}
	f.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bootstrap", Namespace: f.ns, Labels: labels},
		Data:       map[string][]byte{"value": []byte(userData), "format": []byte("cloud-config")},
	})
	m := &clusterv1.Machine{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels},
		Spec: clusterv1.MachineSpec{
			ClusterName: cl.Name, Version: "v1.37.2",
			Bootstrap:         clusterv1.Bootstrap{DataSecretName: ptr.To(name + "-bootstrap")},
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreMachine", Name: name},
		},
	}
	f.create(m)
	gm := &infrav1.GcoreMachine{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: f.ns, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: clusterv1.GroupVersion.String(), Kind: "Machine", Name: name, UID: m.UID}},
		},
		Spec: spec,
	}
	f.create(gm)
	return gm
}

func (f *fixture) waitProvisioned(gm *infrav1.GcoreMachine, timeout time.Duration) {
	f.t.Helper()
	f.eventually("GcoreMachine "+gm.Name+" provisioned", timeout, func() (bool, string) {
		if err := f.get(gm); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(gm.Status.Initialization.Provisioned, false), gm.Status.InstanceState + " " + conditionOf(gm.Status.Conditions, infrav1.InstanceReadyCondition)
	})
}

// testMachineLifecycle: a VM machine gets a Nova server on the cluster subnet, with the
// bootstrap user-data, the image of the Machine's version, the machine's tag and the provider
// ID openstack:///<uuid>; deleting it removes the server and its port.
func testMachineLifecycle(f *fixture) {
	t := f.t
	stop := f.startManager()
	cl := f.provisionedCluster("vm", "10.6.10.0/24")
	gm := f.newMachine(cl, "vm-md-0-abc", infrav1.GcoreMachineSpec{Flavor: "g1.small"})
	f.waitProvisioned(gm, 30*time.Second)

	if !strings.HasPrefix(gm.Spec.ProviderID, infrastructure.ProviderIDPrefix) || gm.Status.InstanceID == "" ||
		gm.Spec.ProviderID != infrastructure.ProviderIDPrefix+gm.Status.InstanceID {
		t.Fatalf("providerID %q, instance %q: want openstack:///<instance>", gm.Spec.ProviderID, gm.Status.InstanceID)
	}
	var internal string
	for _, a := range gm.Status.Addresses {
		if a.Type == clusterv1.MachineInternalIP {
			internal = a.Address
		}
	}
	if !strings.HasPrefix(internal, "10.6.10.") {
		t.Errorf("addresses %+v: want an InternalIP in 10.6.10.0/24", gm.Status.Addresses)
	}

	ctx := context.Background()
	admin := f.cloud.Client(t, cloudtest.Admin, "compute")
	admin.Microversion = "2.67"
	var got struct {
		Status   string   `json:"status"`
		Image    any      `json:"image"`
		Tags     []string `json:"tags"`
		UserData string   `json:"OS-EXT-SRV-ATTR:user_data"`
	}
	if err := servers.Get(ctx, admin, gm.Status.InstanceID).ExtractInto(&got); err != nil {
		t.Fatal(err)
	}
	if ud, _ := base64.StdEncoding.DecodeString(got.UserData); string(ud) != userData {
		t.Errorf("server user-data %q, want the bootstrap secret's %q", ud, userData)
	}
	tag := infrastructure.MachineTag(gm.Namespace, gm.Name)
	if !slices.Contains(got.Tags, tag) {
		t.Errorf("server tags %v lack the machine tag %s", got.Tags, tag)
	}
	imageRef, _ := got.Image.(map[string]any)
	imageID := fmt.Sprint(imageRef["id"])
	img, err := images.Get(ctx, f.cloud.Client(t, cloudtest.Demo, "image"), imageID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Properties["kube_version"] != "v1.37.2" {
		t.Errorf("server image %s has kube_version %v, want the Machine's v1.37.2", img.Name, img.Properties["kube_version"])
	}

	// Another reconcile, and a restart, make no second server.
	stop()
	f.startManager()
	time.Sleep(2 * time.Second)
	sp, err := servers.List(f.cloud.Client(t, cloudtest.Demo, "compute"), servers.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := servers.ExtractServers(sp); len(list) != 1 {
		t.Fatalf("%d servers carry the machine tag after a restart, want 1", len(list))
	}

	if err := f.env.Client.Delete(f.ctx(), gm); err != nil {
		t.Fatal(err)
	}
	f.eventually("GcoreMachine gone", 30*time.Second, func() (bool, string) {
		err := f.get(gm)
		return apierrors.IsNotFound(err), fmt.Sprintf("get: %v, state %s", err, gm.Status.InstanceState)
	})
	if srv, err := servers.Get(ctx, admin, gm.Status.InstanceID).Extract(); err == nil {
		t.Errorf("server %s still exists (%s) after the machine was deleted", srv.ID, srv.Status)
	}
	pp, err := ports.List(f.cloud.Client(t, cloudtest.Demo, "network"), ports.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pl, _ := ports.ExtractPorts(pp); len(pl) != 0 {
		t.Errorf("%d ports of the machine left after deletion", len(pl))
	}
}

// testMachineBareMetal: type baremetal with a bare-metal flavor lands on an Ironic node.
func testMachineBareMetal(f *fixture) {
	t := f.t
	f.startManager()
	cl := f.provisionedCluster("bm", "10.6.11.0/24")
	gm := f.newMachine(cl, "bm-md-0-xyz", infrav1.GcoreMachineSpec{Type: infrav1.MachineTypeBareMetal, Flavor: "bm1.medium"})
	f.waitProvisioned(gm, 30*time.Second)

	np, err := nodes.List(f.cloud.Client(t, cloudtest.Admin, "baremetal"), nodes.ListOpts{InstanceUUID: gm.Status.InstanceID}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list, err := nodes.ExtractNodes(np)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ProvisionState != "active" {
		t.Fatalf("Ironic nodes with instance %s: %+v, want one, active", gm.Status.InstanceID, list)
	}
}

// testMachineFlavorTypeMismatch: a VM machine on a bare-metal flavor is refused with a message
// that says why, before anything is made.
func testMachineFlavorTypeMismatch(f *fixture) {
	f.startManager()
	cl := f.provisionedCluster("mismatch", "10.6.12.0/24")
	gm := f.newMachine(cl, "mismatch-0", infrav1.GcoreMachineSpec{Type: infrav1.MachineTypeVM, Flavor: "bm1.medium"})
	f.eventually("InvalidSpec", 30*time.Second, func() (bool, string) {
		if err := f.get(gm); err != nil {
			return false, err.Error()
		}
		c := conditionOf(gm.Status.Conditions, infrav1.InstanceReadyCondition)
		return strings.Contains(c, infrav1.InvalidSpecReason) && strings.Contains(c, "needs a virtual flavor"), c
	})
	if gm.Status.InstanceID != "" {
		f.t.Errorf("a server %s was made for an invalid spec", gm.Status.InstanceID)
	}
}

// testMachineBuildFailureReplaced: a server that goes to ERROR while building is deleted and
// replaced; the machine converges with a new server once the cloud heals.
func testMachineBuildFailureReplaced(f *fixture) {
	t := f.t
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeStuck, Service: "compute", Operation: compute.TaskServerBuild, StuckFor: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.startManager()
	cl := f.provisionedCluster("flaky", "10.6.13.0/24")
	gm := f.newMachine(cl, "flaky-0", infrav1.GcoreMachineSpec{Flavor: "g1.small"})
	tag := infrastructure.MachineTag(gm.Namespace, gm.Name)
	demo := f.cloud.Client(t, cloudtest.Demo, "compute")
	var failed string
	f.eventually("a server of the machine in ERROR", 30*time.Second, func() (bool, string) {
		sp, err := servers.List(demo, servers.ListOpts{Tags: tag}).AllPages(context.Background())
		if err != nil {
			return false, err.Error()
		}
		list, _ := servers.ExtractServers(sp)
		for _, s := range list {
			if s.Status == "ERROR" {
				failed = s.ID
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d servers, none in ERROR", len(list))
	})
	f.eventually("InstanceError reported", 30*time.Second, func() (bool, string) {
		if err := f.get(gm); err != nil {
			return false, err.Error()
		}
		c := conditionOf(gm.Status.Conditions, infrav1.InstanceReadyCondition)
		return strings.Contains(c, infrav1.InstanceErrorReason), c
	})
	if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	f.waitProvisioned(gm, 60*time.Second)
	if gm.Status.InstanceID == failed {
		t.Errorf("the machine kept the failed server %s", failed)
	}
	if f := gm.Status.LastFailedServer; f == nil || f.ID == "" || f.ID == gm.Status.InstanceID || !strings.Contains(f.Fault, "stuck") {
		t.Errorf("status.lastFailedServer = %+v, want a failed server other than %s with the cloud's fault", f, gm.Status.InstanceID)
	}
	sp, err := servers.List(demo, servers.ListOpts{Tags: tag}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := servers.ExtractServers(sp); len(list) != 1 || list[0].Status != "ACTIVE" {
		t.Errorf("servers of the machine: %+v, want exactly one ACTIVE", list)
	}
}
