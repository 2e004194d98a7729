package runner

import (
	"context"
	"io"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/versions"
)

// Env is what a run talks to. Service and Cloud are required; a step that needs a missing
// part fails saying which.
type Env struct {
	// Service is a client of the service cluster: Cluster API's objects, the providers and the
	// hosted control planes' pods.
	Service client.Client
	// Cloud is fakecloud: its admin API and the subnets of Neutron.
	Cloud Cloud
	// Templates renders the cluster template for a createCluster step.
	Templates Templater
	// Customers opens the customer cluster of a scenario.
	Customers Customers
	// Disruptions kills fakecloud and restarts the service cluster's node.
	Disruptions Disruptor
	// Dumper writes logs, events and the cloud's state into a directory when a run fails;
	// nil: nothing is dumped.
	Dumper Dumper
	// Versions is the pinned version list (for the upgrade path); nil: versions.Load().
	Versions *versions.List

	// Progress receives a line per step start and end, and one every ProgressEvery while an
	// expect waits; nil: io.Discard.
	Progress io.Writer
	// ProgressEvery is how often a waiting step reports; default 15s.
	ProgressEvery time.Duration
	// CleanupTimeout bounds the cleanup steps, which run on a fresh context; default 20m.
	CleanupTimeout time.Duration
	// ArtifactsRoot is where a failed run's dump goes, in <scenario>-<time>/; default
	// DefaultArtifactsRoot.
	ArtifactsRoot string
}

// DefaultArtifactsRoot is where reports and dumps go by default, relative to the repository.
const DefaultArtifactsRoot = "e2e/_artifacts/scenarios"

// Cloud is fakecloud as a run sees it. *SandboxCloud implements it.
type Cloud interface {
	// AddFault switches a fault on and returns it with its id.
	AddFault(ctx context.Context, f adminclient.FaultSpec) (faults.Rule, error)
	// RemoveFault switches a fault off ("all" for every one) and says how many went.
	RemoveFault(ctx context.Context, id string) (int, error)
	// State lists every resource of the cloud.
	State(ctx context.Context, project string) (adminclient.State, error)
	// Events returns the event log after sequence number since.
	Events(ctx context.Context, since uint64) ([]store.Event, error)
	// SubnetCIDRs lists the CIDR of every subnet of every project.
	SubnetCIDRs(ctx context.Context) ([]string, error)
}

// Templater renders the cluster template (clusterctl generate cluster) for a cluster called
// name in namespace with the template's variables.
type Templater interface {
	Generate(ctx context.Context, name, namespace string, vars map[string]string) ([]byte, error)
}

// Customers opens customer clusters.
type Customers interface {
	// Open returns access to the cluster namespace/name, from its <name>-kubeconfig Secret.
	Open(ctx context.Context, namespace, name string) (Customer, error)
}

// Customer is a customer cluster as its user reaches it: through its load balancer.
type Customer interface {
	// Client reads and writes objects.
	Client() client.Client
	// Get does a GET on a path of the API, e.g. /readyz, and returns the body.
	Get(ctx context.Context, path string) ([]byte, error)
	// Clientset is for what the controller-runtime client does not do, e.g. a pod's logs.
	Clientset() kubernetes.Interface
}

// Disruptor does what needs a process or docker.
type Disruptor interface {
	// KillFakecloud kills fakecloud with SIGKILL, waits downFor, starts it again as it ran
	// and returns once it answers.
	KillFakecloud(ctx context.Context, downFor time.Duration) error
	// RestartNode restarts a node container of the service cluster (stopped downFor when
	// above 0) and returns once the service cluster's API answers again.
	RestartNode(ctx context.Context, node string, downFor time.Duration) error
}

// Dumper writes what helps to understand a failed run into dir: the providers' logs, the
// events of namespace, fakecloud's events and state.
type Dumper interface {
	Dump(ctx context.Context, dir, namespace string) error
}
