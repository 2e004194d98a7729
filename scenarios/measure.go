package scenarios

// Measure reports the time from one mark to another, e.g. from a fault's end to the control
// plane Ready, and fails the scenario when it exceeds the SLO (as kube-burner's thresholds do).
type Measure struct {
	// Name names the figure, e.g. recovery; unique in the scenario.
	Name string `yaml:"name"`
	// From is a mark set by an earlier step.
	From string `yaml:"from"`
	// To is a mark set by an earlier step.
	To string `yaml:"to"`
	// SLO, when set, is the longest the measure may be.
	SLO Duration `yaml:"slo,omitempty"`
}

func (v *validator) mark(p fieldPath, name string) {
	v.label(p, name)
	if v.marks[name] {
		v.errorf(p, "mark %q is already set by an earlier step", name)
	}
	v.marks[name] = true
}

func (m *Measure) validate(v *validator, p fieldPath) {
	if m.Name == "" {
		v.errorf(p.Key("name"), "required: the figure's name, e.g. recovery")
	} else {
		v.label(p.Key("name"), m.Name)
		if v.measures[m.Name] {
			v.errorf(p.Key("name"), "measure %q is already reported by an earlier step", m.Name)
		}
		v.measures[m.Name] = true
	}
	for key, mark := range map[string]string{"from": m.From, "to": m.To} {
		switch {
		case mark == "":
			v.errorf(p.Key(key), "required: a mark set by an earlier step")
		case !v.marks[mark]:
			v.errorf(p.Key(key), "unknown mark %q: no earlier step sets it", mark)
		}
	}
	if m.From != "" && m.From == m.To {
		v.errorf(p.Key("to"), "from and to are the same mark")
	}
	if m.SLO.Duration < 0 {
		v.errorf(p.Key("slo"), "must not be negative")
	}
}
