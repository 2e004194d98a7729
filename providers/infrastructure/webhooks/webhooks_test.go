package webhooks

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

func cluster(mut func(*infrav1.GcoreCluster)) *infrav1.GcoreCluster {
	c := &infrav1.GcoreCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Spec:       infrav1.GcoreClusterSpec{IdentityRef: infrav1.IdentityReference{Name: "cloud", CloudName: "demo"}},
	}
	if mut != nil {
		mut(c)
	}
	return c
}

// wantErr checks err against want: "" means no error, else an Invalid (422) error whose
// message holds want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one about %q", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Errorf("error %v is not an Invalid (422) API error", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestClusterWebhook(t *testing.T) {
	ctx := context.Background()
	c := cluster(nil)
	if err := (Cluster{}).Default(ctx, c); err != nil || c.Spec.Network.CIDR != DefaultCIDR {
		t.Fatalf("Default: cidr %q, err %v; want %s", c.Spec.Network.CIDR, err, DefaultCIDR)
	}
	for _, tc := range []struct {
		name string
		mut  func(*infrav1.GcoreCluster)
		want string
	}{
		{"valid", func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.7.0.0/24" }, ""},
		{"not a CIDR", func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.7.0.0" }, "not a CIDR"},
		{"IPv6", func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "fd00::/64" }, "must be IPv4"},
		{"too small", func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.7.0.0/30" }, "between /16 and /28"},
		{"host bits", func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.7.0.5/24" }, "did you mean 10.7.0.0/24"},
		{"bad DNS", func(c *infrav1.GcoreCluster) { c.Spec.Network.DNSNameservers = []string{"dns.example"} }, "spec.network.dnsNameservers[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (Cluster{}).ValidateCreate(ctx, cluster(tc.mut))
			wantErr(t, err, tc.want)
		})
	}
	old := cluster(func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.7.0.0/24" })
	_, err := (Cluster{}).ValidateUpdate(ctx, old, cluster(func(c *infrav1.GcoreCluster) { c.Spec.Network.CIDR = "10.8.0.0/24" }))
	wantErr(t, err, "the subnet cannot change")
	_, err = (Cluster{}).ValidateUpdate(ctx, old, cluster(func(c *infrav1.GcoreCluster) {
		c.Spec.Network.CIDR = "10.7.0.0/24"
		c.Spec.Network.DNSNameservers = []string{"10.0.0.53"}
	}))
	wantErr(t, err, "")
}

func TestMachineWebhook(t *testing.T) {
	ctx := context.Background()
	m := &infrav1.GcoreMachine{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Spec: infrav1.GcoreMachineSpec{Flavor: "g1.small"}}
	if err := (Machine{}).Default(ctx, m); err != nil || m.Spec.Type != infrav1.MachineTypeVM {
		t.Fatalf("Default: type %q, err %v; want vm", m.Spec.Type, err)
	}
	_, err := (Machine{}).ValidateCreate(ctx, m)
	wantErr(t, err, "")

	noFlavor := m.DeepCopy()
	noFlavor.Spec.Flavor = ""
	_, err = (Machine{}).ValidateCreate(ctx, noFlavor)
	wantErr(t, err, "spec.flavor: Required value")

	both := m.DeepCopy()
	both.Spec.Image = infrav1.ImageSpec{Name: "img", KubeVersion: "v1.37.2"}
	_, err = (Machine{}).ValidateCreate(ctx, both)
	wantErr(t, err, "not both")

	bmGroup := m.DeepCopy()
	bmGroup.Spec.Type, bmGroup.Spec.ServerGroupID = infrav1.MachineTypeBareMetal, "g"
	_, err = (Machine{}).ValidateCreate(ctx, bmGroup)
	wantErr(t, err, "server groups")

	// The controller may set providerID once; nothing else may change.
	withID := m.DeepCopy()
	withID.Spec.ProviderID = "openstack:///abc"
	_, err = (Machine{}).ValidateUpdate(ctx, m, withID)
	wantErr(t, err, "")
	otherID := withID.DeepCopy()
	otherID.Spec.ProviderID = "openstack:///def"
	_, err = (Machine{}).ValidateUpdate(ctx, withID, otherID)
	wantErr(t, err, "cannot change")
	bigger := withID.DeepCopy()
	bigger.Spec.Flavor = "g1.large"
	_, err = (Machine{}).ValidateUpdate(ctx, withID, bigger)
	wantErr(t, err, "GcoreMachineTemplate of its MachineDeployment")
}

func TestMachineTemplateWebhook(t *testing.T) {
	ctx := context.Background()
	tpl := &infrav1.GcoreMachineTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t"}}
	tpl.Spec.Template.Spec.Flavor = "bm1.medium"
	tpl.Spec.Template.Spec.Type = infrav1.MachineTypeBareMetal
	_, err := (MachineTemplate{}).ValidateCreate(ctx, tpl)
	wantErr(t, err, "")

	withID := tpl.DeepCopy()
	withID.Spec.Template.Spec.ProviderID = "openstack:///x"
	_, err = (MachineTemplate{}).ValidateCreate(ctx, withID)
	wantErr(t, err, "spec.template.spec.providerID")

	changed := tpl.DeepCopy()
	changed.Spec.Template.Spec.Flavor = "bm1.large"
	_, err = (MachineTemplate{}).ValidateUpdate(ctx, tpl, changed)
	wantErr(t, err, "immutable")
}
