package runner

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes the results as a Markdown table: scenario, Kubernetes version, result,
// the failed step with its message, each measurement against its SLO, the cloud events during
// each fault, and the leaks; then, for each failed run, the last conditions seen.
func WriteMarkdown(w io.Writer, results []*Result) error {
	var b strings.Builder
	b.WriteString("| Scenario | Kubernetes | Result | Failed step | Measurements | Cloud events during faults | Leaks and duplicates |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(r.Scenario), cell(r.KubernetesVersion), cell(resultCell(r)),
			cell(failedCell(r)), cell(measurementsCell(r)), cell(faultsCell(r)), cell(leaksCell(r)))
	}
	b.WriteString("\nCloud events are fakecloud's state changes (resources made, changed, deleted; tasks done) while a fault held; fakecloud does not count API calls.\n")
	for _, r := range results {
		s := r.FailedStep()
		if s == nil && len(r.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", r.Scenario)
		if s != nil {
			fmt.Fprintf(&b, "Failed at %s step %d, %s, after %s:\n\n```\n%s\n```\n", s.Phase, s.Index+1, s.Title, round(s.Duration), s.Error)
			if s.CloudMessage != "" {
				fmt.Fprintf(&b, "\nThe cloud's message: %s\n", s.CloudMessage)
			}
			if len(s.Conditions) > 0 {
				b.WriteString("\nLast conditions seen:\n\n")
				for _, c := range s.Conditions {
					fmt.Fprintf(&b, "- %s\n", c)
				}
			}
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "\nNote: %s\n", n)
		}
		if r.ArtifactsDir != "" {
			fmt.Fprintf(&b, "\nArtifacts: `%s`\n", r.ArtifactsDir)
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing the Markdown report: %w", err)
	}
	return nil
}

func resultCell(r *Result) string {
	if r.Passed() {
		return "passed"
	}
	return "**FAILED**"
}

func failedCell(r *Result) string {
	s := r.FailedStep()
	if s == nil {
		if m := r.MissedSLOs(); len(m) > 0 {
			return "SLO missed"
		}
		return ""
	}
	msg := fmt.Sprintf("%s %d %s: %s", s.Phase, s.Index+1, s.Title, oneLine(s.Error, 300))
	if s.CloudMessage != "" {
		msg += " (cloud: " + oneLine(s.CloudMessage, 200) + ")"
	}
	return msg
}

func measurementsCell(r *Result) string {
	parts := make([]string, 0, len(r.Measurements))
	for _, m := range r.Measurements {
		parts = append(parts, m.Name+" "+m.String())
	}
	return strings.Join(parts, "; ")
}

func faultsCell(r *Result) string {
	parts := make([]string, 0, len(r.Faults))
	for _, f := range r.Faults {
		n := strconv.Itoa(f.CloudEvents)
		if f.CloudEvents < 0 {
			n = "n/a"
		}
		name := f.Name
		if name == "" {
			name = f.ID
		}
		parts = append(parts, fmt.Sprintf("%s: %s in %s", name, n, round(f.End.Sub(f.Start))))
	}
	return strings.Join(parts, "; ")
}

func leaksCell(r *Result) string {
	var parts []string
	if len(r.Leaks) > 0 {
		parts = append(parts, "left: "+strings.Join(r.Leaks, ", "))
	}
	if len(r.Duplicates) > 0 {
		parts = append(parts, "duplicated: "+strings.Join(r.Duplicates, ", "))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// cell escapes a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", " ")
}

// JUnit's XML, as Jenkins, GitLab and GitHub's reporters read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as JUnit XML: one testcase per scenario run, its measurements,
// fault windows and leaks as properties, and a failure with the failed step's message.
func WriteJUnit(w io.Writer, results []*Result) error {
	suite := junitSuite{Name: "scenarios", Tests: len(results)}
	var total time.Duration
	for _, r := range results {
		total += r.Duration
		if suite.Timestamp == "" && !r.Started.IsZero() {
			suite.Timestamp = r.Started.UTC().Format(time.RFC3339)
		}
		tc := junitCase{Name: r.Scenario, Classname: "scenarios." + r.Scenario, Time: seconds(r.Duration)}
		prop := func(k, v string) { tc.Properties = append(tc.Properties, junitProperty{Name: k, Value: v}) }
		prop("kubernetes-version", r.KubernetesVersion)
		prop("cluster", r.Namespace+"/"+r.ClusterName)
		for _, m := range r.Measurements {
			prop("measure."+m.Name, seconds(m.Value))
			if m.SLO > 0 {
				prop("measure."+m.Name+".slo", seconds(m.SLO))
				prop("measure."+m.Name+".met", strconv.FormatBool(m.Met()))
			}
		}
		for _, f := range r.Faults {
			prop("fault."+f.Name+".cloud-events", strconv.Itoa(f.CloudEvents))
			prop("fault."+f.Name+".duration", seconds(f.End.Sub(f.Start)))
			if f.Seed != nil {
				prop("fault."+f.Name+".seed", strconv.FormatInt(*f.Seed, 10))
			}
		}
		prop("leaks", strconv.Itoa(len(r.Leaks)))
		prop("duplicates", strconv.Itoa(len(r.Duplicates)))
		if !r.Passed() {
			suite.Failures++
			f := &junitFailure{Type: "ScenarioFailed", Message: r.Verdict()}
			var text strings.Builder
			if s := r.FailedStep(); s != nil {
				f.Message = oneLine(fmt.Sprintf("%s: %s", r.Verdict(), s.Error), 1000)
				fmt.Fprintf(&text, "%s\n", s.Error)
				if s.CloudMessage != "" {
					fmt.Fprintf(&text, "cloud's message: %s\n", s.CloudMessage)
				}
				for _, c := range s.Conditions {
					fmt.Fprintf(&text, "last seen: %s\n", c)
				}
			}
			for _, m := range r.MissedSLOs() {
				fmt.Fprintf(&text, "SLO missed: %s %s\n", m.Name, m)
			}
			for _, l := range r.Leaks {
				fmt.Fprintf(&text, "left in the cloud: %s\n", l)
			}
			for _, d := range r.Duplicates {
				fmt.Fprintf(&text, "duplicated in the cloud: %s\n", d)
			}
			if r.ArtifactsDir != "" {
				fmt.Fprintf(&text, "artifacts: %s\n", r.ArtifactsDir)
			}
			f.Text = text.String()
			tc.Failure = f
		}
		tc.SystemOut = strings.Join(r.Notes, "\n")
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = seconds(total)
	doc := junitSuites{Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
