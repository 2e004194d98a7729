//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// kubectlTable is one table of `kubectl get` output: the rows of one resource type, each a map
// from column header to cell. A header that repeats (MachineDeployment's two AVAILABLE
// columns) is named HEADER#2 the second time.
type kubectlTable struct {
	// resource is the part of the NAME column before "/" ("machine.cluster.x-k8s.io") when
	// kubectl prints several types, else "".
	resource string
	rows     []map[string]string
}

// parseKubectlTables splits `kubectl get` output (the default, human-readable format, one table
// per resource type separated by blank lines) into tables. kubectl aligns every cell of a
// column with its header, so each cell is cut at the header's offsets; that keeps empty cells
// and headers with spaces ("CP DESIRED") apart.
func parseKubectlTables(out string) ([]kubectlTable, error) {
	var tables []kubectlTable
	for _, block := range strings.Split(strings.TrimRight(out, "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
			continue
		}
		names, starts := headerColumns(lines[0])
		if len(names) == 0 || names[0] != "NAMESPACE" && names[0] != "NAME" {
			return nil, fmt.Errorf("kubectl output has a table without a NAME header: %q", lines[0])
		}
		t := kubectlTable{}
		for _, line := range lines[1:] {
			row := map[string]string{}
			for i, name := range names {
				end := len(line)
				if i+1 < len(starts) && starts[i+1] < end {
					end = starts[i+1]
				}
				cell := ""
				if starts[i] < end {
					cell = strings.TrimSpace(line[starts[i]:end])
				}
				row[name] = cell
			}
			if res, name, ok := strings.Cut(row["NAME"], "/"); ok {
				t.resource, row["NAME"] = res, name
			}
			t.rows = append(t.rows, row)
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// headerColumns returns a header line's column names (repeats suffixed #2, #3...) and the
// offset each starts at: a column starts after two or more spaces.
func headerColumns(header string) ([]string, []int) {
	var names []string
	var starts []int
	seen := map[string]int{}
	i := 0
	for i < len(header) {
		for i < len(header) && header[i] == ' ' {
			i++
		}
		if i >= len(header) {
			break
		}
		start := i
		for i < len(header) && !(header[i] == ' ' && (i+1 >= len(header) || header[i+1] == ' ')) {
			i++
		}
		name := header[start:i]
		seen[name]++
		if seen[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, seen[name])
		}
		names = append(names, name)
		starts = append(starts, start)
	}
	return names, starts
}

// kubectlGet runs `kubectl get args...` against the cluster of kubeconfig and returns stdout.
func kubectlGet(ctx context.Context, kubectl, kubeconfig string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "get"}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("kubectl get %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return "", fmt.Errorf("kubectl get %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// The resources of `kubectl get clusters,gcorecontrolplanes,machinedeployments,machines` as
// kubectl prefixes their names.
const (
	resCluster           = "cluster.cluster.x-k8s.io"
	resControlPlane      = "gcorecontrolplane.controlplane.cluster.x-k8s.io"
	resMachineDeployment = "machinedeployment.cluster.x-k8s.io"
	resMachine           = "machine.cluster.x-k8s.io"
)

// clusterReadyInTables checks, in the tables of `kubectl get -A
// clusters,gcorecontrolplanes,machinedeployments,machines`, that cluster (in namespace) shows as
// ready in every column that says so, with machines Machines. It returns what is not.
func clusterReadyInTables(tables []kubectlTable, namespace, cluster string, machines int) error {
	rows := map[string][]map[string]string{}
	for _, t := range tables {
		for _, r := range t.rows {
			if r["NAMESPACE"] == namespace {
				rows[t.resource] = append(rows[t.resource], r)
			}
		}
	}
	var problems []string
	expect := func(what string, row map[string]string, col, want string) {
		if got := row[col]; got != want {
			problems = append(problems, fmt.Sprintf("%s: %s is %q, want %q", what, col, got, want))
		}
	}
	same := func(what string, row map[string]string, cols ...string) {
		for _, c := range cols[1:] {
			if row[c] != row[cols[0]] || row[c] == "" {
				problems = append(problems, fmt.Sprintf("%s: %s is %q but %s is %q", what, c, row[c], cols[0], row[cols[0]]))
			}
		}
	}

	if len(rows[resCluster]) != 1 {
		problems = append(problems, fmt.Sprintf("%d Clusters in %s, want 1", len(rows[resCluster]), namespace))
	}
	for _, r := range rows[resCluster] {
		what := "Cluster " + r["NAME"]
		expect(what, r, "NAME", cluster)
		expect(what, r, "AVAILABLE", "True")
		expect(what, r, "PHASE", "Provisioned")
		expect(what, r, "W DESIRED", fmt.Sprint(machines))
		same(what, r, "CP DESIRED", "CP AVAILABLE", "CP UP-TO-DATE")
		same(what, r, "W DESIRED", "W AVAILABLE", "W UP-TO-DATE")
	}

	if len(rows[resControlPlane]) != 1 {
		problems = append(problems, fmt.Sprintf("%d GcoreControlPlanes in %s, want 1", len(rows[resControlPlane]), namespace))
	}
	for _, r := range rows[resControlPlane] {
		what := "GcoreControlPlane " + r["NAME"]
		expect(what, r, "CLUSTER", cluster)
		expect(what, r, "READY", "True")
		expect(what, r, "INITIALIZED", "true")
		same(what, r, "REPLICAS", "UPDATED")
		if r["ENDPOINT"] == "" {
			problems = append(problems, what+": no ENDPOINT")
		}
	}

	if len(rows[resMachineDeployment]) == 0 {
		problems = append(problems, "no MachineDeployment in "+namespace)
	}
	for _, r := range rows[resMachineDeployment] {
		what := "MachineDeployment " + r["NAME"]
		expect(what, r, "CLUSTER", cluster)
		expect(what, r, "AVAILABLE", "True")
		expect(what, r, "PHASE", "Running")
		same(what, r, "DESIRED", "CURRENT", "READY", "AVAILABLE#2", "UP-TO-DATE")
	}

	if len(rows[resMachine]) != machines {
		problems = append(problems, fmt.Sprintf("%d Machines in %s, want %d", len(rows[resMachine]), namespace, machines))
	}
	for _, r := range rows[resMachine] {
		what := "Machine " + r["NAME"]
		expect(what, r, "CLUSTER", cluster)
		expect(what, r, "READY", "True")
		expect(what, r, "AVAILABLE", "True")
		expect(what, r, "UP-TO-DATE", "True")
		expect(what, r, "PHASE", "Running")
		if r["NODE NAME"] == "" {
			problems = append(problems, what+": no NODE NAME")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("kubectl get does not show the cluster ready:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
