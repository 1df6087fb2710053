package luahealth

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The health checks, in the layout of Argo CD's resource_customizations: <group>/<kind>/health.lua with
// health_test.yaml naming samples and the health each must get. A <group>/health.lua serves every kind of the
// group that has no script of its own (argocd-cm gives each kind's key the same text).
const customizations = "../../argocd/resource_customizations"

// The argocd-cm patch engineers apply; its scripts must be the files tested here.
const configMapPatch = "../../examples/gitops/argocd/argocd-cm.yaml"

type healthTests struct {
	Tests []struct {
		HealthStatus HealthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

// readObject reads a YAML resource the way the API server hands it to Argo CD: whole numbers as int64.
func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var object map[string]any
	if err := yaml.Unmarshal(text, &object); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return wholeNumbers(object).(map[string]any)
}

func wholeNumbers(value any) any {
	switch v := value.(type) {
	case float64:
		if v == math.Trunc(v) {
			return int64(v)
		}
	case []any:
		for i := range v {
			v[i] = wholeNumbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = wholeNumbers(v[k])
		}
	}
	return value
}

// samplesRoot is where the samples are: the repository's, or (HEALTH_SAMPLES_ROOT) objects a test has just
// recorded from the operator on a real API server, in the same layout, whose health the test judges itself from
// the RESULT lines (HEALTH_PRINT=1).
func samplesRoot() string {
	if r := os.Getenv("HEALTH_SAMPLES_ROOT"); r != "" {
		return r
	}
	return customizations
}

func checkDirs(t *testing.T) []string {
	t.Helper()
	root := samplesRoot()
	entries, err := filepath.Glob(filepath.Join(root, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, entry := range entries {
		if info, err := os.Stat(entry); err == nil && info.IsDir() {
			dirs = append(dirs, entry)
		}
	}
	if len(dirs) < 2 {
		t.Fatalf("expected the PeeringRequest and PeeringSession checks under %s, found %v", root, dirs)
	}
	return dirs
}

// scriptFor reads the health check of a kind's folder in the repository: its own health.lua, or its group's.
func scriptFor(t *testing.T, dir string) []byte {
	t.Helper()
	dir = filepath.Join(customizations, filepath.Base(filepath.Dir(dir)), filepath.Base(dir))
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if os.IsNotExist(err) {
		script, err = os.ReadFile(filepath.Join(filepath.Dir(dir), "health.lua"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return script
}

func TestHealthChecksOnEverySample(t *testing.T) {
	for _, dir := range checkDirs(t) {
		kind := filepath.Base(dir)
		script := scriptFor(t, dir)
		text, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var cases healthTests
		if err := yaml.UnmarshalStrict(text, &cases); err != nil {
			t.Fatalf("%s/health_test.yaml: %v", dir, err)
		}
		if len(cases.Tests) == 0 {
			t.Fatalf("%s/health_test.yaml has no tests", dir)
		}
		for _, c := range cases.Tests {
			t.Run(kind+"/"+strings.TrimSuffix(filepath.Base(c.InputPath), ".yaml"), func(t *testing.T) {
				object := readObject(t, filepath.Join(dir, c.InputPath))
				if object["kind"] != kind {
					t.Fatalf("%s is a %v, not a %s", c.InputPath, object["kind"], kind)
				}
				got, err := RunHealthScript(object, string(script))
				if err != nil {
					t.Fatalf("health.lua failed: %v", err)
				}
				if os.Getenv("HEALTH_PRINT") == "1" {
					printed, _ := json.Marshal(got)
					t.Logf("RESULT %s/%s %s", kind, c.InputPath, printed)
					return
				}
				if *got != c.HealthStatus {
					t.Errorf("got %+v, want %+v", *got, c.HealthStatus)
				}
			})
		}
	}
}

// The checks must not lean on libraries Argo CD leaves out of custom checks: if this VM had the string library,
// a script using it would pass here and fail there.
func TestTheVMIsAsRestrictedAsArgoCDs(t *testing.T) {
	object := map[string]any{"kind": "PeeringSession"}
	for _, script := range []string{
		`return { status = string.format("%s", "Healthy") }`,
		`return { status = ("Healthy"):lower() }`,
		`os.execute("true") return { status = "Healthy" }`,
		`io.write("x") return { status = "Healthy" }`,
	} {
		if got, err := RunHealthScript(object, script); err == nil {
			t.Errorf("%q ran (got %+v); Argo CD would fail it", script, *got)
		}
	}
	got, err := RunHealthScript(object, `local t = {} table.insert(t, "Healthy") return { status = t[1] }`)
	if err != nil || got.Status != "Healthy" {
		t.Errorf("the table library must work: %+v, %v", got, err)
	}
	got, err = RunHealthScript(object, `return { status = "Fine" }`)
	if err != nil || *got != (HealthStatus{Status: "Unknown", Message: invalidHealthStatus}) {
		t.Errorf("an invalid status must become Unknown: %+v, %v", got, err)
	}
	if _, err := RunHealthScript(object, `while true do end`); err == nil {
		t.Error("an endless script must be stopped by the one-second deadline")
	}
}

// examples/gitops/argocd/argocd-cm.yaml carries the scripts into Argo CD: it must hold exactly these files.
func TestArgoCDConfigMapCarriesTheseScripts(t *testing.T) {
	text, err := os.ReadFile(configMapPatch)
	if err != nil {
		t.Fatal(err)
	}
	var configMap struct {
		Kind     string                `json:"kind"`
		Metadata struct{ Name string } `json:"metadata"`
		Data     map[string]string     `json:"data"`
	}
	if err := yaml.Unmarshal(text, &configMap); err != nil {
		t.Fatal(err)
	}
	if configMap.Kind != "ConfigMap" || configMap.Metadata.Name != "argocd-cm" {
		t.Fatalf("%s is not the argocd-cm ConfigMap", configMapPatch)
	}
	for _, dir := range checkDirs(t) {
		group, kind := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		key := "resource.customizations.health." + group + "_" + kind
		if configMap.Data[key] != string(scriptFor(t, dir)) {
			t.Errorf("%s: data[%q] differs from the health.lua of %s (copy the file into it)", configMapPatch, key, dir)
		}
	}
}
