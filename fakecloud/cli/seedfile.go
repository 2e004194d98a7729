package cli

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/kaas-sandbox/sandbox/fakecloud/baremetal"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
)

// seedFile is the YAML of `serve --seed FILE`: what a fresh region holds. Every field is
// optional; what is left out keeps its default. It applies on the first start of a --data
// directory (later starts only add what is missing).
type seedFile struct {
	Zones           []string `json:"zones"`
	Hypervisors     int      `json:"hypervisors"`
	ExternalNetwork struct {
		CIDR    string `json:"cidr"`
		Gateway string `json:"gateway"`
	} `json:"externalNetwork"`
	Flavors []struct {
		Name    string `json:"name"`
		VCPUs   int    `json:"vcpus"`
		RAMMiB  int    `json:"ramMiB"`
		DiskGiB int    `json:"diskGiB"`
		// BareMetalClass makes it a bare-metal flavor for Ironic nodes of that resource class.
		BareMetalClass string            `json:"bareMetalClass"`
		ExtraSpecs     map[string]string `json:"extraSpecs"`
	} `json:"flavors"`
	Images struct {
		Kubernetes []string `json:"kubernetes"` // default: the pinned versions
		NamePrefix string   `json:"namePrefix"`
		NodeImage  string   `json:"nodeImage"`
	} `json:"images"`
	BareMetalNodes []struct {
		Name          string `json:"name"`
		ResourceClass string `json:"resourceClass"`
		CPUs          int    `json:"cpus"`
		MemoryMiB     int    `json:"memoryMiB"`
		DiskGB        int    `json:"diskGB"`
	} `json:"bareMetalNodes"`
}

const seedExample = `zones: [nova, az2]
hypervisors: 3
externalNetwork: {cidr: 172.24.4.0/24}
flavors:
  - {name: g1.small, vcpus: 1, ramMiB: 2048, diskGiB: 20}
  - {name: bm1.medium, vcpus: 32, ramMiB: 131072, diskGiB: 960, bareMetalClass: baremetal.medium}
images: {kubernetes: [v1.36.3, v1.37.2]}
bareMetalNodes:
  - {name: metal-0, resourceClass: baremetal.medium, cpus: 32, memoryMiB: 131072, diskGB: 960}`

// applySeedFile reads path into seed.
func applySeedFile(path string, seed *cloud.Seed) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading --seed: %w", err)
	}
	var f seedFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return fmt.Errorf("--seed %s: %w (example:\n%s)", path, err, seedExample)
	}
	seed.Zones, seed.Hypervisors = f.Zones, f.Hypervisors
	if f.ExternalNetwork.CIDR != "" {
		seed.ExternalCIDR, seed.ExternalGW = f.ExternalNetwork.CIDR, f.ExternalNetwork.Gateway
	}
	for i, fl := range f.Flavors {
		if fl.Name == "" || fl.VCPUs <= 0 || fl.RAMMiB <= 0 || fl.DiskGiB < 0 {
			return fmt.Errorf("--seed %s: flavor #%d needs a name, vcpus > 0 and ramMiB > 0", path, i+1)
		}
		specs := map[string]string{}
		for k, v := range fl.ExtraSpecs {
			specs[k] = v
		}
		if fl.BareMetalClass != "" {
			specs["resources:"+baremetal.CustomResourceClass(fl.BareMetalClass)] = "1"
			specs["resources:VCPU"], specs["resources:MEMORY_MB"], specs["resources:DISK_GB"] = "0", "0", "0"
		}
		seed.Flavors = append(seed.Flavors, compute.Flavor{Name: fl.Name, VCPUs: fl.VCPUs, RAM: fl.RAMMiB, Disk: fl.DiskGiB,
			IsPublic: true, RxTxFactor: 1, ExtraSpecs: specs})
	}
	seed.Images.Kubernetes, seed.Images.NamePrefix, seed.Images.NodeImage = f.Images.Kubernetes, f.Images.NamePrefix, f.Images.NodeImage
	if f.BareMetalNodes != nil {
		seed.BareMetal = []baremetal.SeedNode{}
	}
	for i, n := range f.BareMetalNodes {
		if n.Name == "" || n.ResourceClass == "" {
			return fmt.Errorf("--seed %s: bare-metal node #%d needs a name and a resourceClass", path, i+1)
		}
		seed.BareMetal = append(seed.BareMetal, baremetal.SeedNode{Name: n.Name, ResourceClass: n.ResourceClass,
			CPUs: n.CPUs, MemoryMB: n.MemoryMiB, LocalGB: n.DiskGB, CPUArch: "x86_64"})
	}
	return nil
}
